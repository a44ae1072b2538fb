"""When a visit is over, read from the dialogue: the doctor gave a diagnosis (and plan),
ended the visit, or the dialogue goes nowhere.

``dialogue_end_reason`` works for any patient policy; ``LLMPatient.should_end`` is the same
gate with the patient's ``stall_turns``. The envs do not call it (they end on DIAGNOSE/END
and truncate at ``max_turns``); a benchmark runner can, before each patient turn::

    consultation = env.unwrapped.consultation
    if patient.should_end(question, consultation.patient_messages):
        observation, reward, terminated, truncated, info = env.step("END: Thank you, goodbye.")
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from clinic_env.actions import Ask, Diagnose, End, parse_action
from clinic_env.leaks import find_diagnosis_terms
from clinic_rubrics.text import is_question, sentences

_DIAGNOSIS_STATEMENT = re.compile(
    r"\b(?:(?:the |your |my |a |working |likely |most likely |final )?diagnosis (?:is|would be|looks like|seems)"
    r"|diagnosis\s*:|my (?:assessment|impression) is|most likely (?:cause |explanation )?(?:is|would be)"
    r"|(?:this|it)(?:'s| is) (?:most )?(?:likely|probably)\b)", re.IGNORECASE)
_STATING = re.compile(
    r"\b(?:you(?:'ve| have| has)(?: got)?|(?:he|she|they)(?:'s| has| have)(?: got)?|this is|it's|it is|"
    r"looks like|sounds like|seems to be|caused by|due to|suffering from)\b", re.IGNORECASE)
_PLAN_STATEMENT = re.compile(
    r"\b(?:(?:the |my |our )?plan (?:is|will be)|plan\s*:"
    r"|(?:we|i)(?:'ll| will| are going to|'re going to| am going to|'m going to|'d like to| would like to| need to|"
    r" want to) (?:start|prescribe|give|admit|refer|arrange|send|book|treat|organi[sz]e|begin|put you|get you|"
    r"keep you|schedule|operate|scan)"
    r"|(?:you(?:'ll| will)? need|you should|you'll have to|you must)\s+(?:to\s+)?(?:take|start|have|go|stay|come|"
    r"see|rest|be admitted|avoid|use)"
    r"|treatment (?:is|will be|with)|(?:i'm|i am|we're|we are) (?:prescribing|referring|admitting|starting|sending)"
    r"|prescri(?:be|bing|ption)|antibiotics?|admit(?:ted|ting)? you|refer(?:ral|ring)? you|follow[- ]up)\b",
    re.IGNORECASE)


def _states_diagnosis_and_plan(text: str) -> bool:
    statements = [s for s in sentences(text) if not is_question(s)]
    diagnosis = any(_DIAGNOSIS_STATEMENT.search(s) or (_STATING.search(s) and find_diagnosis_terms(s))
                    for s in statements)
    return diagnosis and any(_PLAN_STATEMENT.search(s) for s in statements)


def _said(message: str) -> str:
    """A doctor message as words, for comparing: the spoken text, lower-cased, letters and digits only."""
    action = parse_action(message)
    text = action.text if isinstance(action, (Ask, End)) else str(message)
    return " ".join(re.findall(r"\w+", text.lower()))


def dialogue_end_reason(doctor_message: str, messages: Sequence[dict] = (), stall_turns: int = 3) -> str | None:
    """Why the visit should end after ``doctor_message``, or None.

    "diagnosis": a DIAGNOSE command; "diagnosis_and_plan": spoken words that state a diagnosis
    and a plan; "ended_by_doctor": an END command; "stalled": the last ``stall_turns`` doctor
    messages are each empty or a repeat of an earlier one, or the patient's last
    ``stall_turns`` replies are identical. ``messages`` is the patient's chat view (doctor =
    "user", patient = "assistant"); ``doctor_message`` may already be its last message.
    """
    message = "" if doctor_message is None else str(doctor_message)
    action = parse_action(message)
    if isinstance(action, Diagnose) and action.differential:
        return "diagnosis"
    if isinstance(action, End):
        return "ended_by_doctor"
    if isinstance(action, Ask) and _states_diagnosis_and_plan(action.text):
        return "diagnosis_and_plan"
    history = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    doctor = [str(m.get("content") or "") for m in history if m["role"] == "user"]
    if not (history and history[-1]["role"] == "user" and str(history[-1].get("content") or "") == message):
        doctor.append(message)
    said = [_said(m) for m in doctor]
    if len(said) > stall_turns - 1 >= 0:
        window = range(len(said) - stall_turns, len(said))
        if all(not said[i] or said[i] in said[:i] for i in window):
            return "stalled"
    patient = [_said(str(m.get("content") or "")) for m in history if m["role"] == "assistant"]
    if stall_turns > 1 and len(patient) >= stall_turns and len(set(patient[-stall_turns:])) == 1:
        return "stalled"
    return None
