"""The weights generation reads, kept apart from the ones the trainer updates.

With bounded staleness (``clinic_agents.pipeline``), the next batch is generated while the trainer
updates the policy. Sampling from the model being updated would read half-written weights,
so generation gets weights of its own: a second copy of the policy on CPU or GPU, or a vLLM
engine (``clinic_agents.vllm_sampler``). The trainer publishes each policy version when it exists
(no update running); a batch started from version ``v`` loads ``v`` into the generation
side before it samples, so all of its trajectories come from one known policy, and their
generation-time log-probs are those of the policy that drew them (the "old" policy of the
clipped ratio).

    weights = RolloutWeights(load=generation_copy.load_state_dict)
    weights.publish(0, model)            # before the first batch
    with weights.at(version):            # around a batch's generation
        ...sample from generation_copy...

The latest ``keep`` snapshots are held (``max_staleness + 1``: the versions of the batches
that can be in flight); older ones are dropped when a new one is published.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch


class RolloutWeights:
    def __init__(self, load: Callable[[dict[str, torch.Tensor]], Any], keep: int = 1) -> None:
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.load = load  # puts a state dict into the generation side (a model copy, a vLLM engine)
        self.keep = keep
        self.loaded: int | None = None  # the version generation reads now
        self._published: dict[int, dict[str, torch.Tensor]] = {}
        self._generating = threading.Lock()  # one version at a time on the generation side
        self._snapshots = threading.Lock()  # publish never waits for a batch to finish

    def publish(self, version: int, model: torch.nn.Module) -> None:
        """Snapshot the trainer's weights as ``version``; call it while no update runs."""
        snapshot = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
        with self._snapshots:
            self._published[version] = snapshot
            for old in sorted(self._published)[:-self.keep]:
                del self._published[old]

    @contextmanager
    def at(self, version: int) -> Iterator[None]:
        """Hold the generation side at ``version`` (loading it first if needed) while sampling."""
        with self._generating:
            if version != self.loaded:
                with self._snapshots:
                    if version not in self._published:
                        raise KeyError(f"policy version {version} is not published (held: {sorted(self._published)})")
                    snapshot = self._published[version]
                self.load(snapshot)
                self.loaded = version
            yield
