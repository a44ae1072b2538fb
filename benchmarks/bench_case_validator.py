"""Clinical conflicts of generated cases per kind over N seeds (``clinic_env.cases.validator``), and of the builtin library.

    python benchmarks/bench_case_validator.py            # 5,000 seeds
    python benchmarks/bench_case_validator.py 1000 --show 3
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from clinic_env.cases.generator import CaseGenerator
from clinic_env.cases.library import load_cases
from clinic_env.cases.validator import KINDS, Conflict, case_conflicts, count_conflicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", type=int, nargs="?", default=5000)
    parser.add_argument("--show", type=int, default=0, help="print this many examples of each kind")
    args = parser.parse_args()
    generator = CaseGenerator()
    by_condition = {c.id: c for c in generator.conditions}
    examples: dict[str, list[str]] = defaultdict(list)
    conflicts: list[Conflict] = []
    start = time.perf_counter()
    for seed in range(args.seeds):
        generated = generator.generate(seed)
        found = case_conflicts(generated.case, by_condition[generated.condition_id])
        conflicts += found
        for c in found:
            examples[c.kind].append(f"{generated.case.id}: {c.detail}")
    seconds = time.perf_counter() - start
    counts = count_conflicts(conflicts)
    print(f"generated cases, {args.seeds} seeds, {seconds:.1f} s: {sum(counts.values())} conflicts")
    _report(counts, examples, args.show)
    builtin_examples: dict[str, list[str]] = defaultdict(list)
    builtin: list[Conflict] = []
    for case in load_cases():
        found = case_conflicts(case)
        builtin += found
        for c in found:
            builtin_examples[c.kind].append(f"{case.id}: {c.detail}")
    counts = count_conflicts(builtin)
    print(f"builtin cases: {sum(counts.values())} conflicts")
    _report(counts, builtin_examples, args.show)


def _report(counts: dict[str, int], examples: dict[str, list[str]], show: int) -> None:
    for kind in KINDS:
        print(f"  {kind:15s} {counts[kind]:6d}")
        for line in examples[kind][:show]:
            print(f"      {line}")


if __name__ == "__main__":
    main()
