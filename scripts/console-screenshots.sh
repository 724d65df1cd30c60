#!/usr/bin/env bash
# Saves screenshots of the admin console's main pages and the customer's setup page into docs/console/ (laptop 1280x860 and
# phone 390x844), taken by the console's browser test on SQLite as it walks the pages:
#
#   bash scripts/console-screenshots.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-browser.sh
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
ROSTER_CONSOLE_SCREENSHOTS="$PWD/docs/console" \
    cargo test --test it console::an_operator_makes_a_directory_and_watches_it_fill::sqlite
ROSTER_CONSOLE_SCREENSHOTS="$PWD/docs/console" \
    cargo test --test it console::a_directory_page_shows_its_roles_and_custom_attributes::sqlite
ROSTER_CONSOLE_SCREENSHOTS="$PWD/docs/console" \
    cargo test --test it setup_page::setup_page_connects_an_idp::sqlite
ls -l docs/console/*.png
