"""Offline throughput of the clinic: doctor steps per second and the env's own cost per step.

    python benchmarks/bench_env.py [--episodes 200]

1. Full loop: scripted doctor + offline patient + Gymnasium env, over the train split.
   Target: at least 2,000 doctor steps/s in one process, so the env is never the
   bottleneck next to an LLM.
2. Env overhead: the same env stepping a fixed action script with a patient that answers
   instantly, so the time is the env's (parsing, examiner, bookkeeping, reward, info).

Both are measured warm: a first pass plays every train case once (its time is printed as
the one-off cost per new case: building its rubric and compiling its matchers), so the
figures do not depend on how many distinct cases the split happens to hold.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import clinic_env  # noqa: F401
from clinic_agents.scripted_doctor import ScriptedDoctor
from clinic_env.cases.library import load_cases
from clinic_env.rollout import run_consultation

SCRIPT = ["ASK: When did it start?", "ASK: Any other symptoms?", "EXAMINE: vitals, respiratory",
          "ORDER: complete blood count; c-reactive protein", "ASK: Any allergies?", "ASK: Do you smoke?",
          "ASK: Anything else?", "DIAGNOSE: pneumonia; pulmonary embolism\nPLAN: antibiotics"]


class InstantPatient:
    """Answers at once with a fixed line: takes the patient out of the measurement."""

    def reset(self, profile, persona, seed=None, *, forbidden_names=()):
        return profile.opening_statement

    def reply(self, doctor_message, messages):
        return "I see."


def warm_up() -> tuple[float, int]:
    """Play each train case once; seconds per case of that first, cold episode."""
    cases = load_cases(split="train")
    env = gym.make("clinic_env/Consultation-v0", split="train")
    start = time.perf_counter()
    for case in cases:
        run_consultation(env, ScriptedDoctor(), seed=0, case_id=case.id)
    return (time.perf_counter() - start) / len(cases), len(cases)


def full_loop(episodes: int) -> tuple[float, int, float]:
    env = gym.make("clinic_env/Consultation-v0", split="train")  # speed only: keep the test split unseen
    doctor = ScriptedDoctor()
    steps, score = 0, 0.0
    start = time.perf_counter()
    for seed in range(episodes):
        result = run_consultation(env, doctor, seed=seed)
        steps += result.doctor_turns
        score += result.score
    elapsed = time.perf_counter() - start
    return steps / elapsed, steps, score / episodes


def env_overhead(episodes: int) -> float:
    env = gym.make("clinic_env/Consultation-v0", split="train", patient=InstantPatient())
    steps = 0
    start = time.perf_counter()
    for seed in range(episodes):
        env.reset(seed=seed)
        for action in SCRIPT:
            env.step(action)
            steps += 1
    return (time.perf_counter() - start) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    args = parser.parse_args()
    cold, n_cases = warm_up()
    print(f"first episode of each of the {n_cases} train cases (cold caches): {cold * 1000:.1f} ms per case")
    rate, steps, mean_score = full_loop(args.episodes)
    overhead_us = env_overhead(args.episodes)
    print(f"full loop (scripted doctor + offline patient + env): {rate:,.0f} doctor steps/s "
          f"({steps} steps, {args.episodes} episodes, mean train score {mean_score:.3f})")
    print(f"env overhead per doctor step (instant patient, scripted actions): {overhead_us:,.1f} us")
    print(f"target >= 2,000 doctor steps/s: {'met' if rate >= 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
