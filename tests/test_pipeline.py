"""The asynchronous pipeline: scoring overlaps generation; bounded staleness across training steps.

Overlap is shown by the order of recorded events (a list appended as each stage starts or
ends), never by wall time, so the tests hold on a loaded machine.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time

import pytest

from clinic_agents.pipeline import Pipeline


class Events(list):
    """(kind, item, policy version) in the order they happened, from the event loop and the
    training thread alike; ``wait_for`` lets a training step wait until an event has happened."""

    def __init__(self):
        super().__init__()
        self.changed = threading.Condition()

    def add(self, kind, item, version=None):
        with self.changed:
            self.append((kind, item, version))
            self.changed.notify_all()

    def at(self, kind, item):
        """Where the (first) ``kind`` event of ``item`` is in the order; None if it never happened."""
        return next((i for i, (k, it, _) in enumerate(self) if k == kind and it == item), None)

    def all_at(self, kind):
        return [i for i, (k, _, _) in enumerate(self) if k == kind]

    def wait_for(self, kind, item, timeout=10.0):
        """A safety net only: returns at once in a working pipeline; False after ``timeout`` in a broken one."""
        with self.changed:
            return self.changed.wait_for(lambda: self.at(kind, item) is not None, timeout)


def recorder(generation=0.0, scoring=0.0, fail_on=()):
    events = Events()

    async def generate(item, version):
        events.add("gen_start", item, version)
        await asyncio.sleep(generation)
        events.add("gen_end", item, version)
        return item

    async def score(item):
        events.add("score_start", item)
        await asyncio.sleep(scoring)
        if item in fail_on:
            raise ConnectionError("judge down")
        return float(item)

    return events, generate, score


async def collect(pipeline, batches, train_step):
    return [(step, samples) async for step, samples in pipeline.run(batches, train_step)]


def test_scoring_overlaps_generation_within_a_batch():
    # Wall time (a batch takes about the longer stage, not the sum) is benchmarks/bench_pipeline.py's figure.
    events, generate, score = recorder(generation=0.01, scoring=0.02)
    pipeline = Pipeline(generate, score, generation_concurrency=4, scoring_concurrency=8)
    samples = asyncio.run(pipeline.batch(list(range(32))))
    assert [s.reward for s in samples] == [float(i) for i in range(32)] and all(s.policy_version == 0 for s in samples)
    for item in range(32):
        assert events.at("gen_end", item) < events.at("score_start", item)
    gen_starts, gen_ends = events.all_at("gen_start"), events.all_at("gen_end")
    score_starts = events.all_at("score_start")
    # The first sample generated is scored at once, before the 5th generation (waiting for one
    # of the 4 generation slots) has even started: scoring does not wait for the batch.
    assert score_starts[0] < gen_starts[4]
    # By the end of generation, at least as many samples as there are scoring slots are being scored.
    assert sum(i < gen_ends[-1] for i in score_starts) >= 8


def test_a_failed_score_is_nan_not_zero():
    _, generate, score = recorder(fail_on={2})
    samples = asyncio.run(Pipeline(generate, score).batch([1, 2, 3]))
    assert samples[0].reward == 1.0 and math.isnan(samples[1].reward) and samples[2].reward == 3.0


def train_log(events, duration=0.0, overlapping=None):
    """A training step recording its start and end; with ``overlapping`` ({batch: later batch}),
    the step does not end before the later batch has started generating (or 10 s have passed,
    in a pipeline that does not generate ahead)."""
    def train_step(samples):
        first = samples[0].item
        events.add("train_start", first, samples[0].policy_version)
        time.sleep(duration)
        if overlapping and first in overlapping:
            events.wait_for("gen_start", overlapping[first])
        events.add("train_end", first, samples[0].policy_version)
    return train_step


def test_zero_staleness_is_on_policy():
    events, generate, score = recorder(generation=0.005)
    pipeline = Pipeline(generate, score, max_staleness=0)
    steps = asyncio.run(collect(pipeline, [[0, 1], [10, 11], [20, 21]], train_log(events, duration=0.03)))
    assert [step for step, _ in steps] == [0, 1, 2]
    assert [samples[0].policy_version for _, samples in steps] == [0, 1, 2]  # each from the latest policy
    for batch_start, previous in ((10, 0), (20, 10)):
        # nothing generated from a policy about to change
        assert events.at("gen_start", batch_start) > events.at("train_end", previous)


def test_bounded_staleness_generates_ahead_while_training():
    events, generate, score = recorder(generation=0.005)
    pipeline = Pipeline(generate, score, max_staleness=1)
    steps = asyncio.run(collect(pipeline, [[0], [10], [20], [30]],
                                train_log(events, overlapping={10: 20, 20: 30})))
    versions = [samples[0].policy_version for _, samples in steps]
    assert [step for step, _ in steps] == [0, 1, 2, 3] and pipeline.policy_version == 4
    assert versions == [0, 0, 1, 2]  # each batch at most one update behind the policy it trains
    for batch, following in ((0, 10), (10, 20), (20, 30)):
        # the next batch was generated while this one trained: its generation started before the step ended
        assert events.at("gen_start", following) < events.at("train_end", batch)
    assert events.at("gen_start", 20) > events.at("train_end", 0)  # from the policy of step 0's update
    with pytest.raises(ValueError, match="max_staleness"):
        Pipeline(generate, score, max_staleness=-1)
