#!/usr/bin/env bash
# The whole test suite, as `make test` (and so CI) runs it. Installs the browser the UI test drives.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_chromium.sh || { echo "could not install chromium (needed by the browser test)" >&2; exit 1; }

# CI runs the vLLM conformance test (tests/test_vllm_conformance.py), which needs .venv-vllm.
if [ -n "${CI:-}" ] || [ "${VLLM_CONFORMANCE:-}" = 1 ]; then
    make vllm-venv || { echo "could not build .venv-vllm (needed by the vLLM conformance test)" >&2; exit 1; }
fi

.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure, not a pass" >&2
    exit 1
fi
exit "$status"
