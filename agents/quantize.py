"""``clinic-env quantize MODEL_DIR``: 4-bit weights (W4A16) and an fp8 KV cache, as Baichuan-M2 ships.

    report = quantize("runs/doctor", "runs/doctor-w4a16", method="gptq", group_size=128, kv_cache="fp8",
                      calibration="consultations:64")
    report["linear_bytes"]["ratio"], report["heldout"]["relative_error"], report["heldout"]["top1_agreement"]

Post-training quantization through llm-compressor's ``oneshot`` (the ``[quantize]`` extra,
in an environment of its own: it pins other transformers / compressed-tensors versions than
vLLM). Every ``Linear`` but ``lm_head`` gets symmetric int4 weights with one scale per
``group_size`` inputs; GPTQ fits them to calibration activations layer by layer, RTN rounds
to nearest (the baseline GPTQ must beat). With ``kv_cache="fp8"`` each attention layer also
gets static per-tensor k/v scales, so vLLM can keep its KV cache in fp8
(``--kv-cache-dtype fp8``) and fit twice the context. The output is a compressed-tensors
"pack-quantized" checkpoint that vLLM loads as it is.

Calibration text, as Baichuan-M2 calibrated on its own outputs:
  ``consultations:N``  N consultations on the builtin train cases with this model as the
                       doctor (offline patient), rendered through its chat template; the
                       held-out text is N/4 consultations on the test cases.
  ``FILE``             .txt (one text per blank-line-separated paragraph) or .jsonl (a
                       ``text`` field, or ``messages`` rendered through the chat template);
                       the last tenth is held out.
``heldout`` (same forms) names the held-out text instead; then all of the calibration
text calibrates.

The report (``OUT/quantization_report.json``): linear-weight bytes against the same weights
in bf16, and, on the held-out text, the relative error of the logits (||q - o|| / ||o||) and
the share of positions where the top-1 token agrees, the written checkpoint reloaded against
the bf16 model it came from. Only one model is in memory at a time.
"""

from __future__ import annotations

import json
import math
import struct
import time
from pathlib import Path
from typing import Any

import torch

SCHEMES = {"w4a16": 4}  # scheme -> weight bits (activations stay 16-bit)
METHODS = ("gptq", "rtn")
DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
               "F8_E4M3": 1, "F8_E5M2": 1, "BOOL": 1}


class QuantizeError(ValueError):
    """A quantization request that cannot run; the message names the argument."""


def recipe(method: str, bits: int, group_size: int, kv_cache: str | None) -> Any:
    """llm-compressor's modifier for int weights in groups (and fp8 KV-cache scales)."""
    from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
    from llmcompressor.modifiers.quantization import GPTQModifier, QuantizationModifier

    weights = QuantizationArgs(num_bits=bits, type="int", symmetric=True, strategy="group", group_size=group_size)
    kv = QuantizationArgs(num_bits=8, type="float", strategy="tensor", dynamic=False, symmetric=True) \
        if kv_cache == "fp8" else None
    settings = {"config_groups": {"group_0": QuantizationScheme(targets=["Linear"], weights=weights)},
                "ignore": ["lm_head"], "kv_cache_scheme": kv}
    return GPTQModifier(block_size=128, dampening_frac=0.01, **settings) if method == "gptq" \
        else QuantizationModifier(**settings)


def consultation_texts(model: Any, tokenizer: Any, n: int, split: str, seed: int = 0,
                       max_new_tokens: int = 128) -> list[str]:
    """``n`` consultations played by the model itself (greedy), as chat-template text."""
    import gymnasium as gym

    from clinic_agents.transformers_doctor import TransformersDoctor
    from clinic_env.rollout import run_consultation

    doctor = TransformersDoctor(model, tokenizer, max_new_tokens=max_new_tokens)
    env = gym.make("clinic_env/Consultation-v0", split=split, max_turns=8)  # registered on importing clinic_env
    texts = []
    for i in range(n):
        result = run_consultation(env, doctor, seed=seed + i)
        texts.append(tokenizer.apply_chat_template(result.info["messages"], tokenize=False))
    env.close()
    return texts


def file_texts(path: str | Path, tokenizer: Any) -> list[str]:
    """Texts of a .txt (paragraphs) or .jsonl (``text`` or ``messages``) file."""
    path = Path(path)
    if not path.is_file():
        raise QuantizeError(f"--calibration {path}: no such file (or use consultations:N)")
    if path.suffix == ".jsonl":
        texts = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as err:
                raise QuantizeError(f"{path}:{number}: not JSON: {err}") from None
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                texts.append(record["text"])
            elif isinstance(record, dict) and isinstance(record.get("messages"), list):
                texts.append(tokenizer.apply_chat_template(record["messages"], tokenize=False))
            else:
                raise QuantizeError(f"{path}:{number}: a record needs 'text' (a string) or 'messages' (a list)")
    else:
        texts = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    if len(texts) < 2:
        raise QuantizeError(f"{path}: needs at least 2 texts (one is held out), found {len(texts)}")
    return texts


def _consultations(spec: str, flag: str) -> int | None:
    """N of a ``consultations:N`` spec; None for a file."""
    if not spec.startswith("consultations:"):
        return None
    n = spec.split(":", 1)[1]
    if not n.isdigit() or int(n) < 1:
        raise QuantizeError(f"{flag} {spec!r}: expected consultations:N with N >= 1")
    return int(n)


def calibration_and_heldout(spec: str, model: Any, tokenizer: Any,
                            heldout: str | None = None) -> tuple[list[str], list[str]]:
    """The calibration texts and the held-out texts of the report (``heldout``'s, else held out
    from ``spec``: test-split consultations, or a file's last tenth)."""
    n = _consultations(spec, "--calibration")
    if n is not None:
        texts = consultation_texts(model, tokenizer, n, "train")
        held = [] if heldout else consultation_texts(model, tokenizer, max(1, n // 4), "test")
    else:
        texts = file_texts(spec, tokenizer)
        cut = len(texts) if heldout else len(texts) - max(1, len(texts) // 10)
        texts, held = texts[:cut], texts[cut:]
    if heldout:
        m = _consultations(heldout, "--heldout")
        held = consultation_texts(model, tokenizer, m, "test") if m else file_texts(heldout, tokenizer)
    return texts, held


def tensor_bytes(directory: str | Path) -> dict[str, int]:
    """Bytes of every tensor in a directory's safetensors files, read from their headers only."""
    sizes: dict[str, int] = {}
    for file in sorted(Path(directory).glob("*.safetensors")):
        with file.open("rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        for name, entry in header.items():
            if name != "__metadata__":
                sizes[name] = math.prod(entry["shape"]) * DTYPE_BYTES[entry["dtype"]]
    return sizes


def linear_weights(model: Any) -> dict[str, int]:
    """The Linear layers to quantize (all but ``lm_head``) and their weight counts."""
    return {name: module.weight.numel() for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and not name.endswith("lm_head")}


def linear_bytes(weights: dict[str, int], quantized_dir: str | Path) -> dict[str, Any]:
    """The quantized Linear layers' bytes in the checkpoint (packed weights, scales, shapes)
    against the same weights in bf16."""
    quantized = sum(size for tensor, size in tensor_bytes(quantized_dir).items()
                    if any(tensor.startswith(name + ".weight") for name in weights))
    bf16 = 2 * sum(weights.values())
    return {"layers": len(weights), "bf16": bf16, "quantized": quantized, "ratio": bf16 / max(1, quantized)}


@torch.no_grad()
def logits_of(model: Any, tokenizer: Any, texts: list[str], max_length: int = 512) -> list[torch.Tensor]:
    """Each text's logits (float32, on the CPU), to compare a model with its quantized self
    without holding both at once."""
    return [model(input_ids=tokenizer(text, return_tensors="pt", truncation=True, max_length=max_length)
                  ["input_ids"].to(model.device)).logits[0].float().cpu() for text in texts]


def agreement(reference: list[torch.Tensor], candidate: list[torch.Tensor]) -> dict[str, float]:
    """Relative logits error ||q - o|| / ||o|| and top-1 agreement over all positions."""
    error = sum(float((c - r).pow(2).sum()) for r, c in zip(reference, candidate))
    norm = sum(float(r.pow(2).sum()) for r in reference)
    agree = sum(int((c.argmax(-1) == r.argmax(-1)).sum()) for r, c in zip(reference, candidate))
    positions = sum(r.shape[0] for r in reference)
    return {"relative_error": math.sqrt(error / norm), "top1_agreement": agree / positions, "positions": positions}


def quantize(model_dir: str | Path, out: str | Path, scheme: str = "w4a16", method: str = "gptq",
             group_size: int = 128, kv_cache: str | None = None, calibration: str = "consultations:32",
             heldout: str | None = None, max_seq_length: int = 2048) -> dict[str, Any]:
    """Quantize, write the checkpoint and its report, and return the report."""
    if scheme not in SCHEMES:
        raise QuantizeError(f"--scheme {scheme!r}: supported: {sorted(SCHEMES)}")
    if method not in METHODS:
        raise QuantizeError(f"--method {method!r}: supported: {list(METHODS)}")
    if kv_cache not in (None, "fp8"):
        raise QuantizeError(f"--kv-cache {kv_cache!r}: supported: fp8")
    try:
        from llmcompressor import oneshot
    except ImportError as err:
        raise ImportError(f"quantize needs llm-compressor: pip install 'clinic-env[quantize]' ({err})") from None
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = Path(out)
    if (out / "config.json").exists():
        raise QuantizeError(f"--out {out} already holds a model; choose another directory")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    # One model in memory at a time: the bf16 model plays the calibration consultations, gives
    # the reference logits, and is then quantized in place; the written checkpoint is reloaded.
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    _check_group_size(model, group_size)
    weights = linear_weights(model)
    started = time.perf_counter()
    texts, held = calibration_and_heldout(calibration, model, tokenizer, heldout)
    reference = logits_of(model, tokenizer, held)
    oneshot(model=model, tokenizer=tokenizer, recipe=recipe(method, SCHEMES[scheme], group_size, kv_cache),
            dataset=Dataset.from_dict({"text": texts}), num_calibration_samples=len(texts),
            max_seq_length=max_seq_length, shuffle_calibration_samples=False)
    model.save_pretrained(out, save_compressed=True)
    tokenizer.save_pretrained(out)
    seconds = time.perf_counter() - started
    del model
    reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.bfloat16).eval()
    report = {"model": str(model_dir), "out": str(out), "scheme": scheme, "method": method, "group_size": group_size,
              "kv_cache": kv_cache, "calibration": {"spec": calibration, "texts": len(texts)},
              "seconds": round(seconds, 1), "linear_bytes": linear_bytes(weights, out),
              "heldout": {"texts": len(held), **agreement(reference, logits_of(reloaded, tokenizer, held))}}
    (out / "quantization_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _check_group_size(model: Any, group_size: int) -> None:
    """Every quantized Linear's input size must be a multiple of the group size."""
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and not name.endswith("lm_head") and module.in_features % group_size:
            raise QuantizeError(f"--group-size {group_size}: {name} has {module.in_features} inputs, not a multiple "
                                f"of it")
