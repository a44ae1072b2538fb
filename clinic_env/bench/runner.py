"""Running a benchmark: resolve the cases, plan the episodes, play what is not done yet, summarise.

At the end ``summary.json`` (``clinic_env.bench.report.summarize``: means with 95% bootstrap
intervals overall, per dimension and per specialty), ``report.md`` and ``report.html`` are
written. An episode that raised is an "error" record and is excluded from every score:
never counted as 0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

from clinic_env.bench.components import build_run
from clinic_env.bench.config import (
    RESULTS_FILE,
    SUMMARY_FILE,
    BenchConfig,
    BenchmarkResult,
    check_config,
    plan_episodes,
)
from clinic_env.bench.play import run_episode
from clinic_env.bench.progress import Progress
from clinic_env.bench.report import summarize, write_reports
from clinic_env.bench.store import json_default, open_run, records_in_order, write_atomic
from clinic_env.bench.workers import check_picklable, play_all, play_in_workers
from clinic_env.cases.specs import cases_label, resolve_cases


async def arun_benchmark(config: BenchConfig | None = None, **options: Any) -> BenchmarkResult:
    """Run (or resume) a benchmark; ``options`` are ``BenchConfig`` fields (overriding ``config``'s)."""
    cfg = dataclasses.replace(config, **options) if config is not None else BenchConfig(**options)
    check_config(cfg)
    started = time.perf_counter()
    cases = resolve_cases(cfg.cases)
    plan = plan_episodes(cases, cfg.episodes_per_case, cfg.seed)
    run = build_run(cfg)
    identity = {**run.labels, "max_turns": cfg.max_turns, "persona": cfg.persona}
    if cfg.workers > 1:
        check_picklable(cfg)

    out = Path(cfg.out)
    notes: list[str] = []
    plan_keys = {e.key for e in plan}
    settings = {"cases": cases_label(cfg.cases), "n_cases": len(cases), "episodes_per_case": cfg.episodes_per_case,
                "concurrency": cfg.concurrency, "seed": cfg.seed}
    with open_run(out, plan_keys, identity, settings, cfg.resume, notes) as done:
        for note in notes:
            print(f"bench: {note}", file=sys.stderr)
        todo = [e for e in plan if e.key not in done]
        progress = Progress(len(plan), [r["score"] for k, r in done.items() if k in plan_keys], "bench", "episode",
                            cfg.progress)
        try:
            if cfg.workers > 1 and len(todo) > 1 and cfg.concurrency > 1:
                notes.extend(await play_in_workers(todo, cfg, out / RESULTS_FILE, progress.finished))
            else:
                await play_all(todo, functools.partial(run_episode, run=run), out / RESULTS_FILE, cfg.concurrency,
                               progress.finished, skip=set(done))
        finally:
            progress.close()

        plan_records, n_outside = records_in_order(out, [e.key for e in plan], notes)
        summary = summarize(plan_records, n_planned=len(plan), seed=cfg.seed, n_resamples=cfg.n_bootstrap)
        wall = time.perf_counter() - started
        summary.update({
            "config": {**identity, **settings},
            "n_run": len(todo), "n_skipped": len(plan) - len(todo),
            "n_outside_plan": n_outside,
            "timing": {"wall_seconds": wall,
                       "episodes_per_second": len(todo) / wall if wall > 0 else None,
                       "mean_episode_seconds": (sum(r["timings"]["total"] for r in plan_records) / len(plan_records)
                                                if plan_records else None)},
            "warnings": notes,
        })
        write_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=json_default))
        write_reports(out, summary, plan_records, config=summary["config"])
        return BenchmarkResult(out, summary, plan_records, n_run=len(todo), n_skipped=len(plan) - len(todo),
                               warnings=notes)


def run_benchmark(config: BenchConfig | None = None, **options: Any) -> BenchmarkResult:
    """``arun_benchmark`` from synchronous code. Inside a running event loop (a Jupyter
    notebook) it refuses: use ``await arun_benchmark(...)`` there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun_benchmark(config, **options))
    raise RuntimeError("run_benchmark() cannot run inside a running event loop (a Jupyter notebook has one); "
                       "use `result = await arun_benchmark(...)` there instead")
