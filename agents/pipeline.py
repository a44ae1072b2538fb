"""The asynchronous GRPO pipeline: generation and reward scoring overlap, and the next batch
may be generated while the trainer updates (bounded staleness).

    pipeline = Pipeline(generate, score, max_staleness=1, generation_concurrency=8, scoring_concurrency=32)
    async for step, batch in pipeline.run(batches_of_prompts, train_step):
        ...   # batch: the scored samples of one training step

``generate(item, policy_version)`` and ``score(sample)`` are coroutines (a vLLM or HTTP
client, or a local model run in a thread; the LLM judge through ``LLMClient``, whose
concurrency limit and cache apply). Within a batch, each sample is scored as soon as it is
generated, so scoring hides behind generation: a batch takes about the longer of the two,
not their sum. ``train_step(batch)`` runs in a worker thread; with ``max_staleness = s`` the
generation of up to ``s`` later batches proceeds meanwhile, from the policy version of
their start (recorded on each sample as ``policy_version``; 0 staleness = fully on-policy:
a batch is generated only after the previous update). A sample whose scoring raises gets
reward ``NaN`` (left out of its group by ``group_advantages``), never 0.

When generation reads weights of its own (a second copy of the policy, a vLLM engine),
``publish(version)`` is called with each policy version as soon as it exists (0 before the
first batch, then after each update) and before any batch starts from it, while no update
runs: the moment to hand the trained weights to the generation side, as verl syncs its
rollout engine after each step (``clinic_agents.rollout_weights``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    item: Any
    output: Any
    reward: float
    policy_version: int
    timings: dict[str, float] = field(default_factory=dict)


class Pipeline:
    def __init__(self, generate: Callable[[Any, int], Awaitable[Any]], score: Callable[[Any], Awaitable[float]],
                 max_staleness: int = 0, generation_concurrency: int = 8, scoring_concurrency: int = 32,
                 publish: Callable[[int], None] | None = None) -> None:
        if max_staleness < 0:
            raise ValueError(f"max_staleness must be >= 0, got {max_staleness}")
        self.generate, self.score = generate, score
        self.max_staleness = max_staleness
        self.generation_concurrency, self.scoring_concurrency = generation_concurrency, scoring_concurrency
        self.publish = publish or (lambda version: None)
        self.policy_version = 0  # updates finished so far
        self._limits: tuple[asyncio.Semaphore, asyncio.Semaphore] | None = None  # shared by batches in flight

    async def batch(self, items: Sequence[Any], version: int | None = None) -> list[Sample]:
        """Generate and score one batch, each sample scored as soon as it is generated, from the
        policy ``version`` (default: the current one)."""
        if self._limits is None:
            self._limits = (asyncio.Semaphore(self.generation_concurrency), asyncio.Semaphore(self.scoring_concurrency))
        generating, scoring = self._limits
        version = self.policy_version if version is None else version

        async def one(item: Any) -> Sample:
            start = time.perf_counter()
            async with generating:
                output = await self.generate(item, version)
            generated = time.perf_counter()
            async with scoring:
                try:
                    reward = float(await self.score(output))
                except Exception:  # noqa: BLE001 - a failed judgement is left out, not scored 0
                    reward = math.nan
            return Sample(item, output, reward, version,
                          {"generation": generated - start, "scoring": time.perf_counter() - generated})

        return list(await asyncio.gather(*(one(item) for item in items)))

    async def run(self, batches: Iterable[Sequence[Any]],
                  train_step: Callable[[list[Sample]], Any]) -> AsyncIterator[tuple[int, list[Sample]]]:
        """Yield (step, scored batch) after each update; up to ``max_staleness`` later batches
        are generated while a step trains."""
        pending: list[asyncio.Task] = []
        source = iter(batches)

        def refill() -> None:
            while len(pending) < self.max_staleness + 1:
                items = next(source, None)
                if items is None:
                    return
                pending.append(asyncio.ensure_future(self.batch(items, self.policy_version)))

        self.publish(self.policy_version)
        refill()
        step = 0
        try:
            while pending:
                samples = await pending.pop(0)  # the later batches in flight keep generating meanwhile
                await asyncio.to_thread(train_step, samples)
                self.policy_version += 1
                self.publish(self.policy_version)
                refill()
                yield step, samples
                step += 1
        finally:
            for task in pending:
                task.cancel()
