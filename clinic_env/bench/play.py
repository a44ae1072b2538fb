"""Playing one consultation of a run on its own AEC env, into one results.jsonl record."""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from clinic_env import consultation_v0
from clinic_env.bench.components import DeferredRubricReward, Run
from clinic_env.bench.config import Episode
from clinic_env.consultation_v0 import DOCTOR, PATIENT
from clinic_env.usage import meter


async def _call(obj: Any, async_name: str, sync_name: str, *args: Any) -> Any:
    method = getattr(obj, async_name, None)
    if callable(method):
        return await method(*args)
    result = getattr(obj, sync_name)(*args)
    return await result if inspect.isawaitable(result) else result


async def run_episode(episode: Episode, run: Run) -> dict[str, Any]:
    """Play one consultation on its own AEC env; the record for results.jsonl, status "ok" or "error".

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
    raw = None
    try:
        doctor, patient, reward = run.make_doctor(), run.make_patient(), run.make_reward()
        env = consultation_v0.env(cases=[case], patient=patient, reward=reward, reward_mode="terminal",
                                  max_turns=run.max_turns, persona=run.persona)
        raw = env.unwrapped
        env.reset(seed=episode.seed, options={"case_id": case.id})
        consultation = raw.consultation
        reset = doctor.reset(seed=episode.seed)
        if inspect.isawaitable(reset):
            await reset
        while True:
            t = time.perf_counter()
            action = await _call(doctor, "aact", "act", env.observe(DOCTOR)["message"], raw.infos[DOCTOR])
            timings["doctor"] += time.perf_counter() - t
            env.step(action)
            if raw.terminations[DOCTOR] or raw.truncations[DOCTOR]:
                break
            if raw.agent_selection == PATIENT:
                t = time.perf_counter()
                reply = await _call(patient, "areply", "reply", env.observe(PATIENT)["message"],
                                    raw.infos[PATIENT]["messages"])
                timings["patient"] += time.perf_counter() - t
                env.step(reply)
        info = raw.infos[DOCTOR]
        score, breakdown = float(info["score"]), dict(info["reward_breakdown"])
        if isinstance(reward, DeferredRubricReward):
            t = time.perf_counter()
            result = await reward.ascore(consultation)
            timings["grading"] += time.perf_counter() - t
            score, breakdown = float(result.value), dict(result.breakdown)
        record.update({
            "score": score,
            "raw_score": breakdown.get("raw_score"),
            "dimensions": breakdown.get("dimensions"),
            "verdicts": breakdown.get("verdicts"),
            **({"explanations": breakdown["explanations"]} if "explanations" in breakdown else {}),
            "terminated": bool(raw.terminations[DOCTOR]),
            "truncated": bool(raw.truncations[DOCTOR]),
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
            "persona": raw._persona_dict if raw is not None else None,
            "differential": list(consultation.diagnosis.differential) if consultation.diagnosis else None,
            "transcript": consultation.grading_conversation(),
        })
    record.setdefault("error", None)
    record["timings"] = {"total": total, **timings, "env": max(0.0, total - sum(timings.values()))}
    record["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record
