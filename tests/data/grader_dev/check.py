"""Check a grader development file: parse, known cases, and every visit plays through the env.

Usage: python tests/data/grader_dev/check.py consultations_a.jsonl [pairs_a.jsonl ...]
Prints the default (terminal) reward of each visit so a report can quote it; never edit a
consultation to change its score.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import gymnasium as gym

import clinic_env  # noqa: F401  (registers the env)
from clinic_env.cases.library import get_case

_KINDS = {"EXAMINE": "Examine", "ORDER": "OrderTests", "DIAGNOSE": "Diagnose"}


def play(case_id: str, turns: list[str], where: str) -> float:
    """Play the doctor turns; fail loudly unless the visit ends exactly on the DIAGNOSE turn."""
    env = gym.make("clinic_env/Consultation-v0", cases=[case_id], persona="typical", reward_mode="terminal")
    env.reset(seed=0)
    reward = 0.0
    for i, turn in enumerate(turns):
        _, reward, terminated, truncated, info = env.step(turn)
        head = turn.lstrip("*# ").split(":", 1)[0].strip("* ").upper()
        kind = str(info["action"])
        if head in _KINDS and _KINDS[head] not in kind:
            raise SystemExit(f"{where} turn {i}: {head} parsed as {kind}")
        last = i == len(turns) - 1
        if (terminated or truncated) != last:
            raise SystemExit(f"{where} turn {i}: visit ended={terminated or truncated}, last turn={last}")
    return float(reward)


def main(paths: list[str]) -> None:
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            where = f"{path}:{n} ({row['id']})"
            get_case(row["case_id"])
            if row["id"].split("/")[0] != row["case_id"]:
                raise SystemExit(f"{where}: id does not start with its case_id")
            if "quality" in row:
                if (row["quality"] == "dangerous") != bool(row["harm"] and row["harm_kind"]):
                    raise SystemExit(f"{where}: harm and harm_kind are required for dangerous visits only")
                scores[row["case_id"]][row["quality"]] = play(row["case_id"], row["doctor_turns"], where)
            else:
                safe = play(row["case_id"], row["safe"], where + " safe")
                other = play(row["case_id"], row["other"], where + " other")
                ok = safe >= other if row["relation"] == ">=" else safe > other
                print(f"{row['id']:<45} {row['kind']:<9} safe {safe:.3f} other {other:.3f} {'ok' if ok else 'FAIL'}")
    for case_id, by in sorted(scores.items()):
        print(f"{case_id:<30} " + "  ".join(f"{q} {s:.3f}" for q, s in sorted(by.items())))
    for quality in ("excellent", "safe_mediocre", "dangerous"):
        vals = [by[quality] for by in scores.values() if quality in by]
        if vals:
            print(f"mean {quality}: {statistics.mean(vals):.3f} (n={len(vals)})")
    inverted = [c for c, by in scores.items() if by.get("dangerous", -1) >= by.get("safe_mediocre", 2)]
    if scores:
        print(f"dangerous >= safe_mediocre in {len(inverted)}/{len(scores)} cases")


if __name__ == "__main__":
    main(sys.argv[1:])
