"""Long-lived worker processes that run jobs and stream their messages back, reused across runs.

The benchmark runner plays episodes in worker processes when asked (``workers > 1``):
one Python process uses one CPU core, and the offline patient and grader and the HTTP
client's work are CPU-bound. Starting a process costs about a second (imports), and each
process builds its per-case caches (rubrics, compiled matchers) on first use, so the pool
outlives one run: ``shared_pool(n)`` hands the same warm processes to every run of a
Python session (a notebook's repeated benchmarks, a script's sweep), in the manner of
loky's reusable executor.

A job is ``(function, args)``; the worker calls ``function(*args, send=send)``, where
``send(message)`` streams a picklable message to the parent as the job goes. A job that
raises reports ``("error", text)``. A worker that dies (a crash, an OOM kill) ends its job
early; the pool replaces it before the next run.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

Job = tuple[Callable[..., None], tuple]
_END = "__job_end__"


def _context() -> Any:
    """Workers come from a fork server (fast, and no fork of a threaded process) where the
    platform has one, else are spawned; either way they import what they need afresh."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "clinic_env.bench", "clinic_env.llm.client"])
    return context


def _serve(conn: Connection) -> None:
    """A worker's life: run each job received until told to stop (``None``) or orphaned."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        function, args = job
        try:
            function(*args, send=conn.send)
        except KeyboardInterrupt:  # Ctrl-C reaches every process of the terminal; the parent decides
            pass
        except BaseException as err:  # noqa: BLE001 - reported to the parent, which raises it
            conn.send(("error", f"{type(err).__name__}: {err}"))
        conn.send(_END)


class WorkerPool:
    """``size`` worker processes; ``run`` gives each at most one job and streams the messages."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a worker pool needs at least 1 process, got {size}")
        self.size = size
        self._context = _context()
        self._workers: list[tuple[Any, Connection]] = []
        self._lock = threading.Lock()
        self.closed = False

    @property
    def busy(self) -> bool:
        """Running a job now (a second run at the same time needs another pool)."""
        return self._lock.locked()

    def _healthy(self) -> list[tuple[Any, Connection]]:
        """The workers, with any that died replaced by fresh ones."""
        alive = [(p, c) for p, c in self._workers if p.is_alive()]
        for process, conn in self._workers:
            if not process.is_alive():
                conn.close()
                process.join()
        while len(alive) < self.size:
            parent_end, child_end = self._context.Pipe()
            process = self._context.Process(target=_serve, args=(child_end,), daemon=True,
                                            name=f"clinic-env-worker-{len(alive)}")
            process.start()
            child_end.close()
            alive.append((process, parent_end))
        self._workers = alive
        return alive

    async def run(self, jobs: Sequence[Job], on_message: Callable[[Any], None]) -> list[str]:
        """Run the jobs (at most ``size``) at once; ``on_message`` gets every message on the
        event loop. Returns a note per worker that died during its job. If the run is
        cancelled, the workers are killed (jobs cannot be stopped halfway) and the pool closed."""
        if len(jobs) > self.size:
            raise ValueError(f"{len(jobs)} jobs for a pool of {self.size} processes")
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this worker pool is running another job; use a separate WorkerPool")
        try:
            busy = self._healthy()[:len(jobs)]
            for (_, conn), job in zip(busy, jobs):
                conn.send(job)
            return await self._collect(busy, on_message)
        except BaseException:
            self.close(kill=True)
            raise
        finally:
            self._lock.release()

    async def _collect(self, busy: list[tuple[Any, Connection]], on_message: Callable[[Any], None]) -> list[str]:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()

        def pump() -> None:  # a thread: messages onto the event loop; (_END, process, died) as a job ends
            open_jobs = {conn: process for process, conn in busy}
            while open_jobs:
                for conn in wait(list(open_jobs)):
                    try:
                        message = conn.recv()
                        died = False
                    except (EOFError, OSError):
                        message, died = _END, True
                    if message == _END:
                        message = (_END, open_jobs.pop(conn), died)
                    try:
                        loop.call_soon_threadsafe(inbox.put_nowait, message)
                    except RuntimeError:  # the run was cancelled and its loop closed: nobody is listening
                        return

        threading.Thread(target=pump, name="clinic-env-worker-pump", daemon=True).start()
        notes, running = [], len(busy)
        while running:
            message = await inbox.get()
            if isinstance(message, tuple) and len(message) == 3 and message[0] == _END:
                running -= 1
                _, process, died = message
                if died:
                    await asyncio.to_thread(process.join)
                    notes.append(f"worker {process.name} exited with code {process.exitcode} during the run")
                continue
            on_message(message)
        return notes

    def close(self, kill: bool = False) -> None:
        """Stop the workers: ask them to finish (or kill them), then reap them."""
        self.closed = True
        for process, conn in self._workers:
            try:
                if kill:
                    process.kill()
                else:
                    conn.send(None)
            except (OSError, ValueError):
                pass
        for process, conn in self._workers:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
        self._workers = []


_SHARED: dict[int, WorkerPool] = {}


def shared_pool(size: int) -> WorkerPool:
    """The session's pool of ``size`` processes (made on first use, closed at exit)."""
    pool = _SHARED.get(size)
    if pool is None or pool.closed:
        pool = _SHARED[size] = WorkerPool(size)
    return pool


@atexit.register
def _close_shared_pools() -> None:
    for pool in _SHARED.values():
        pool.close()
