"""What every grader returns and promises: one verdict per criterion, or a clear failure.

A grader reads a conversation (OpenAI-style messages; roles "doctor"/"assistant",
"patient"/"user", "examiner") and a rubric, and says for each criterion whether it is
met. A grader that cannot decide (endpoint down, no boolean after its retries) raises
``GradingError`` naming the criterion and the reason: a failed grade is never a silent
0, which would be indistinguishable from a bad doctor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

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


@runtime_checkable
class Grader(Protocol):
    name: str

    async def agrade(self, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
        """One verdict per criterion, in the rubric's order."""


def grade(grader: Grader, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
    """Run a grader from synchronous code (an env step, a script)."""
    return run_sync(grader.agrade(conversation, rubric), "await grader.agrade(...) instead")
