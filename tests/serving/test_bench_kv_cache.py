"""benchmarks/bench_kv_cache.py runs wherever the project builds an environment with transformers:
the main suite's and both serving environments (whose transformers releases differ), so a
release that moves the cache API shows up here, not in a user's benchmark."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_kv_cache.py"


def test_the_kv_cache_benchmark_runs_in_this_environment(tmp_path):
    run = subprocess.run([sys.executable, str(BENCH), "--tokens", "64", "--prefill", "8"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {line.split(" bytes ")[0].strip(): line for line in run.stdout.splitlines() if " bytes " in line}
    ours = rows["fp8 per head, headroom 4 (clinic_agents.kv_cache)"]
    assert "0.500 of bf16" in ours
    assert 0 < float(re.search(r"logits error ([\d.]+)", ours).group(1)) <= 0.05
    has_backend = any("QuantizedCache" in name for name in rows)
    assert has_backend or f"transformers {transformers.__version__}: no fp8 QuantizedCache" in run.stdout
