"""The reusable worker pool behind ``workers > 1``: jobs, streamed messages, failures, deaths, cancellation."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from clinic_env.worker_pool import WorkerPool


def echo_job(values, send):
    for value in values:
        send(("value", value, os.getpid()))


def failing_job(send):
    raise ValueError("bad input in job")


def dying_job(send):
    send(("value", "last words", os.getpid()))
    os._exit(5)


def sleeping_job(send):
    time.sleep(60)


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


def test_a_cancelled_run_kills_the_workers_and_closes_the_pool(pool):
    async def cancel_soon():
        await asyncio.wait_for(pool.run([(sleeping_job, ()), (sleeping_job, ())], lambda m: None), 0.5)

    processes = [p for p, _ in pool._healthy()]
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(cancel_soon())
    assert time.monotonic() - started < 10 and pool.closed
    assert all(not p.is_alive() for p in processes)


def test_more_jobs_than_processes_is_an_error(pool):
    with pytest.raises(ValueError, match="3 jobs for a pool of 2"):
        run(pool, [(echo_job, ([1],))] * 3)
