"""The asynchronous pipeline: scoring overlaps generation; bounded staleness across training steps."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from agents.pipeline import Pipeline


def recorder(generation=0.0, scoring=0.0, fail_on=()):
    events = []

    async def generate(item, version):
        events.append(("gen_start", item, version, time.perf_counter()))
        await asyncio.sleep(generation)
        events.append(("gen_end", item, version, time.perf_counter()))
        return item

    async def score(item):
        events.append(("score_start", item, None, time.perf_counter()))
        await asyncio.sleep(scoring)
        if item in fail_on:
            raise ConnectionError("judge down")
        return float(item)

    return events, generate, score


async def collect(pipeline, batches, train_step):
    return [(step, samples) async for step, samples in pipeline.run(batches, train_step)]


def test_scoring_overlaps_generation_within_a_batch():
    events, generate, score = recorder(generation=0.01, scoring=0.02)
    pipeline = Pipeline(generate, score, generation_concurrency=4, scoring_concurrency=8)
    start = time.perf_counter()
    samples = asyncio.run(pipeline.batch(list(range(32))))
    wall = time.perf_counter() - start
    alone = 32 / 4 * 0.01  # each stage alone: 0.08 s
    assert wall < 0.8 * (2 * alone) and wall <= 1.5 * alone  # close to the max, well under the sum
    first_score = min(t for kind, *_, t in events if kind == "score_start")
    last_generation = max(t for kind, *_, t in events if kind == "gen_end")
    assert first_score < last_generation
    assert [s.reward for s in samples] == [float(i) for i in range(32)] and all(s.policy_version == 0 for s in samples)


def test_a_failed_score_is_nan_not_zero():
    _, generate, score = recorder(fail_on={2})
    samples = asyncio.run(Pipeline(generate, score).batch([1, 2, 3]))
    assert samples[0].reward == 1.0 and math.isnan(samples[1].reward) and samples[2].reward == 3.0


def train_log(events, duration=0.03):
    def train_step(samples):
        events.append(("train_start", samples[0].item, samples[0].policy_version, time.perf_counter()))
        time.sleep(duration)
        events.append(("train_end", samples[0].item, samples[0].policy_version, time.perf_counter()))
    return train_step


def test_zero_staleness_is_on_policy():
    events, generate, score = recorder(generation=0.005)
    pipeline = Pipeline(generate, score, max_staleness=0)
    steps = asyncio.run(collect(pipeline, [[0, 1], [10, 11], [20, 21]], train_log(events)))
    assert [step for step, _ in steps] == [0, 1, 2]
    assert [samples[0].policy_version for _, samples in steps] == [0, 1, 2]  # each from the latest policy
    for batch_start, previous_train_end in ((10, 0), (20, 10)):
        started = min(t for kind, item, _, t in events if kind == "gen_start" and item == batch_start)
        trained = max(t for kind, item, _, t in events if kind == "train_end" and item == previous_train_end)
        assert started >= trained  # nothing generated from a policy about to change


def test_bounded_staleness_generates_ahead_while_training():
    events, generate, score = recorder(generation=0.005)
    pipeline = Pipeline(generate, score, max_staleness=1)
    steps = asyncio.run(collect(pipeline, [[0], [10], [20], [30]], train_log(events, duration=0.05)))
    versions = [samples[0].policy_version for _, samples in steps]
    assert [step for step, _ in steps] == [0, 1, 2, 3] and pipeline.policy_version == 4
    assert versions == [0, 0, 1, 2]  # each batch at most one update behind the policy it trains
    generated_20 = min(t for kind, item, _, t in events if kind == "gen_start" and item == 20)
    trained_10 = max(t for kind, item, _, t in events if kind == "train_end" and item == 10)
    assert generated_20 < trained_10  # the next batch was generated while this one trained
    with pytest.raises(ValueError, match="max_staleness"):
        Pipeline(generate, score, max_staleness=-1)
