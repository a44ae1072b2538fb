"""The doctor protocol: what a benchmark or a rollout needs from any doctor policy.

A doctor sees exactly what the environment shows it (the latest observation and its
chat view in ``info["messages"]``), never the case. Scripted, API-backed and local-model
doctors in ``clinic_agents`` all follow this protocol.

Optional, for doctors that wait on a model: ``async aact(observation, info)`` (and an async
``reset``). The benchmark runner awaits them when they exist (``clinic_env.bench.play``, the
one place that looks); the Gymnasium loop (``clinic_env.rollout``) calls ``act``. A doctor may
also expose ``usage`` (a mapping of its token counts), which the runner records.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from clinic_env.actions import Action


@runtime_checkable
class Doctor(Protocol):
    def reset(self, seed: int | None = None) -> None:
        """Forget the last consultation; ``seed`` fixes any randomness the doctor has."""

    def act(self, observation: str, info: dict) -> str | Action:
        """The next action, as protocol text or a typed action."""
