"""The consultation: the game core of one visit, and the one episode driver.

A ``Consultation`` holds the visit (transcript, orders, totals, each agent's chat view)
and the rules that advance it: ``doctor_turn`` records a doctor action, lets the examiner
answer orders, ends or truncates the visit and scores it into a step reward;
``patient_turn`` / ``apatient_turn`` let the patient policy answer a question (sync or
async); ``add_patient`` records an answer written elsewhere (the patient agent of the
AEC env). The AEC env, the Gymnasium env, the benchmark runner and training rollouts all
step this object (PettingZoo's thin env over a game core), so they cannot drift apart.
``Clinic.open`` (clinic_env/clinic.py) starts one.

Rewards: ``dense`` pays the change in score at each doctor turn (an episode's rewards sum
to its final score), ``terminal`` pays the final score once. A reward whose grader
decides only at the end (an LLM judge) is finished when the visit ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from clinic_env.actions import (
    PROTOCOL_HELP,
    Action,
    Ask,
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
from clinic_rubrics.sync import run_sync

if TYPE_CHECKING:
    from clinic_env.patient import PatientPolicy
    from clinic_env.rewards import Reward, Score

Speaker = Literal["patient", "doctor", "examiner"]
RewardMode = Literal["dense", "terminal"]
ENDED = "[The consultation has ended.]"
TURN_LIMIT = "[Turn limit reached: the consultation has ended.]"


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


@dataclass(frozen=True)
class DoctorTurn:
    """What one doctor action did.

    ``observation`` is what the doctor sees next: the examiner's report, the end-of-visit
    notice, or "" when the patient must answer first (``awaits_patient``).
    """

    action: Action
    observation: str
    reward: float
    terminated: bool
    truncated: bool

    @property
    def awaits_patient(self) -> bool:
        return isinstance(self.action, Ask) and not (self.terminated or self.truncated)


@dataclass
class Consultation:
    """A visit in progress. ``add_patient`` and ``add_doctor`` are the only ways its transcript
    changes; ``doctor_turn`` and ``patient_turn`` are the steps every driver takes."""

    case: Case
    persona: Persona
    examiner: Examiner
    patient: PatientPolicy | None = None
    reward: Reward | None = None
    reward_mode: RewardMode = "dense"
    max_turns: int = 30
    turns: list[Turn] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    cost: float = 0.0
    turnaround_hours: float = 0.0
    doctor_turns: int = 0
    diagnosis: Diagnose | None = None
    ended: bool = False
    leaks_redacted: int = 0
    truncated: bool = False
    score: float = 0.0
    breakdown: dict[str, Any] = field(default_factory=dict)
    question: str | None = None
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
            reports = self.examiner.answer(action.tests)
        self.doctor_turns += 1
        self.turns.append(Turn("doctor", text, action, reports))
        self._grading.append({"role": "doctor", "content": format_action(action)})
        self.doctor_messages.append({"role": "assistant", "content": text})
        spoken = spoken_text(action)
        if spoken:
            self.patient_messages.append({"role": "user", "content": spoken})
        self.question = action.text if isinstance(action, Ask) else None
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

    # ---- the episode driver ----------------------------------------------------------

    def doctor_turn(self, message: str | Action) -> DoctorTurn:
        """Play one doctor action and score it (from synchronous code: an env step)."""
        action, report, final = self._play_doctor(message)
        score = self._score(final)
        if score is not None and score.pending and final:
            score = run_sync(self.reward.afinish(self), "await consultation.adoctor_turn(...) instead")
        return self._turn(action, report, score, final)

    async def adoctor_turn(self, message: str | Action) -> DoctorTurn:
        """``doctor_turn`` for async drivers: a reward finished at the end is awaited, not blocked on."""
        action, report, final = self._play_doctor(message)
        score = self._score(final)
        if score is not None and score.pending and final:
            score = await self.reward.afinish(self)
        return self._turn(action, report, score, final)

    def patient_turn(self) -> str:
        """The patient policy answers the doctor's question; returns what the doctor is shown."""
        return self.add_patient(self._patient().reply(self.question, self.patient_messages))

    async def apatient_turn(self) -> str:
        """``patient_turn`` for async drivers, through the policy's ``areply`` when it has one."""
        patient = self._patient()
        areply = getattr(patient, "areply", None)
        reply = await areply(self.question, self.patient_messages) if callable(areply) else (
            patient.reply(self.question, self.patient_messages))
        return self.add_patient(reply)

    def _patient(self) -> PatientPolicy:
        if self.patient is None or self.question is None:
            raise RuntimeError("no question awaits the patient: the doctor's last action was not an ASK")
        return self.patient

    def _play_doctor(self, message: str | Action) -> tuple[Action, str | None, bool]:
        if self.ended or self.truncated:
            raise RuntimeError("the consultation has ended; open a new one")
        action, report = self.add_doctor(message)
        self.truncated = not self.ended and self.doctor_turns >= self.max_turns
        return action, report, self.ended or self.truncated

    def _score(self, final: bool) -> Score | None:
        """The reward's score of the visit so far; terminal rewards score only the final turn."""
        if self.reward is None or (self.reward_mode == "terminal" and not final):
            return None
        return self.reward.score(self)

    def _turn(self, action: Action, report: str | None, score: Score | None, final: bool) -> DoctorTurn:
        previous = self.score
        if score is not None:
            self.score, self.breakdown = float(score.value), dict(score.breakdown)
        if self.reward_mode == "dense":
            reward = self.score - previous
        else:
            reward = self.score if final else 0.0
        observation = (ENDED if self.ended else TURN_LIMIT) if final else (report or "")
        return DoctorTurn(action, observation, reward, self.ended, self.truncated)

    def doctor_info(self, action: Action | None) -> dict[str, Any]:
        """The doctor's ``info``: its chat view, the turn, the last action's kind, the score so far
        with its breakdown, and the totals."""
        return {
            "messages": list(self.doctor_messages),
            "turn": self.doctor_turns,
            "action": None if action is None else type(action).__name__,
            "score": self.score,
            "reward_breakdown": dict(self.breakdown),
            **self.totals(),
        }

    def patient_info(self) -> dict[str, Any]:
        """The patient's ``info``: its chat view (system prompt without the diagnosis) and persona."""
        return {"messages": list(self.patient_messages), "persona": self.persona.to_dict()}

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

