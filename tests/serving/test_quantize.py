"""`clinic-env quantize`: a W4A16 compressed-tensors checkpoint with fp8 KV scales, through
llm-compressor (its own virtual environment: tests/serving/run.sh)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("llmcompressor")
import torch  # noqa: E402

from clinic_agents.quantize import QuantizeError, quantize, tensor_bytes  # noqa: E402
from clinic_cli.main import main  # noqa: E402


@pytest.fixture(scope="module")
def checkpoints(tiny_model_dir, calibration_files, tmp_path_factory):
    """The tiny model quantized with GPTQ (through the command line) and with RTN."""
    calibration, heldout = calibration_files
    out = tmp_path_factory.mktemp("quantized")
    assert main(["quantize", str(tiny_model_dir), "--out", str(out / "gptq"), "--method", "gptq", "--group-size", "64",
                 "--kv-cache", "fp8", "--calibration", str(calibration), "--heldout", str(heldout),
                 "--max-seq-length", "128"]) == 0
    quantize(tiny_model_dir, out / "rtn", method="rtn", group_size=64, kv_cache="fp8", calibration=str(calibration),
             heldout=str(heldout), max_seq_length=128)
    return {method: json.loads((out / method / "quantization_report.json").read_text()) for method in ("gptq", "rtn")}


def test_the_checkpoint_is_pack_quantized_4_bit_with_fp8_kv_scales(checkpoints):
    out = checkpoints["gptq"]["out"]
    config = json.loads(open(f"{out}/config.json").read())["quantization_config"]
    weights = config["config_groups"]["group_0"]["weights"]
    assert (config["quant_method"], config["format"], weights["num_bits"], weights["group_size"]) == \
        ("compressed-tensors", "pack-quantized", 4, 64)
    assert config["kv_cache_scheme"]["num_bits"] == 8 and config["kv_cache_scheme"]["type"] == "float"
    assert config["ignore"] == ["lm_head"]
    names = set(tensor_bytes(out))
    projections = {n.rsplit(".", 1)[0] for n in names if n.endswith(".weight_packed")}
    assert len(projections) == 2 * 7  # q, k, v, o, gate, up, down in each of the two layers
    assert all(f"{p}.weight_scale" in names and f"{p}.weight" not in names for p in projections)
    assert "lm_head.weight" in names and "lm_head.weight_packed" not in names  # the head stays unquantized
    for layer in range(2):
        assert {f"model.layers.{layer}.self_attn.k_scale", f"model.layers.{layer}.self_attn.v_scale"} <= names


def test_4_bit_weights_are_small_and_gptq_beats_rtn(checkpoints):
    gptq, rtn = checkpoints["gptq"], checkpoints["rtn"]
    assert gptq["linear_bytes"]["ratio"] >= 3.5  # against the same weights in bf16
    assert gptq["heldout"]["positions"] > 100
    assert gptq["heldout"]["relative_error"] <= 0.10
    assert gptq["heldout"]["relative_error"] < rtn["heldout"]["relative_error"]
    assert gptq["heldout"]["top1_agreement"] >= 0.8


def test_calibration_can_be_the_models_own_consultations(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from clinic_agents.quantize import calibration_and_heldout

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts, heldout = calibration_and_heldout("consultations:2", model, tokenizer)
    assert len(texts) == 2 and len(heldout) == 1 and texts[0] != texts[1]
    assert all("<|assistant|>" in t for t in texts + heldout)  # the doctor's own turns, through the template


def test_bad_requests_name_the_argument(tiny_model_dir, tmp_path):
    with pytest.raises(QuantizeError, match="--group-size 48: model.layers.0.self_attn.q_proj has 128 inputs"):
        quantize(tiny_model_dir, tmp_path / "x", group_size=48, calibration="consultations:1")
    with pytest.raises(QuantizeError, match="expected consultations:N with N >= 1"):
        quantize(tiny_model_dir, tmp_path / "y", group_size=64, calibration="consultations:zero")
    (tmp_path / "bad.jsonl").write_text('{"text": "fine"}\n{"prompt": 3}\n')
    with pytest.raises(QuantizeError, match=r"bad.jsonl:2: a record needs 'text'"):
        quantize(tiny_model_dir, tmp_path / "z", group_size=64, calibration=str(tmp_path / "bad.jsonl"))
