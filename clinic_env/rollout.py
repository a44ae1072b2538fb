"""Playing one consultation with a doctor policy in the Gymnasium env."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from clinic_env.doctor import Doctor


@dataclass
class EpisodeResult:
    case_id: str
    seed: int | None
    score: float
    total_reward: float
    doctor_turns: int
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(repr=False, default_factory=dict)


def run_consultation(
    env: gym.Env, doctor: Doctor, seed: int | None = None, case_id: str | None = None
) -> EpisodeResult:
    """Reset the env (on ``case_id`` if given) and the doctor with ``seed``, and play to the end."""
    options = {"case_id": case_id} if case_id is not None else None
    observation, info = env.reset(seed=seed, options=options)
    doctor.reset(seed=seed)
    total, terminated, truncated = 0.0, False, False
    while not (terminated or truncated):
        observation, reward, terminated, truncated, info = env.step(doctor.act(observation, info))
        total += reward
    case_id = env.unwrapped.consultation.case.id
    return EpisodeResult(case_id, seed, info["score"], total, info["doctor_turns"], terminated, truncated, info)
