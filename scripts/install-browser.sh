#!/usr/bin/env bash
# Installs what the console's browser tests (tests/it/console.rs) drive: Debian's Chromium and
# its ChromeDriver, at /usr/bin/chromium and /usr/bin/chromedriver. Does nothing when both are
# there. Needs root (or sudo) and Debian's package archive; the tests fail, never skip,
# without them.
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
fi
echo "== installing chromium and chromium-driver (Debian packages) for the console's browser tests"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium chromium-driver

for tool in /usr/bin/chromium /usr/bin/chromedriver; do
    if [[ ! -x $tool ]]; then
        echo "install-browser: $tool is still missing after the install" >&2
        exit 1
    fi
done
