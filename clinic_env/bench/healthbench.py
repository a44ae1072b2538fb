"""Running HealthBench and its meta-evaluation on the benchmark's store: resume, error records, progress.

    report = await arun_healthbench(examples, LLMClient("my-model", base_url=...), judge,
                                    out="runs/hb", system_prompt="You are a careful doctor.",
                                    sampling={"temperature": 0.7, "max_tokens": 1024})
    meta = await arun_meta_eval(rows, judge, out="runs/hb-meta")

Each graded example (or meta-eval row) is one record of ``OUT/results.jsonl``, keyed by its
prompt id (or row key), written the moment it is done by ``clinic_env.bench.store``: an
interrupted run keeps what it finished and ``resume=True`` finishes it, leaving one record
per example; without ``resume`` a non-empty results file is an error. The report's
``to_dict()`` is written to ``OUT/summary.json`` at the end, atomically. An example whose
sampling or grading raises (an endpoint still failing after the client's retries, a
``GradingError``) gets a record with status "error" and is left out of every score, never
counted as 0. Scores are aggregated in input order, not completion order, so one seed gives
one bootstrap standard deviation. With ``out=None`` the records go to a temporary directory.

The model under test is any ``clinic_rubrics.chat.ChatClient``; ``system_prompt`` is sent as
a system message before each prompt (HealthBench grades the conversation without it) and
``sampling`` (``temperature``, ``max_tokens``...) with every request, as simple-evals' sampler does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from clinic_env.bench.config import SUMMARY_FILE
from clinic_env.bench.store import json_default, write_atomic
from clinic_env.bench.workers import play_labelled_set
from clinic_rubrics.chat import ChatClient, client_identity
from clinic_rubrics.grading import Grader
from clinic_rubrics.healthbench import HealthBenchExample, MetaEvalRow
from clinic_rubrics.healthbench_eval import HealthBenchReport, check_ids, graded_fields, healthbench_report
from clinic_rubrics.healthbench_meta import MetaEvalReport, meta_eval_report
from clinic_rubrics.schema import Criterion, Rubric

T = TypeVar("T")
R = TypeVar("R", HealthBenchReport, MetaEvalReport)


async def arun_healthbench(examples: Sequence[HealthBenchExample], model: ChatClient, grader: Grader, *,
                           out: str | Path | None = None, concurrency: int = 8, seed: int | None = 0,
                           resume: bool = False, system_prompt: str | None = None,
                           sampling: Mapping[str, Any] | None = None,
                           progress: bool | None = None) -> HealthBenchReport:
    """Sample, grade and score every example (examples already graded in ``out`` are kept
    with ``resume``); the report covers ``examples`` in their order."""
    if not examples:
        raise ValueError("no HealthBench examples to evaluate")
    check_ids(examples)
    sampling = dict(sampling or {})
    prefix = [{"role": "system", "content": system_prompt}] if system_prompt is not None else []

    async def play(example: HealthBenchExample) -> dict[str, Any]:
        record: dict[str, Any] = {"key": example.prompt_id, "prompt_id": example.prompt_id}
        return await _recorded(record, _sample_and_grade(example, model, grader, prefix, sampling))

    identity = {"model": _name(model), "grader": _name(grader), "system_prompt": system_prompt, "sampling": sampling}
    return await _run(examples, [e.prompt_id for e in examples], play, out, identity, resume, concurrency,
                      progress, "healthbench", "example",
                      lambda records, n_resumed: healthbench_report(records, n_resumed, seed))


async def _sample_and_grade(example: HealthBenchExample, model: ChatClient, grader: Grader,
                            prefix: list[dict[str, str]], sampling: dict[str, Any]) -> dict[str, Any]:
    completion = await model.complete(prefix + list(example.prompt), **sampling)
    verdicts = await grader.agrade(list(example.prompt) + [{"role": "assistant", "content": completion}],
                                   example.rubric)
    return graded_fields(example, completion, verdicts)


def meta_eval_key(row: MetaEvalRow) -> str:
    """A row's key: its completion id and a digest of its criterion (one completion is
    labelled on several criteria)."""
    return f"{row.completion_id}/{hashlib.sha256(row.rubric.encode('utf-8')).hexdigest()[:12]}"


async def arun_meta_eval(rows: Sequence[MetaEvalRow], grader: Grader, *, out: str | Path | None = None,
                         concurrency: int = 8, resume: bool = False,
                         progress: bool | None = None) -> MetaEvalReport:
    """Have ``grader`` label every row's (completion, criterion) and compare with the physicians.

    The criterion reaches the grader as a one-item rubric worth 1 point (a meta-eval row
    carries no points), on the row's conversation plus its completion."""
    if not rows:
        raise ValueError("no meta-evaluation rows to grade")
    keys = [meta_eval_key(row) for row in rows]
    if len(set(keys)) != len(keys):
        repeated = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"meta-eval row {repeated!r} (completion id / criterion digest) appears twice")
    by_key = dict(zip(keys, rows))

    async def play(key: str) -> dict[str, Any]:
        row = by_key[key]
        record: dict[str, Any] = {"key": key, "prompt_id": row.prompt_id, "completion_id": row.completion_id}
        return await _recorded(record, _label(row, grader))

    def report(records: list[dict[str, Any]], n_resumed: int) -> MetaEvalReport:
        labels = {r["key"]: r["grader_label"] for r in records if r["status"] == "ok"}
        errors = [{"key": r["key"], **r["error"]} for r in records if r["status"] != "ok"]
        return meta_eval_report(rows, [labels.get(k) for k in keys], errors, n_resumed)

    return await _run(keys, keys, play, out, {"grader": _name(grader)}, resume, concurrency, progress,
                      "meta-eval", "row", report)


async def _label(row: MetaEvalRow, grader: Grader) -> dict[str, Any]:
    criterion = Criterion(id="criterion", text=row.rubric, points=1)
    [verdict] = await grader.agrade(list(row.prompt) + [{"role": "assistant", "content": row.completion}],
                                    Rubric(criteria=[criterion]))
    agreeing = sum(label == verdict.met for label in row.binary_labels)
    return {"score": agreeing / len(row.binary_labels), "grader_label": verdict.met,
            "explanation": verdict.explanation, "binary_labels": row.binary_labels, "category": row.category}


async def _recorded(record: dict[str, Any], work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """``record`` with ``work``'s fields and status "ok", or status "error" and the exception
    (one failure must not throw away the rest of the run; cancellation still propagates)."""
    try:
        record.update(await work, status="ok")
    except Exception as err:  # noqa: BLE001 - recorded, never scored
        record.update(status="error", score=None, error={"type": type(err).__name__, "message": str(err)})
    return record


async def _run(items: Sequence[T], keys: list[str], play: Callable[[T], Awaitable[dict[str, Any]]],
               out: str | Path | None, identity: dict[str, Any], resume: bool, concurrency: int,
               progress: bool | None, desc: str, item: str,
               report: Callable[[list[dict[str, Any]], int], R]) -> R:
    """Play the items not finished in ``out`` yet, and ``report`` their records (in ``keys``
    order, with how many were finished before). The report is also written to
    ``out/summary.json`` (atomically, as the bench runner writes its own), so a run from
    Python leaves the same files as one from the CLI."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    with _directory(out) as folder:
        records, _, n_run = await play_labelled_set(items, keys, play, folder, identity, {"n": len(keys)}, resume,
                                                    concurrency, progress, desc, item)
        result = report(records, len(keys) - n_run)
        write_atomic(folder / SUMMARY_FILE, json.dumps(result.to_dict(), indent=2, default=json_default))
    return result


@contextlib.contextmanager
def _directory(out: str | Path | None) -> Iterator[Path]:
    """``out``, or a temporary directory removed afterwards."""
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix="clinic-env-healthbench-") as folder:
        yield Path(folder)


def _name(component: Any) -> str:
    """What names a model or grader in config.json (checked on resume): its ``model`` or
    ``name``, never its endpoint (a rerun may reach the same model at another address)."""
    for attribute in ("model", "name"):
        value = getattr(component, attribute, None)
        if isinstance(value, str) and value:
            return value
    return client_identity(component)
