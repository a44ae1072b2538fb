"""Wall time per GRPO batch when generation and scoring overlap, against their sum.

    python benchmarks/bench_pipeline.py [--batch 128] [--generation 0.02] [--scoring 0.04]

Generation and scoring are given fixed latencies per sample (asyncio sleeps standing for a
model and a judge), with concurrency limits 4 and 8, so each stage alone takes
batch / concurrency x latency. The pipeline scores each sample as soon as it is generated.
Target: wall time per batch <= 1.15 x max(generation, scoring), not their sum.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from clinic_agents.pipeline import Pipeline


async def measure(batch: int, generation: float, scoring: float, batches: int) -> list[float]:
    async def generate(item, version):
        await asyncio.sleep(generation)
        return item

    async def score(output):
        await asyncio.sleep(scoring)
        return 1.0

    pipeline = Pipeline(generate, score, generation_concurrency=4, scoring_concurrency=8)
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        await pipeline.batch(list(range(batch)))
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--generation", type=float, default=0.02)
    parser.add_argument("--scoring", type=float, default=0.04)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    generation_total = args.batch / 4 * args.generation
    scoring_total = args.batch / 8 * args.scoring
    times = asyncio.run(measure(args.batch, args.generation, args.scoring, args.batches))
    wall = sorted(times)[len(times) // 2]
    ratio = wall / max(generation_total, scoring_total)
    print(f"generation alone {generation_total:.2f} s, scoring alone {scoring_total:.2f} s, "
          f"sum {generation_total + scoring_total:.2f} s")
    print(f"pipeline: {wall:.3f} s per batch (median of {args.batches}) = {ratio:.2f} x the max "
          f"(target <= 1.15: {'met' if ratio <= 1.15 else 'NOT met'})")


if __name__ == "__main__":
    main()
