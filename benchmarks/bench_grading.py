"""How long reading one turn takes, on hostile turns and on a normal consultation.

    python benchmarks/bench_grading.py [--repeats 3]

A doctor can send any text, and one slow turn blocks every episode sharing the event loop,
so every reader of consultation text must be linear in its length. Per input this prints
milliseconds (median of ``--repeats``, caches cold: each repeat reads a fresh text) for
the offline grader (the rubric of cardio_aortic_dissection, which reads "cough" as an
affirmed mention, so every cough costs a negation check), the offline patient answering
the turn, the leak scanner and the LLM patient's fact checker reading it as a reply, and
the scripted doctor reading it. Target: grading "cough " x 8,000 under 50 ms. That
reading stays linear is checked by counting in tests/test_linear_reading.py; this is the
figure itself, which a loaded machine would make meaningless as a test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym

import clinic_env  # noqa: F401  (registers the env)
from clinic_agents.scripted_doctor import ScriptedDoctor, read
from clinic_env.case_rubric import case_rubric
from clinic_env.cases.library import load_cases
from clinic_env.leaks import find_diagnosis_terms, redact_leaks
from clinic_env.patient.checker import FactChecker
from clinic_env.patient.offline import OfflinePatient
from clinic_env.persona import Persona
from clinic_env.rollout import run_consultation
from clinic_rubrics.offline_grader import OfflineGrader

CASE_ID = "cardio_aortic_dissection"
TARGET_MS = 50.0
HOSTILE = {
    '"cough " x 8,000': "cough " * 8000,
    '"no " x 8,000': "no " * 8000,
    "one 50,000-letter word": "c" * 50000,
    '"cough-" x 8,000': "cough-" * 8000,
    "3,000 sentences": "I have had a cough since Monday. " * 3000,
    "7,000 commas": "cough, " * 7000,
    '"no cough, " x 5,000': "no cough, " * 5000,
    '"haven\'t had any cough " x 2,000': "haven't had any cough " * 2000,
    '"if you get a cough " x 2,500': "if you get a cough " * 2500,
}


def normal_consultation() -> list[dict]:
    """The messages of one scripted consultation on the benchmark case."""
    env = gym.make("clinic_env/Consultation-v0")
    result = run_consultation(env, ScriptedDoctor(), seed=0, case_id=CASE_ID)
    return [m for m in result.info["messages"] if m["role"] != "system"]


def median_ms(read_once: Callable[[int], object], repeats: int) -> float:
    """Median milliseconds of ``read_once(i)`` over ``repeats`` calls."""
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        read_once(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def readers(case) -> dict[str, Callable[[str], object]]:
    """Each reader of one turn of text, by name."""
    rubric = case_rubric(case)
    checker = FactChecker(case.patient_view())

    def grade(text: str) -> object:
        return OfflineGrader().session(rubric).update([{"role": "assistant", "content": text}])

    def answer(text: str) -> object:
        patient = OfflinePatient()
        patient.reset(case.patient_view(), Persona())
        return patient.reply(text)

    return {"grade": grade, "patient": answer,
            "leaks": lambda text: (redact_leaks(text, case.diagnosis_names), find_diagnosis_terms(text)),
            "checker": checker.contradictions, "doctor": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    case = next(c for c in load_cases() if c.id == CASE_ID)
    by_name = readers(case)
    print(f"{'input':34s} {'chars':>7s}" + "".join(f" {name + ' ms':>11s}" for name in by_name))
    graded = {}
    for label, text in HOSTILE.items():
        cells = [median_ms(lambda i, f=reader, t=text: f(f"{t} ({i})"), args.repeats) for reader in by_name.values()]
        graded[label] = cells[0]
        print(f"{label:34s} {len(text):7,d}" + "".join(f" {ms:11.1f}" for ms in cells))
    messages = normal_consultation()
    rubric = case_rubric(case)
    ms = median_ms(lambda i: OfflineGrader().session(rubric).update(
        [{**m, "content": f"{m['content']} ({i})"} for m in messages]), args.repeats)
    chars = sum(len(m["content"]) for m in messages)
    print(f"normal consultation: {len(messages)} messages, {chars:,d} chars, graded in {ms:.1f} ms")
    cough = graded['"cough " x 8,000']
    print(f'target: grading "cough " x 8,000 under {TARGET_MS:.0f} ms: {"met" if cough < TARGET_MS else "NOT met"} '
          f"({cough:.1f} ms)")


if __name__ == "__main__":
    main()
