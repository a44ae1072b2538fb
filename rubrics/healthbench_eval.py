"""Running HealthBench: sample a model's reply to each prompt, grade it, report the scores.

The procedure is HealthBench's: the model answers the prompt conversation; the grader
judges every rubric item on the conversation plus that answer; each example gets
``example_metrics`` (overall, theme tags, axis tags, dimensions) and the run reports
clipped means with bootstrap standard deviations. Each graded example is appended to
``results_path`` as soon as it is done (one JSON line), so an interrupted run keeps what
it finished, and ``resume=True`` finishes it: examples already graded are kept and not run
again, failed ones run again (their old records move to ``retried_errors.jsonl``), so the
file ends with one record per prompt id. Without ``resume`` a non-empty results file is an
error rather than a file of duplicates.

An example whose sampling or grading raises (an endpoint still failing after the client's
retries, a ``GradingError``) gets a record with status "error" and is left out of every
score, never counted as 0; the run goes on. Scores are aggregated in input order, not in
completion order, so one seed gives one bootstrap standard deviation.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from clinic_rubrics.chat import ChatClient
from clinic_rubrics.grading import Grader
from clinic_rubrics.healthbench import HealthBenchExample
from clinic_rubrics.scoring import Stat, aggregate, example_metrics

RETRIED_FILE = "retried_errors.jsonl"


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


async def _evaluate_one(example: HealthBenchExample, model: ChatClient, grader: Grader,
                        semaphore: asyncio.Semaphore) -> dict[str, Any]:
    """The example's record; a failure becomes an "error" record so one bad example does
    not throw away the rest of the run (cancellation still propagates)."""
    try:
        return await _grade_one(example, model, grader, semaphore)
    except Exception as err:  # noqa: BLE001 - recorded, never scored
        return {"prompt_id": example.prompt_id, "status": "error",
                "error": {"type": type(err).__name__, "message": str(err)}}


async def _grade_one(example: HealthBenchExample, model: ChatClient, grader: Grader,
                     semaphore: asyncio.Semaphore) -> dict[str, Any]:
    async with semaphore:
        completion = await model.complete(list(example.prompt))
    conversation = list(example.prompt) + [{"role": "assistant", "content": completion}]
    verdicts = await grader.agrade(conversation, example.rubric)
    metrics = example_metrics(example.rubric, verdicts, example.example_tags)
    return {
        "prompt_id": example.prompt_id,
        "status": "ok",
        "completion": completion,
        "metrics": metrics,
        "rubric_items": [{**c.to_healthbench(), "criteria_met": v.met, "explanation": v.explanation}
                         for c, v in zip(example.rubric.criteria, verdicts)],
    }


def _is_ok(record: dict[str, Any]) -> bool:
    """Records written before statuses existed were all successes."""
    return record.get("status", "ok") == "ok"


def read_results(path: Path) -> list[dict[str, Any]]:
    """The records of a results file. A torn last line (a run killed mid-write) is dropped:
    that example runs again; a bad line anywhere else is an error."""
    lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("prompt_id"), str):
                raise ValueError("no 'prompt_id'")
        except ValueError as err:
            if number == len(lines):
                break
            raise ValueError(f"{path}:{number}: not a HealthBench result ({err}); fix or remove that line") from None
        records.append(record)
    return records


def _prepare_resume(path: Path, resume: bool) -> dict[str, dict[str, Any]]:
    """The successful records already in ``path``, by prompt id. Rewrites the file with only
    those (the first per id), moving error records to ``retried_errors.jsonl``, so the rerun
    appends each remaining example exactly once."""
    if not path.exists() or path.stat().st_size == 0:
        return {}
    records = read_results(path)
    if not resume:
        raise ValueError(f"{path} already holds {len(records)} result(s); pass --resume (resume=True) to finish "
                         "that run, or choose another --out")
    done: dict[str, dict[str, Any]] = {}
    for record in records:
        if _is_ok(record):
            done.setdefault(record["prompt_id"], record)
    retried = [r for r in records if not _is_ok(r) and r["prompt_id"] not in done]
    if retried:
        with (path.parent / RETRIED_FILE).open("a", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in retried)
    tmp = path.with_name(path.name + ".tmp")  # replaced in one step: a kill now cannot lose the file
    tmp.write_text("".join(json.dumps(r) + "\n" for r in done.values()), encoding="utf-8")
    tmp.replace(path)
    return done


def _report(examples: Sequence[HealthBenchExample], records: dict[str, dict[str, Any]], n_resumed: int,
            seed: int | None) -> HealthBenchReport:
    """Scores over the successful records taken in input order: the seeded bootstrap
    resamples by position, so completion order must not leak into it."""
    ordered = [records[e.prompt_id] for e in examples]
    ok = [r["metrics"] for r in ordered if _is_ok(r)]
    errors = [{"prompt_id": r["prompt_id"], **r["error"]} for r in ordered if not _is_ok(r)]
    stats = aggregate(ok, seed=seed)
    return HealthBenchReport(
        overall=stats.get("overall_score"),
        themes={k: v for k, v in stats.items() if k.startswith("theme:")},
        axes={k: v for k, v in stats.items() if k.startswith("axis:")},
        metrics=stats,
        n_examples=len(ok),
        errors=errors,
        n_resumed=n_resumed,
    )


def _check_ids(examples: Sequence[HealthBenchExample]) -> None:
    """Results are matched to examples by prompt id (on resume, in the report)."""
    seen: set[str] = set()
    for example in examples:
        if example.prompt_id in seen:
            raise ValueError(f"prompt_id {example.prompt_id!r} appears twice; HealthBench prompt ids are unique")
        seen.add(example.prompt_id)


async def evaluate(examples: Sequence[HealthBenchExample], model: ChatClient, grader: Grader,
                   concurrency: int = 8, results_path: str | Path | None = None, seed: int | None = 0,
                   resume: bool = False) -> HealthBenchReport:
    """Sample, grade and score every example; per-example results stream to ``results_path``
    (with ``resume``, examples already graded there are kept and not run again)."""
    if not examples:
        raise ValueError("no HealthBench examples to evaluate")
    _check_ids(examples)
    done = _prepare_resume(Path(results_path), resume) if results_path else {}
    todo = [e for e in examples if e.prompt_id not in done]
    records = {e.prompt_id: done[e.prompt_id] for e in examples if e.prompt_id in done}
    semaphore = asyncio.Semaphore(concurrency)
    out = Path(results_path).open("a", encoding="utf-8") if results_path else None
    try:
        for finished in asyncio.as_completed([_evaluate_one(e, model, grader, semaphore) for e in todo]):
            record = await finished
            records[record["prompt_id"]] = record
            if out is not None:
                out.write(json.dumps(record) + "\n")
                out.flush()
    finally:
        if out is not None:
            out.close()
    return _report(examples, records, n_resumed=len(examples) - len(todo), seed=seed)
