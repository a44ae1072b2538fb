"""Playing a plan's items: slot tasks on this process's event loop, or shares over worker processes.

With ``workers > 1`` the episodes and the concurrency are shared among that many processes
of the session's worker pool (``clinic_env.bench.worker_pool``), each running its own event loop
and appending to results.jsonl itself: the offline patient and grader and the HTTP
client's work are CPU-bound, and one process uses one core.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import pickle
import sys
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from clinic_env.bench.components import build_run
from clinic_env.bench.config import RESULTS_FILE, BenchConfig, BenchError, Episode
from clinic_env.bench.play import run_episode
from clinic_env.bench.progress import Progress
from clinic_env.bench.store import Appender, open_run, records_in_order
from clinic_env.bench.worker_pool import WorkerPool, shared_pool

T = TypeVar("T")

Finished = Callable[[str, str, "float | None"], None]  # (key, status, score) of each saved record


async def play_all(items: Sequence[T], play_one: Callable[[T], Awaitable[dict[str, Any]]], results: Path,
                   concurrency: int, finished: Finished, skip: Collection[str] = ()) -> None:
    """Play ``items`` (episodes, HealthBench examples) with ``play_one``, at most ``concurrency``
    at once, appending each record to ``results`` as soon as it is finished (then calling
    ``finished``). ``play_one`` never raises for a failed item: it returns an "error" record.
    Cancellation stops them all.

    ``concurrency`` slot tasks take the items in plan order (not a task per item: a plan of
    100 000 episodes costs no more memory than one of 100).
    """
    appender = Appender(results)
    appender.keys.update(skip)
    pending = iter(items)

    async def slot() -> None:
        for item in pending:  # shared: each item goes to the first free slot
            record = await play_one(item)
            appender.write(record)  # no await between finishing and saving
            finished(record["key"], record["status"], record["score"])

    tasks = [asyncio.ensure_future(slot()) for _ in range(min(concurrency, len(items)))]
    try:
        with _fewer_collections():
            await asyncio.gather(*tasks)
        await appender.aclose()
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        appender.close()


async def play_labelled_set(items: Sequence[T], keys: Sequence[str], play_one: Callable[[T], Awaitable[dict[str, Any]]],
                            out: Path, identity: dict[str, Any], settings: dict[str, Any], resume: bool,
                            concurrency: int, progress: bool | None, command: str,
                            noun: str) -> tuple[list[dict[str, Any]], list[str], int]:
    """Play a labelled set (grader-eval's visits, patient-eval's questions) into ``out`` as a
    benchmark stores episodes: locked, resumable, each record saved when finished. Returns the
    records of ``keys`` in order, the run's notes and how many items were played now."""
    notes: list[str] = []
    with open_run(out, set(keys), identity, settings, resume, notes, noun) as done:
        for note in notes:
            print(f"{command}: {note}", file=sys.stderr)
        todo = [item for item, key in zip(items, keys) if key not in done]
        planned = set(keys)
        bar = Progress(len(items), [r["score"] for k, r in done.items() if k in planned], command, noun, progress)
        try:
            await play_all(todo, play_one, out / RESULTS_FILE, concurrency, bar.finished, skip=set(done))
        finally:
            bar.close()
        records, _ = records_in_order(out, keys, notes, noun)
    return records, notes, len(todo)


@contextlib.contextmanager
def _fewer_collections(threshold: int = 20_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often while episodes play, then restore it.

    Episodes in flight allocate many short-lived objects (messages, HTTP objects, records);
    with Python's default threshold (700 allocations) collections took about a quarter of
    the runner's CPU time at high concurrency. Reference counting still frees almost
    everything at once; only cycles wait a little longer.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def check_picklable(cfg: BenchConfig) -> None:
    for name in ("doctor", "patient", "grader", "cases"):
        try:
            pickle.dumps(getattr(cfg, name))
        except Exception as err:  # noqa: BLE001 - any pickling failure means the same advice
            raise BenchError(f"workers={cfg.workers} sends the {name} to other processes, but {getattr(cfg, name)!r:.80} "
                             f"cannot be pickled ({type(err).__name__}: {err}); pass a spec string or an object "
                             "of a class importable from a module, or use workers=1") from None


def _shares(episodes: Sequence[Episode], concurrency: int, workers: int) -> list[tuple[list[Episode], int]]:
    """Split the episodes and the concurrency over the workers: worker i gets
    ``concurrency // workers`` slots (the first ``concurrency % workers`` one more) and a
    share of the episodes proportional to its slots, interleaved in plan order."""
    workers = min(workers, concurrency, len(episodes))
    slots = [concurrency // workers + (i < concurrency % workers) for i in range(workers)]
    owners = [i for i, n in enumerate(slots) for _ in range(n)]
    parts: list[list[Episode]] = [[] for _ in range(workers)]
    for j, episode in enumerate(episodes):
        parts[owners[j % len(owners)]].append(episode)
    return list(zip(parts, slots))


def _play_job(cfg: BenchConfig, episodes: list[Episode], concurrency: int, results: str,
              send: Callable[[Any], None], report_every: float = 0.05) -> None:
    """A worker process's job: play its share, reporting saved episodes as ("done", [(key,
    status, score), ...]) at most every ``report_every`` seconds (one message per episode
    would cost the parent a wake-up each; the records themselves are on disk already)."""
    run = build_run(cfg)
    batch: list[tuple[str, str, float | None]] = []
    last = time.monotonic()

    def saved(key: str, status: str, score: float | None) -> None:
        nonlocal last
        batch.append((key, status, score))
        if time.monotonic() - last >= report_every:
            send(("done", batch[:]))
            batch.clear()
            last = time.monotonic()

    try:
        asyncio.run(play_all(episodes, functools.partial(run_episode, run=run), Path(results), concurrency, saved))
    finally:
        if batch:
            send(("done", batch))


async def play_in_workers(episodes: Sequence[Episode], cfg: BenchConfig, results: Path,
                           finished: Finished) -> list[str]:
    """Play the episodes in ``cfg.workers`` processes of the session's worker pool, each
    appending to ``results`` itself. Returns notes on workers that died; a job that fails
    (not an episode: those are records) raises ``BenchError`` once the others are done."""
    shares = _shares(episodes, cfg.concurrency, cfg.workers)
    pool = shared_pool(len(shares))
    temporary = pool.busy  # another run of this session holds it
    if temporary:
        pool = WorkerPool(len(shares))
    failures: list[str] = []

    def on_message(message: Any) -> None:
        if message[0] == "done":
            for saved in message[1]:
                finished(*saved)
        else:  # ("error", text) from the pool
            failures.append(message[1])

    try:
        notes = await pool.run([(_play_job, (cfg, part, slots, str(results))) for part, slots in shares], on_message)
    finally:
        if temporary:
            pool.close()
    if failures:
        raise BenchError(f"a worker process failed: {failures[0]}")
    return [f"{note}; the episodes it had not finished are missing (--resume runs them)" for note in notes]
