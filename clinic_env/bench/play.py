"""Playing one consultation of a run, into one results.jsonl record.

It steps the episode driver (``Consultation.adoctor_turn`` / ``apatient_turn``) that both
envs step, opened by the same ``Clinic``, so a benchmark episode is the env's episode for
that seed; async doctors, patients and graders are awaited, never blocked on.
"""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from gymnasium.utils import seeding

from clinic_env.bench.components import Run
from clinic_env.bench.config import Episode
from clinic_env.clinic import Clinic
from clinic_env.llm.usage import meter
from clinic_env.spaces import fit_to_space


async def _act(doctor: Any, observation: str, info: dict) -> Any:
    """The doctor's next action, through ``aact`` when it has one."""
    aact = getattr(doctor, "aact", None)
    result = await aact(observation, info) if callable(aact) else doctor.act(observation, info)
    return await result if inspect.isawaitable(result) else result


async def run_episode(episode: Episode, run: Run) -> dict[str, Any]:
    """Play one consultation; the record for results.jsonl, status "ok" or "error".

    Exceptions (``Exception``) become an "error" record; cancellation and KeyboardInterrupt
    propagate. ``record["llm"]`` counts the episode's LLM calls, tokens and cost (doctor,
    patient and judge alike: the meter follows the episode's task).
    """
    with meter() as llm:
        record = await _play_episode(episode, run)
    record["llm"] = llm.as_dict()
    return record


async def _play_episode(episode: Episode, run: Run) -> dict[str, Any]:
    case = episode.case
    record: dict[str, Any] = {
        "key": episode.key, "case_id": case.id, "specialty": case.specialty, "split": case.split, "k": episode.k,
        "seed": episode.seed, "run_seed": run.run_seed, **run.labels, "status": "ok", "score": None,
        "raw_score": None, "dimensions": None, "verdicts": None, "terminated": None, "truncated": None,
    }
    timings = {"doctor": 0.0, "patient": 0.0, "grading": 0.0}
    start = time.perf_counter()
    consultation = None
    try:
        doctor, patient = run.make_doctor(), run.make_patient()
        clinic = Clinic(cases=[case], patient=patient, reward=run.make_reward(), reward_mode="terminal",
                        max_turns=run.max_turns, persona=run.persona)
        consultation = clinic.open(seeding.np_random(episode.seed)[0], {"case_id": case.id})
        reset = doctor.reset(seed=episode.seed)
        if inspect.isawaitable(reset):
            await reset
        observation, info = fit_to_space(consultation.turns[-1].text), consultation.doctor_info(None)
        while True:
            t = time.perf_counter()
            action = await _act(doctor, observation, info)
            timings["doctor"] += time.perf_counter() - t
            t = time.perf_counter()
            turn = await consultation.adoctor_turn(action)
            if turn.terminated or turn.truncated:
                timings["grading"] += time.perf_counter() - t
                break
            observation = turn.observation
            if turn.awaits_patient:
                t = time.perf_counter()
                observation = await consultation.apatient_turn()
                timings["patient"] += time.perf_counter() - t
            observation, info = fit_to_space(observation), consultation.doctor_info(turn.action)
        breakdown = consultation.breakdown
        record.update({
            "score": consultation.score,
            "raw_score": breakdown.get("raw_score"),
            "dimensions": breakdown.get("dimensions"),
            "verdicts": breakdown.get("verdicts"),
            **({"explanations": breakdown["explanations"]} if "explanations" in breakdown else {}),
            "terminated": turn.terminated,
            "truncated": turn.truncated,
        })
        usage = {name: dict(u) for name, obj in (("doctor", doctor), ("patient", patient))
                 if isinstance(u := getattr(obj, "usage", None), Mapping)}
        if usage:
            record["usage"] = usage
    except Exception as err:  # noqa: BLE001 - recorded, never scored
        record.update({"status": "error", "score": None, "error": {
            "type": type(err).__name__, "message": str(err),
            "traceback": "".join(traceback.format_exception(type(err), err, err.__traceback__)[-3:]),
        }})
    total = time.perf_counter() - start
    if consultation is not None:
        record.update({
            **{k: consultation.totals()[k] for k in ("cost", "turnaround_hours", "exams", "tests", "doctor_turns",
                                                     "leaks_redacted")},
            "persona": consultation.persona.to_dict(),
            "differential": list(consultation.diagnosis.differential) if consultation.diagnosis else None,
            "transcript": consultation.grading_conversation(),
        })
    record.setdefault("error", None)
    record["timings"] = {"total": total, **timings, "env": max(0.0, total - sum(timings.values()))}
    record["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record
