"""The consultation: one visit's transcript, orders and totals, and the rules that grow it.

Both environments (the PettingZoo AEC env and the Gymnasium env) drive a
``Consultation``; rewards score it, renderers draw it. It keeps each agent's chat view
(``doctor_messages``, ``patient_messages``) up to date as turns are added, so an
environment step never rebuilds the dialogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from clinic_env.actions import (
    PROTOCOL_HELP,
    Action,
    Diagnose,
    End,
    Examine,
    OrderTests,
    format_action,
    parse_action,
    spoken_text,
)
from clinic_env.cases.schema import Case
from clinic_env.examiner import Examiner, Report
from clinic_env.leaks import redact_leaks
from clinic_env.patient import patient_system_prompt
from clinic_env.persona import Persona

Speaker = Literal["patient", "doctor", "examiner"]


@dataclass(frozen=True)
class Turn:
    """One contribution to the visit. A doctor turn carries its raw text and parsed action."""

    speaker: Speaker
    text: str
    action: Action | None = None
    reports: tuple[Report, ...] = ()


def doctor_system_prompt(case: Case) -> str:
    """The doctor's system prompt: the setting and the action protocol, nothing of the case."""
    d = case.demographics
    age = f"{d.age_years:g}-year-old" if d.age_years >= 2 else f"{round(d.age_years * 12)}-month-old"
    who = f"a {age} {d.sex}" + (" (pregnant)" if d.pregnant else "")
    accompanied = "" if case.informant == "patient" else f", accompanied by their {case.informant} who answers for them"
    return f"You are a doctor seeing {who}{accompanied}.\n{PROTOCOL_HELP}"


@dataclass
class Consultation:
    """A visit in progress. ``add_patient`` and ``add_doctor`` are the only ways it changes."""

    case: Case
    persona: Persona
    examiner: Examiner
    turns: list[Turn] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    cost: float = 0.0
    turnaround_hours: float = 0.0
    doctor_turns: int = 0
    diagnosis: Diagnose | None = None
    ended: bool = False
    leaks_redacted: int = 0
    doctor_messages: list[dict[str, str]] = field(default_factory=list)
    patient_messages: list[dict[str, str]] = field(default_factory=list)
    _grading: list[dict[str, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.doctor_messages.append({"role": "system", "content": doctor_system_prompt(self.case)})
        self.patient_messages.append(
            {"role": "system", "content": patient_system_prompt(self.case.patient_view(), self.persona)}
        )

    def add_patient(self, text: str) -> str:
        """Record a patient reply, with any sentence naming the diagnosis removed; returns what was kept."""
        text, dropped = redact_leaks(str(text), self.case.diagnosis_names)
        self.leaks_redacted += dropped
        self.turns.append(Turn("patient", text))
        self._grading.append({"role": "patient", "content": text})
        self.doctor_messages.append({"role": "user", "content": text})
        self.patient_messages.append({"role": "assistant", "content": text})
        return text

    def add_doctor(self, message: str | Action) -> tuple[Action, str | None]:
        """Record a doctor turn. Returns the action and the examiner's report text, if any."""
        action = parse_action(message)
        text = message if isinstance(message, str) else format_action(action)
        reports: tuple[Report, ...] = ()
        if isinstance(action, Examine):
            reports = tuple(self.examiner.examine(system) for system in action.systems)
        elif isinstance(action, OrderTests):
            reports = tuple(self.examiner.order(test) for test in action.tests)
        self.doctor_turns += 1
        self.turns.append(Turn("doctor", text, action, reports))
        self._grading.append({"role": "doctor", "content": format_action(action)})
        self.doctor_messages.append({"role": "assistant", "content": text})
        spoken = spoken_text(action)
        if spoken:
            self.patient_messages.append({"role": "user", "content": spoken})
        if isinstance(action, Diagnose):
            self.diagnosis, self.ended = action, True
        elif isinstance(action, End):
            self.ended = True
        if not reports:
            return action, None
        self.reports.extend(reports)
        self.cost += sum(r.cost for r in reports)
        self.turnaround_hours += sum(r.turnaround_hours for r in reports)
        report_text = "\n".join(r.render() for r in reports)
        self.turns.append(Turn("examiner", report_text, reports=reports))
        self._grading.append({"role": "examiner", "content": report_text})
        self.doctor_messages.append({"role": "user", "content": report_text})
        return action, report_text

    def grading_conversation(self) -> list[dict[str, str]]:
        """The visit as graders read it: roles doctor / patient / examiner, doctor turns in the
        protocol's canonical form (what the env understood, not the raw text around it)."""
        return list(self._grading)

    def totals(self) -> dict[str, float | int]:
        """Episode totals for ``info``: cost, turnaround, orders, doctor turns."""
        return {
            "cost": self.cost,
            "turnaround_hours": self.turnaround_hours,
            "exams": sum(r.kind == "exam" for r in self.reports),
            "tests": sum(r.kind == "test" for r in self.reports),
            "doctor_turns": self.doctor_turns,
            "leaks_redacted": self.leaks_redacted,
        }

