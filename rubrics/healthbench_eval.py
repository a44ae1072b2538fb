"""Running HealthBench: sample a model's reply to each prompt, grade it, report the scores.

The procedure is HealthBench's: the model answers the prompt conversation; the grader
judges every rubric item on the conversation plus that answer; each example gets
``example_metrics`` (overall, theme tags, axis tags, dimensions) and the run reports
clipped means with bootstrap standard deviations. Each graded example is appended to
``results_path`` as soon as it is done (one JSON line), so an interrupted run keeps what
it finished.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from clinic_rubrics.chat import ChatClient
from clinic_rubrics.grading import Grader
from clinic_rubrics.healthbench import HealthBenchExample
from clinic_rubrics.scoring import Stat, aggregate, example_metrics


@dataclass(frozen=True)
class HealthBenchReport:
    overall: Stat
    themes: dict[str, Stat]
    axes: dict[str, Stat]
    metrics: dict[str, Stat]
    n_examples: int

    def to_dict(self) -> dict[str, Any]:
        def stat(s: Stat) -> dict[str, float | int]:
            return {"mean": s.mean, "bootstrap_std": s.bootstrap_std, "n_samples": s.n_samples}

        return {"n_examples": self.n_examples, "overall": stat(self.overall),
                "themes": {k: stat(v) for k, v in self.themes.items()},
                "axes": {k: stat(v) for k, v in self.axes.items()}}


async def _evaluate_one(example: HealthBenchExample, model: ChatClient, grader: Grader,
                        semaphore: asyncio.Semaphore) -> dict[str, Any]:
    async with semaphore:
        completion = await model.complete(list(example.prompt))
    conversation = list(example.prompt) + [{"role": "assistant", "content": completion}]
    verdicts = await grader.agrade(conversation, example.rubric)
    metrics = example_metrics(example.rubric, verdicts, example.example_tags)
    return {
        "prompt_id": example.prompt_id,
        "completion": completion,
        "metrics": metrics,
        "rubric_items": [{**c.to_healthbench(), "criteria_met": v.met, "explanation": v.explanation}
                         for c, v in zip(example.rubric.criteria, verdicts)],
    }


async def evaluate(examples: Sequence[HealthBenchExample], model: ChatClient, grader: Grader,
                   concurrency: int = 8, results_path: str | Path | None = None, seed: int | None = 0
                   ) -> HealthBenchReport:
    """Sample, grade and score every example; per-example results stream to ``results_path``."""
    if not examples:
        raise ValueError("no HealthBench examples to evaluate")
    semaphore = asyncio.Semaphore(concurrency)
    out = Path(results_path).open("a", encoding="utf-8") if results_path else None
    results: list[dict[str, Any]] = []
    try:
        for finished in asyncio.as_completed([_evaluate_one(e, model, grader, semaphore) for e in examples]):
            result = await finished
            results.append(result)
            if out is not None:
                out.write(json.dumps(result) + "\n")
                out.flush()
    finally:
        if out is not None:
            out.close()
    stats = aggregate([r["metrics"] for r in results], seed=seed)
    return HealthBenchReport(
        overall=stats["overall_score"],
        themes={k: v for k, v in stats.items() if k.startswith("theme:")},
        axes={k: v for k, v in stats.items() if k.startswith("axis:")},
        metrics=stats,
        n_examples=len(results),
    )
