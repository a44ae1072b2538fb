"""An LLM that writes a case's rubric in the same schema as ``case_rubric.build_case_rubric``.

Baichuan-M2's rubric generator turns expert judgement into weighted criteria; here a
model reads the whole case (it is on the grader's side of the wall, so it may see the
diagnosis) and answers with JSON. The answer is validated against ``clinic_rubrics.schema`` plus
three rules of our own (all six dimensions covered, at least one negative criterion, at least
one critical harm); an invalid answer is sent back with the reason and the model tries again,
up to ``max_attempts``. A generated rubric is gated like a builtin one (``harm_cap`` is
``case_rubric.HARM_CAP``), so a written rubric cannot let harmful care outscore safe care
either. Generated criteria carry no offline matchers: grade them with an LLM judge.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from clinic_env.case_rubric import HARM_CAP
from clinic_env.cases.schema import Case
from clinic_rubrics.chat import ChatClient
from clinic_rubrics.schema import DIMENSIONS, Rubric
from clinic_rubrics.sync import run_sync

INSTRUCTIONS = """You write grading rubrics for simulated medical consultations.
Read the case below and write the criteria a senior clinician would use to grade the doctor
who saw this patient (the doctor never saw this case file; they had to take a history,
examine, order tests, diagnose and plan).

Answer with one JSON object and nothing else: {"criteria": [...]}. Each criterion is
{"id": short snake_case id, "text": one observable behaviour of the doctor,
  "points": integer from -10 to 10, never 0, "dimension": one of <<DIMENSIONS>>,
  "tags": list of short strings, "critical": true or false}.
Positive points reward what a good doctor does (weigh the diagnosis and safety highest);
negative points penalise what must not happen (e.g. a contraindicated drug, a missed red
flag, an unnecessary costly test, a diagnosis before any question, a shotgun differential,
stating facts the patient never gave). Mark "critical": true on each negative criterion for
care that could seriously harm this patient (a contraindicated treatment, sending home a
patient who needs admission or emergency care, reassurance over a red flag): a met critical
criterion caps the whole visit's score at <<HARM_CAP>>. Cover all six dimensions and include
at least <<MIN_CRITERIA>> criteria, at least one of them negative and one critical."""


class RubricGenerationError(RuntimeError):
    """The model gave no valid rubric within the allowed attempts; the message has the last reason."""


def _strip_fences(text: str) -> str:
    match = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    return (match.group(1) if match else text).strip()


def parse_rubric(text: str, case_id: str, min_criteria: int) -> Rubric:
    """A validated rubric from a model's answer; ``ValueError`` says exactly what is wrong."""
    try:
        data = json.loads(_strip_fences(text))
    except json.JSONDecodeError as err:
        raise ValueError(f"the answer is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("criteria"), list):
        raise ValueError('the answer must be a JSON object with a "criteria" list')
    try:
        rubric = Rubric(criteria=data["criteria"], metadata={"case_id": case_id, "source": "llm_rubric_generator"},
                        harm_cap=HARM_CAP)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"invalid rubric at {where}: {first['msg']} ({err.error_count()} problem(s) in all)") from None
    missing = sorted(set(DIMENSIONS) - {c.dimension for c in rubric.criteria})
    if missing:
        raise ValueError(f"the rubric does not cover the dimension(s) {missing}")
    if len(rubric.criteria) < min_criteria:
        raise ValueError(f"the rubric has {len(rubric.criteria)} criteria; at least {min_criteria} are needed")
    if not any(c.points < 0 for c in rubric.criteria):
        raise ValueError("the rubric has no negative criterion")
    if not any(c.critical for c in rubric.criteria):
        raise ValueError('the rubric has no critical criterion (a serious harm marked "critical": true)')
    return rubric


class LLMRubricGenerator:
    """Writes a rubric for a case through any ``ChatClient``; usable as ``RubricReward(builder=...)``.

    Each case's rubric is written once per generator and kept, so every episode on a case
    is graded against the same rubric (and the model is asked once, not per episode).
    """

    def __init__(self, client: ChatClient, max_attempts: int = 3, min_criteria: int = 10, temperature: float = 0.0):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.client, self.max_attempts, self.min_criteria, self.temperature = client, max_attempts, min_criteria, temperature
        self._rubrics: dict[Case, Rubric] = {}

    def messages(self, case: Case) -> list[dict[str, str]]:
        case_json = case.model_dump_json(indent=1, exclude_none=True)
        instructions = INSTRUCTIONS.replace("<<DIMENSIONS>>", ", ".join(DIMENSIONS))
        instructions = instructions.replace("<<MIN_CRITERIA>>", str(self.min_criteria))
        instructions = instructions.replace("<<HARM_CAP>>", f"{HARM_CAP:g}")
        return [{"role": "system", "content": instructions},
                {"role": "user", "content": f"Case file:\n```json\n{case_json}\n```"}]

    async def agenerate(self, case: Case) -> Rubric:
        if case not in self._rubrics:
            self._rubrics[case] = await self._write(case)
        return self._rubrics[case]

    async def _write(self, case: Case) -> Rubric:
        messages = self.messages(case)
        reason = ""
        for _ in range(self.max_attempts):
            answer = await self.client.complete(messages, temperature=self.temperature)
            try:
                return parse_rubric(answer, case.id, self.min_criteria)
            except ValueError as err:
                reason = str(err)
                messages = messages + [
                    {"role": "assistant", "content": answer},
                    {"role": "user", "content": f"That rubric is invalid: {reason}. Answer again with the corrected JSON only."},
                ]
        raise RubricGenerationError(
            f"case {case.id}: no valid rubric after {self.max_attempts} attempt(s); last problem: {reason}"
        )

    def __call__(self, case: Case) -> Rubric:
        """Synchronous generation (for ``RubricReward``, through ``clinic_rubrics.sync``); async code awaits ``agenerate``."""
        return run_sync(self.agenerate(case), "await LLMRubricGenerator.agenerate(case) instead")
