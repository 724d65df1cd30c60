#!/usr/bin/env bash
# Roster's test command (the one README and .ci/run use):
#
#   bash scripts/test.sh [extra `cargo test` args...]
#
# 1. makes sure a PostgreSQL answers at ROSTER_TEST_POSTGRES_URL (default
#    postgres://postgres@127.0.0.1:5432/postgres), starting a throwaway cluster when the
#    default one is down (see scripts/pg-throwaway.sh; ROSTER_PG_THROWAWAY=1 forces one);
#    the integration tests need it and fail, never skip, without it;
# 2. installs Debian's chromium and chromium-driver when missing (scripts/install-browser.sh):
#    the console's tests drive a real browser and fail, never skip, without one;
# 3. cargo fmt --check
# 4. cargo clippy --all-targets -- -D warnings
# 5. cargo test "$@"
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/pg-throwaway.sh
. scripts/pg-throwaway.sh
trap roster_pg_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== PostgreSQL"
roster_pg_ensure
echo "ROSTER_TEST_POSTGRES_URL=$(roster_pg_redact "$ROSTER_TEST_POSTGRES_URL")"

echo "== browser"
bash scripts/install-browser.sh
/usr/bin/chromium --version
/usr/bin/chromedriver --version

echo "== cargo fmt --check"
cargo fmt --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "== cargo test $*"
cargo test "$@"
