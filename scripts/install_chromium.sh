#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/test_ui_browser.py): playwright's own browser download
# does not work offline, so the tests drive /usr/bin/chromium. Safe to run again: does nothing when present.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "installing chromium needs root (or sudo)" >&2; exit 1; }
    SUDO="sudo"
fi

echo "chromium not found at $CHROMIUM: installing the Debian package (about 480 MB)"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
echo "installed: $("$CHROMIUM" --version 2>/dev/null)"
