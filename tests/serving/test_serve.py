"""`clinic-env serve` end to end on vLLM's CPU build: a tiny model quantized to W4A16 with fp8
KV scales (in the llm-compressor environment), served with an fp8 KV cache, benchmarked through
the clinic; and EAGLE-3 speculative decoding with the target's twin draft, which must leave
greedy output unchanged and be accepted almost always."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

pytest.importorskip("vllm")
QUANTIZE_PYTHON = os.environ.get("CLINIC_ENV_QUANTIZE_PYTHON")
if not QUANTIZE_PYTHON:
    pytest.skip("needs CLINIC_ENV_QUANTIZE_PYTHON, the llm-compressor environment's python "
                "(tests/serving/run.sh sets it)", allow_module_level=True)

from clinic_agents.eagle3 import write_twin_draft  # noqa: E402
from clinic_agents.serve import VLLMServer  # noqa: E402
from clinic_cli.main import main  # noqa: E402

VLLM = {"max_model_len": 1024, "extra": ["--enforce-eager", "--dtype", "bfloat16"],
        "env": {"VLLM_CPU_KVCACHE_SPACE": "1"}}
# Each starts with the same marker: an EAGLE-3 draft never sees a prompt's first token.
PROMPTS = [f"<|user|> {text}" for text in ("I have had a cough", "when did the", "ORDER: chest", "PLAN: antibiotics",
                                            "DIAGNOSE: pneumonia ;")]


def quantize_elsewhere(model_dir, out, calibration_files):
    calibration, heldout = calibration_files
    subprocess.run([QUANTIZE_PYTHON, "-m", "clinic_cli", "quantize", str(model_dir), "--out", str(out),
                    "--method", "gptq", "--group-size", "64", "--kv-cache", "fp8", "--calibration", str(calibration),
                    "--heldout", str(heldout), "--max-seq-length", "128"], check=True)
    return out


def test_a_quantized_model_served_with_fp8_kv_runs_a_clinic_benchmark(tiny_model_dir, calibration_files, tmp_path,
                                                                       monkeypatch):
    quantized = quantize_elsewhere(tiny_model_dir, tmp_path / "w4a16", calibration_files)
    with VLLMServer(quantized, kv_cache_dtype="fp8", served_name="doctor", **VLLM) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "none")
        out = tmp_path / "bench"
        assert main(["bench", "--doctor", "openai:doctor", "--cases", "ids:pulm_cap_adult,cardio_new_af",
                     "--max-turns", "3", "--out", str(out), "--no-progress"]) == 0
        log = server.log_path.read_text()
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == 2 and all(r["llm"]["calls"] >= 1 for r in results)
    assert "fp8" in log and "compressed" in log.lower()  # the fp8 KV cache and the W4A16 checkpoint were used


def served_greedy(model_dir, **options):
    """Greedy continuations of the prompts, and the server's metrics."""
    with VLLMServer(model_dir, kv_cache_dtype="fp8", **options, **VLLM) as server:
        return [server.complete(p, 24) for p in PROMPTS], server.metrics()


def acceptance(metrics):
    drafted = metrics["vllm:spec_decode_num_draft_tokens_total"]
    assert drafted > 0
    return metrics["vllm:spec_decode_num_accepted_tokens_total"] / drafted


def test_an_eagle3_twin_draft_keeps_greedy_output_and_is_accepted(twin_target_dir, calibration_files, tmp_path):
    draft = write_twin_draft(twin_target_dir, tmp_path / "eagle3-twin")
    plain, _ = served_greedy(twin_target_dir)
    speculative, metrics = served_greedy(twin_target_dir, draft=draft, num_speculative_tokens=3)
    assert speculative == plain and acceptance(metrics) >= 0.9  # the twin computes the target's function
    # Baichuan-M2's deployment: W4A16 weights, fp8 KV cache, EAGLE-3 (the twin of the unquantized model)
    target = quantize_elsewhere(twin_target_dir, tmp_path / "target-w4a16", calibration_files)
    plain, _ = served_greedy(target)
    speculative, metrics = served_greedy(target, draft=draft, num_speculative_tokens=3)
    assert speculative == plain and acceptance(metrics) >= 0.5
