"""The 8-bit KV cache of the transformers path: bytes and teacher-forced logits error against a
bf16 cache, for ``clinic_agents.kv_cache`` and transformers' own per-tensor fp8 ``QuantizedCache``.

    python benchmarks/bench_kv_cache.py [--model DIR] [--tokens 256] [--prefill 16]

Without --model it trains a tiny two-layer model here. The error is ||q - o|| / ||o|| over the
logits of every decoded position, decoding the true next token each step (teacher forcing), so
both caches see the same inputs. Target: half the bytes of bf16, error <= 0.02. The row for
transformers' own fp8 ``QuantizedCache`` is printed where the installed transformers has that
backend (5.25 and later), and says so where it has not.
"""

from __future__ import annotations

import argparse

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.cache_utils import DynamicCache, QuantizedCache

from clinic_agents.kv_cache import cache_bytes, fp8_cache, teacher_forced_logits
from clinic_agents.tiny_lm import DOCTOR_LINES as LINES
from clinic_agents.tiny_lm import fit, tiny_lm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="a transformers model directory (default: a tiny model trained here)")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--prefill", type=int, default=16)
    args = parser.parse_args()
    text = " ".join(LINES * 40)
    if args.model:
        model, tokenizer = AutoModelForCausalLM.from_pretrained(args.model), AutoTokenizer.from_pretrained(args.model)
    else:
        model, tokenizer = tiny_lm(LINES * 5, layers=2, hidden=128)
        fit(model, tokenizer, " ".join(LINES * 3), steps=40)
    model = model.to(torch.bfloat16).eval()
    ids = torch.tensor([tokenizer(text)["input_ids"][:args.tokens]])
    caches = {"bf16 (DynamicCache)": DynamicCache(config=model.config),
              "fp8 per head, headroom 4 (clinic_agents.kv_cache)": fp8_cache(model.config),
              "fp8 per head, no headroom": fp8_cache(model.config, headroom=1.0)}
    try:
        caches["fp8 per tensor (transformers QuantizedCache)"] = QuantizedCache(backend="fp8", config=model.config)
    except ValueError as err:  # "Unknown quantization backend" before transformers 5.25
        print(f"transformers {transformers.__version__}: no fp8 QuantizedCache ({err}); that row is left out")
    reference, reference_bytes = None, 0
    print(f"{ids.shape[1]} tokens, prefill {args.prefill}, model {args.model or 'tiny (trained here)'}")
    for name, cache in caches.items():
        logits = teacher_forced_logits(model, ids, cache, args.prefill)
        if reference is None:
            reference, reference_bytes = logits, cache_bytes(cache)
        error = float((logits - reference).norm() / reference.norm())
        agreement = float((logits.argmax(-1) == reference.argmax(-1)).float().mean())
        size = f"{cache_bytes(cache) / reference_bytes:.3f} of bf16" if "QuantizedCache" not in name else "n/a"
        print(f"{name:50s} bytes {size:>12s}  logits error {error:.4f}  top-1 agreement {agreement:.3f}")


if __name__ == "__main__":
    main()
