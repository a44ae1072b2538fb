"""HealthBench's evaluation arithmetic: which examples, one example's graded record, the report.

The procedure is HealthBench's (openai/simple-evals ``healthbench_eval.py``): the model
answers the prompt conversation; the grader judges every rubric item on the conversation
plus that answer; each example gets ``example_metrics`` (overall, theme tags, axis tags,
dimensions) and the run reports clipped means with bootstrap standard deviations.
Everything here is pure: running an evaluation (sampling, grading, the results store,
resume) is ``clinic_env.bench.healthbench``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from clinic_rubrics.grading import Verdict
from clinic_rubrics.healthbench import HealthBenchExample
from clinic_rubrics.scoring import OVERALL, Stat, aggregate, example_metrics

T = TypeVar("T")


@dataclass(frozen=True)
class HealthBenchReport:
    """The scores of the examples graded successfully (``overall`` is ``None`` when none
    was) and the failures, one ``{"prompt_id", "type", "message"}`` per errored example."""

    overall: Stat | None
    themes: dict[str, Stat]
    axes: dict[str, Stat]
    metrics: dict[str, Stat]
    n_examples: int
    errors: list[dict[str, str]] = field(default_factory=list)
    n_resumed: int = 0

    def to_dict(self) -> dict[str, Any]:
        def stat(s: Stat) -> dict[str, float | int]:
            return {"mean": s.mean, "bootstrap_std": s.bootstrap_std, "n_samples": s.n_samples}

        return {"n_examples": self.n_examples, "n_errors": len(self.errors), "n_resumed": self.n_resumed,
                "overall": stat(self.overall) if self.overall is not None else None,
                "themes": {k: stat(v) for k, v in self.themes.items()},
                "axes": {k: stat(v) for k, v in self.axes.items()},
                "errors": self.errors}


def sample_examples(examples: Sequence[T], n: int | None) -> list[T]:
    """The ``n`` examples simple-evals evaluates for ``num_examples=n``: a ``random.Random(0)``
    sample (in the sample's order) when ``n`` is below the number of examples, else all."""
    if n is None or n >= len(examples):
        return list(examples)
    if n < 1:
        raise ValueError(f"the number of examples must be positive, got {n}")
    return random.Random(0).sample(list(examples), n)


def check_ids(examples: Sequence[HealthBenchExample]) -> None:
    """Results are matched to examples by prompt id (on resume, in the report)."""
    seen: set[str] = set()
    for example in examples:
        if example.prompt_id in seen:
            raise ValueError(f"prompt_id {example.prompt_id!r} appears twice; HealthBench prompt ids are unique")
        seen.add(example.prompt_id)


def graded_fields(example: HealthBenchExample, completion: str, verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """What a graded example's record holds: the completion, its metrics and every item's verdict."""
    metrics = example_metrics(example.rubric, verdicts, example.example_tags)
    return {
        "score": metrics[OVERALL],
        "completion": completion,
        "metrics": metrics,
        "rubric_items": [{**c.to_healthbench(), "criteria_met": v.met, "explanation": v.explanation}
                         for c, v in zip(example.rubric.criteria, verdicts)],
    }


def _is_ok(record: Mapping[str, Any]) -> bool:
    """Records written before statuses existed were all successes."""
    return record.get("status", "ok") == "ok"


def healthbench_report(records: Sequence[Mapping[str, Any]], n_resumed: int, seed: int | None) -> HealthBenchReport:
    """Scores over the successful ``records``, which must be in input order: the seeded
    bootstrap resamples by position, so completion order must not leak into it."""
    ok = [r["metrics"] for r in records if _is_ok(r)]
    errors = [{"prompt_id": r["prompt_id"], **r["error"]} for r in records if not _is_ok(r)]
    stats = aggregate(ok, seed=seed)
    return HealthBenchReport(
        overall=stats.get(OVERALL),
        themes={k: v for k, v in stats.items() if k.startswith("theme:")},
        axes={k: v for k, v in stats.items() if k.startswith("axis:")},
        metrics=stats,
        n_examples=len(ok),
        errors=errors,
        n_resumed=n_resumed,
    )
