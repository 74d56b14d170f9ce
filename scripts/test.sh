#!/usr/bin/env bash
# The whole test suite, as `make test` (and so CI) runs it. Installs the browser the UI test drives.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_chromium.sh || { echo "could not install chromium (needed by the browser test)" >&2; exit 1; }

.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure, not a pass" >&2
    exit 1
fi
exit "$status"
