"""What the environment needs from a patient: an opening statement and replies.

Any object with these two methods can play the patient (the offline patient, the LLM
patient, a test's stub). The environment redacts every reply that names the diagnosis
before the doctor sees it, whatever the patient.

Optional, for patients that wait on a model: ``async areply(doctor_message, messages)``.
Async drivers (the benchmark runner) await it when it exists, through
``Consultation.apatient_turn``, the one place that looks; synchronous drivers call ``reply``.
A patient may also expose ``usage`` (a mapping of its token counts), which the runner records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from clinic_env.cases.schema import PatientProfile
from clinic_env.persona import Persona


@runtime_checkable
class PatientPolicy(Protocol):
    """A patient: ``reset`` starts a visit, ``reply`` answers the doctor."""

    def reset(self, profile: PatientProfile, persona: Persona, seed: int | None = None, *,
              forbidden_names: Sequence[str] = ()) -> str:
        """Start a new visit; returns the patient's opening statement.

        ``forbidden_names`` are the names of the diagnosis, for the patient's own leak check
        only: they must never go into a model's prompt (the patient does not know them).
        """

    def reply(self, doctor_message: str, messages: Sequence[dict]) -> str:
        """Answer the doctor's latest words; ``messages`` is the patient's chat view so far."""


def forbidden_tuple(names: Sequence[str]) -> tuple[str, ...]:
    """``forbidden_names`` as a tuple of non-blank names; one bare string is an error, not its letters."""
    if isinstance(names, str):
        raise TypeError(f"forbidden_names must be a sequence of names, not one string: {names!r}")
    return tuple(n for n in (str(x).strip() for x in names) if n)
