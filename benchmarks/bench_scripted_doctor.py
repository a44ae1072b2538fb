"""Time the scripted doctor spends deciding: milliseconds per act(), env time left out.

    python benchmarks/bench_scripted_doctor.py [--seeds 2]

Plays every train and test case of the builtin library once per seed through the Gymnasium
env (offline patient) and times only ``ScriptedDoctor.act``. Target: under 0.5 ms per act,
so the baseline never slows a rollout or a benchmark sweep. (What keeps it fast, ranking
the conditions from the keywords heard rather than scanning every feature, is checked by
counting in tests/test_scripted_doctor.py; this is the figure itself, which a loaded
machine would make meaningless as a test.)
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import clinic_env  # noqa: F401  (registers the env)
from clinic_agents.scripted_doctor import ScriptedDoctor
from clinic_env.cases.library import load_cases

TARGET_MS = 0.5


def act_times(split: str, seeds: int) -> tuple[float, int]:
    """Seconds spent inside act() over the split's cases, and the number of acts."""
    env = gym.make("clinic_env/Consultation-v0", split=split, reward="diagnosis_match")
    doctor = ScriptedDoctor()
    seconds, acts = 0.0, 0
    for seed in range(seeds):
        for k, case in enumerate(load_cases(split=split)):
            observation, info = env.reset(seed=seed * 1000 + k, options={"case_id": case.id})
            doctor.reset(seed=seed * 1000 + k)
            while True:
                start = time.perf_counter()
                action = doctor.act(observation, info)
                seconds += time.perf_counter() - start
                acts += 1
                observation, _, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    break
    return seconds, acts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    for split in ("train", "test"):  # warm: the cached reading of replies, the env's per-case caches
        act_times(split, 1)
    seconds, acts = 0.0, 0
    for split in ("train", "test"):
        split_seconds, split_acts = act_times(split, args.seeds)
        seconds, acts = seconds + split_seconds, acts + split_acts
        print(f"{split}: {split_seconds / split_acts * 1000:.3f} ms per act ({split_acts} acts)")
    per_act = seconds / acts * 1000
    print(f"scripted doctor: {per_act:.3f} ms per act over {acts} acts "
          f"(target < {TARGET_MS} ms: {'met' if per_act < TARGET_MS else 'NOT met'})")


if __name__ == "__main__":
    main()
