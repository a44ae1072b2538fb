"""The grader contract: sessions that read a consultation as it grows and give one verdict per criterion.

A grader reads a conversation (OpenAI-style messages; roles "doctor"/"assistant",
"patient"/"user", "examiner") against a rubric. Every grader implements ONE method,
``session(rubric)``, and everything that grades (the env's reward, the benchmark runner,
HealthBench, training) goes through it:

    session = grader.session(rubric)
    session.update(new_messages)   # after each turn: the verdicts so far, or None if undecided
    verdicts = await session.finish()

``update`` lets a cheap grader (the offline matcher) score every step of a dense reward
while reading each message once; a grader that needs the whole visit (an LLM judge)
returns None until ``finish``, so it costs one judging per episode, never one per step.
A grader that cannot decide (endpoint down, no boolean after its retries) raises
``GradingError`` naming the criterion and the reason: a failed grade is never a silent
0, which would be indistinguishable from a bad doctor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from clinic_rubrics.schema import Rubric
from clinic_rubrics.sync import run_sync

Message = dict[str, str]

# Which message roles count as which speaker; HealthBench's user/assistant map onto patient/doctor.
SPEAKER_ROLES: dict[str, frozenset[str]] = {
    "doctor": frozenset({"doctor", "assistant"}),
    "patient": frozenset({"patient", "user"}),
    "examiner": frozenset({"examiner"}),
    "any": frozenset({"doctor", "assistant", "patient", "user", "examiner"}),
}


@dataclass(frozen=True)
class Verdict:
    criterion_id: str
    met: bool
    explanation: str = ""
    grader: str = ""


class GradingError(RuntimeError):
    """A grader could not decide a criterion; the message says which and why."""


class GradingSession(Protocol):
    """The grading of one conversation against one rubric, fed the messages as they come."""

    def update(self, new_messages: Sequence[Message]) -> list[Verdict] | None:
        """Read the messages added since the last call. The verdicts on everything read so far
        (one per criterion, rubric order), or None when this grader decides only at ``finish``."""

    async def finish(self) -> list[Verdict]:
        """The verdicts on the whole conversation read so far, one per criterion in rubric order."""


class Grader(ABC):
    """Base class of graders: implement ``session``; ``agrade`` and ``grade`` grade a whole
    conversation through it (for scripts, HealthBench and tests), so there is one code path."""

    name: str = "grader"

    @abstractmethod
    def session(self, rubric: Rubric) -> GradingSession:
        """A fresh session grading one conversation against ``rubric``."""

    async def agrade(self, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
        """One verdict per criterion of ``rubric`` on the whole ``conversation``."""
        session = self.session(rubric)
        verdicts = session.update(conversation)
        return verdicts if verdicts is not None else await session.finish()

    def grade(self, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
        """``agrade`` from synchronous code (a script, an env step); an incremental grader answers
        on the spot, any other runs on the shared background loop (``clinic_rubrics.sync``)."""
        session = self.session(rubric)
        verdicts = session.update(conversation)
        return verdicts if verdicts is not None else run_sync(session.finish(), "await grader.agrade(...) instead")


class WholeConversationGrader(Grader):
    """A grader that judges the finished conversation in one go (an LLM judge): subclasses
    implement ``agrade_conversation``; the session collects messages and judges at ``finish``."""

    @abstractmethod
    async def agrade_conversation(self, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
        """One verdict per criterion, in the rubric's order, on the whole conversation."""

    def session(self, rubric: Rubric) -> WholeConversationSession:
        return WholeConversationSession(self, rubric)


class WholeConversationSession:
    """Keeps the messages; ``update`` never decides; ``finish`` asks the grader once."""

    def __init__(self, grader: WholeConversationGrader, rubric: Rubric) -> None:
        self.grader, self.rubric = grader, rubric
        self.conversation: list[Message] = []

    def update(self, new_messages: Sequence[Message]) -> None:
        self.conversation.extend(new_messages)

    async def finish(self) -> list[Verdict]:
        return await self.grader.agrade_conversation(list(self.conversation), self.rubric)
