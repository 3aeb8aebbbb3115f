#!/usr/bin/env bash
# Create .venv/ in the repository and install rmnas-nni into it (idempotent).
# The CPU build of torch is pinned and installed first: an unpinned torch would
# pull a CUDA build of several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_SPEC=${RMNAS_TORCH:-torch==2.13.0}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
. .venv/bin/activate
pip install -q --upgrade pip 'setuptools>=64,<81' wheel
pip install -q "$TORCH_SPEC"
pip install -q --no-build-isolation -e '.[test]'
python -c "import torch, nni, pytorch_lightning; print('rmnas-nni environment ready: torch', torch.__version__, '| nni', nni.__version__, '| lightning', pytorch_lightning.__version__)" 2>/dev/null
