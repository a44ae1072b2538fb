"""The reusable worker pool behind ``workers > 1``: jobs, streamed messages, failures, deaths, cancellation."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from clinic_env.bench.worker_pool import WorkerPool


def echo_job(values, send):
    for value in values:
        send(("value", value, os.getpid()))


def failing_job(send):
    raise ValueError("bad input in job")


def dying_job(send):
    send(("value", "last words", os.getpid()))
    os._exit(5)


def sleeping_job(marker, send):
    """Says it started, then waits 60 s, or less if its worker is sent anything meanwhile (the
    pool's polite stop, ``None``): only a worker killed mid-job never writes the marker."""
    send(("started", os.getpid()))
    send.__self__.poll(60)  # ``send`` is the worker's ``Connection.send``: poll does not consume
    Path(marker).write_text("the job ran to its end")


def run(pool, jobs):
    messages = []
    notes = asyncio.run(pool.run(jobs, messages.append))
    return messages, notes


@pytest.fixture
def pool():
    pool = WorkerPool(2)
    yield pool
    pool.close()


def test_jobs_stream_their_messages_and_the_processes_are_reused(pool):
    messages, notes = run(pool, [(echo_job, ([1, 2, 3],)), (echo_job, (["a"],))])
    assert notes == [] and sorted(str(m[1]) for m in messages) == ["1", "2", "3", "a"]
    assert [m[1] for m in messages if isinstance(m[1], int)] == [1, 2, 3]  # in order within a job
    first_pids = {m[2] for m in messages}
    assert len(first_pids) == 2 and os.getpid() not in first_pids
    again, _ = run(pool, [(echo_job, ([4],)), (echo_job, ([5],))])
    assert {m[2] for m in again} == first_pids  # the same warm processes


def test_a_failing_job_is_reported_and_the_pool_goes_on(pool):
    messages, notes = run(pool, [(failing_job, ()), (echo_job, ([7],))])
    assert ("error", "ValueError: bad input in job") in messages and notes == []
    assert any(m[:2] == ("value", 7) for m in messages)
    after, _ = run(pool, [(echo_job, ([8],))])
    assert after[0][:2] == ("value", 8)


def test_a_dead_worker_is_noted_and_replaced(pool):
    messages, notes = run(pool, [(dying_job, ()), (echo_job, ([1],))])
    assert any(m[1] == "last words" for m in messages)  # what it sent before dying arrives
    assert len(notes) == 1 and "exited with code 5" in notes[0]
    dead_pid = next(m[2] for m in messages if m[1] == "last words")
    after, notes = run(pool, [(echo_job, ([1],)), (echo_job, ([2],))])
    assert notes == [] and len({m[2] for m in after}) == 2 and dead_pid not in {m[2] for m in after}


def test_a_cancelled_run_kills_the_workers_and_closes_the_pool(pool, tmp_path):
    markers = [tmp_path / "job-0-ended", tmp_path / "job-1-ended"]
    processes = [p for p, _ in pool._healthy()]

    async def cancel_mid_job():
        # Cancel only once both jobs have demonstrably started (each sent "started" from its
        # worker), not after a fixed delay: a fresh worker can take longer than any delay to
        # reach its job on a busy machine, and a job that ends early (it raised, its worker
        # died) would otherwise end the run normally before the cancellation and hide why.
        messages, started = [], asyncio.Event()

        def on_message(message):
            messages.append(message)
            if sum(m[0] == "started" for m in messages) == len(markers):
                started.set()

        run_task = asyncio.create_task(pool.run([(sleeping_job, (str(m),)) for m in markers], on_message))
        started_wait = asyncio.create_task(started.wait())
        await asyncio.wait({run_task, started_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            started_wait.cancel()
            pytest.fail(f"the run ended before both jobs started: {messages}, "
                        f"{run_task.exception() or run_task.result()}")
        assert not run_task.done()  # both jobs are in their 60 s sleep
        run_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run_task
        return messages

    messages = asyncio.run(cancel_mid_job())
    assert {m[1] for m in messages if m[0] == "started"} == {p.pid for p in processes}  # one job in each worker
    assert pool.closed and all(not p.is_alive() for p in processes)
    # Killed mid-job, not waited for: each worker died of SIGKILL and no job got past its 60 s sleep.
    assert [p.exitcode for p in processes] == [-signal.SIGKILL] * 2
    assert not any(m.exists() for m in markers)


def test_more_jobs_than_processes_is_an_error(pool):
    with pytest.raises(ValueError, match="3 jobs for a pool of 2"):
        run(pool, [(echo_job, ([1],))] * 3)
