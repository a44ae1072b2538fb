"""An LLM-played patient: persona-conditioned, fact-checked, and able to tell when the visit is over.

    from clinic_env.llm import LLMClient
    patient = LLMPatient(LLMClient("Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1"),
                         sampling={"temperature": 0.7, "max_tokens": 300})
    env = gym.make("clinic_env/Consultation-v0", patient=patient)

``LLMPatient`` follows ``PatientPolicy`` (``reset`` -> opening statement, ``reply`` ->
answer) and adds ``async areply`` (the benchmark runner, in an event loop, awaits it;
``reply`` runs it to completion on ``clinic_rubrics.sync``'s background loop, so the
Gymnasium env can call it, in a notebook too). Its model client is anything with
``async complete(messages, **sampling) -> str`` (``clinic_rubrics.chat.ChatClient``).

The model is sent ``patient_system_prompt`` (``clinic_env.patient.prompt``), the same prompt
the environment shows in the patient's ``info["messages"]``. The opening statement is the
offline patient's (the case's, plus a seeded worry for an anxious persona): deterministic,
no model call in ``reset``.

**Every reply is checked** before it is returned (``check``; ``acheck`` adds the optional
LLM check of ``clinic_env.patient.checker``):

1. *leak*: the reply names a diagnosis. The ``forbidden_names`` given to ``reset`` (the env
   gives the case's diagnosis names) are always forbidden. Beyond them, any
   diagnosis-sounding term (``clinic_env.leaks.find_diagnosis_terms``) is a leak unless the
   doctor said it first or the patient's own facts contain it ("I've got type 2 diabetes").
2. *contradiction*: the reply denies a fact of the profile or affirms a pertinent negative
   (``FactChecker``).
3. optionally, *an LLM check*: with ``check_client``, a model is shown the facts, the
   question and the reply. An unreadable or failed check lets the reply through and is
   counted in ``stats["llm_check_errors"]``.

A reply that fails is regenerated, the model being told briefly what was wrong, up to
``max_regenerations`` times; if every attempt fails, the patient gives the offline
patient's answer to the question instead (built from the same profile and persona, with
any forbidden name redacted) and counts a fallback. ``stats`` counts replies, model calls,
regenerations, fallbacks and each kind of problem over the patient's life;
``last_problems`` lists the problems found while writing the last reply. The environment
still redacts any sentence naming the true diagnosis, as a last line of defence. Errors
of the model client (network, HTTP) propagate: they are the client's to retry.

``should_end`` (reason: ``end_reason``) is ``clinic_env.patient.ending``'s gate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from clinic_env.cases.schema import PatientProfile
from clinic_env.leaks import find_diagnosis_terms, find_leaks
from clinic_env.patient.checker import CHECK_SYSTEM_PROMPT, FactChecker, Problem, parse_verdict
from clinic_env.patient.ending import dialogue_end_reason
from clinic_env.patient.offline import OfflinePatient
from clinic_env.patient.prompt import facts_block, patient_system_prompt
from clinic_env.patient.protocol import forbidden_tuple
from clinic_env.persona import Persona
from clinic_rubrics.sync import run_sync

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.IGNORECASE | re.DOTALL)
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:patient|parent|partner|carer|me|answer)(?:\*\*)?\s*:\s*(?:\*\*)?", re.IGNORECASE)

_STAT_KEYS = ("replies", "model_calls", "regenerations", "fallbacks", "leak", "denies_fact", "affirms_negative",
              "empty", "llm_check", "llm_check_calls", "llm_check_errors")


def _clean(text: Any) -> str:
    """The spoken words of a model reply: no thinking block, "Patient:" label or wrapping quotes."""
    text = _THINK.sub("", "" if text is None else str(text)).strip()
    text = _LABEL.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


class LLMPatient:
    """A patient played by a chat model, checked against the patient-side facts (module docstring).

    Args:
        client: any ``ChatClient`` (``async complete(messages, **sampling) -> str``).
        max_regenerations: extra attempts after a reply fails a check (0: fall back at once).
        check_client: optional ``ChatClient`` for the LLM consistency check (None: rules only).
        sampling: request options for every patient call (e.g. ``{"temperature": 0.7}``).
        stall_turns: how many unproductive doctor turns (or identical patient replies) make
            ``should_end`` report a stalled dialogue.
    """

    def __init__(self, client: Any, *, max_regenerations: int = 2, check_client: Any = None,
                 sampling: dict[str, Any] | None = None, stall_turns: int = 3) -> None:
        if not callable(getattr(client, "complete", None)):
            raise TypeError("LLMPatient needs a chat client with an async complete(messages, **sampling) method, "
                            f"got {type(client).__name__}")
        if check_client is not None and not callable(getattr(check_client, "complete", None)):
            raise TypeError(f"check_client must have an async complete() method, got {type(check_client).__name__}")
        if not isinstance(max_regenerations, int) or max_regenerations < 0:
            raise ValueError(f"max_regenerations must be an integer >= 0, got {max_regenerations!r}")
        if not isinstance(stall_turns, int) or stall_turns < 1:
            raise ValueError(f"stall_turns must be a positive integer, got {stall_turns!r}")
        self.client = client
        self.check_client = check_client
        self.max_regenerations = max_regenerations
        self.sampling = dict(sampling or {})
        self.stall_turns = stall_turns
        self.stats: dict[str, int] = {key: 0 for key in _STAT_KEYS}
        self.last_problems: list[Problem] = []
        self._profile: PatientProfile | None = None
        self._persona = Persona()
        self._system_prompt = ""
        self._offline = OfflinePatient()
        self._checker: FactChecker | None = None
        self._profile_text = ""
        self._forbidden: tuple[str, ...] = ()
        self._transcript: list[dict[str, str]] = []

    # ---- the visit ----------------------------------------------------------------------

    def reset(self, profile: PatientProfile, persona: Persona, seed: int | None = None, *,
              forbidden_names: Sequence[str] = ()) -> str:
        """Start a visit; returns the opening statement (the offline patient's: no model call).
        ``forbidden_names`` (the case's diagnosis names) are never said, even when the doctor
        said them first; they go to the check only, never into the model's prompt."""
        if not isinstance(profile, PatientProfile):
            raise TypeError(f"LLMPatient.reset() needs a PatientProfile, got {type(profile).__name__}")
        persona = Persona.from_spec(persona)
        self._profile, self._persona = profile, persona
        self._system_prompt = patient_system_prompt(profile, persona)
        self._checker = FactChecker(profile)
        texts = [profile.opening_statement, profile.chief_complaint]
        texts += [t for f in profile.history for t in (f.text, f.lay)]
        texts += [t for n in profile.pertinent_negatives for t in (n.symptom, n.lay)]
        for items in (profile.past_history, profile.social_history, profile.family_history, profile.sexual_history,
                      profile.travel_history, profile.obstetric_history):
            texts += [t for i in items for t in (i.text, i.lay)]
        texts += [t for m in profile.medications for t in (m.name, m.dose, m.lay)]
        texts += [t for a in profile.allergies for t in (a.substance, a.reaction, a.lay)]
        texts += list(profile.review_of_systems.values())
        self._profile_text = "\n".join(texts)
        self._forbidden = forbidden_tuple(forbidden_names)
        self.last_problems = []
        opening = self._offline.reset(profile, persona, seed, forbidden_names=self._forbidden)
        self._transcript = [{"role": "assistant", "content": opening}]
        return opening

    @property
    def profile(self) -> PatientProfile:
        if self._profile is None:
            raise RuntimeError("LLMPatient.reply() called before reset()")
        return self._profile

    @property
    def persona(self) -> Persona:
        return self._persona

    @property
    def system_prompt(self) -> str:
        """This visit's system prompt (empty before ``reset``)."""
        return self._system_prompt

    # ---- replying -----------------------------------------------------------------------

    def reply(self, doctor_message: str, messages: Sequence[dict] = ()) -> str:
        """``areply`` for synchronous callers such as the Gymnasium env (``clinic_rubrics.sync``: works in a
        notebook too); async code awaits ``areply``."""
        return run_sync(self.areply(doctor_message, messages), "use `await patient.areply(doctor_message, messages)`")

    async def areply(self, doctor_message: str, messages: Sequence[dict] = ()) -> str:
        """Answer the doctor: ask the model, check the answer, regenerate or fall back.

        ``messages`` is the patient's chat view (its system prompt is replaced by this
        patient's own); when it holds no dialogue, the patient's own transcript is used.
        """
        self.profile  # noqa: B018 - raises before reset
        question = "" if doctor_message is None else str(doctor_message).strip()
        self.last_problems = []
        if not question:
            return self._record(question, self._offline.reply(question))
        conversation = self._conversation(question, messages)
        attempt = conversation
        for round_ in range(self.max_regenerations + 1):
            if round_:
                self.stats["regenerations"] += 1
            self.stats["model_calls"] += 1
            text = _clean(await self.client.complete(attempt, **self.sampling))
            problems = await self.acheck(text, question, messages)
            if not problems:
                return self._record(question, text)
            self.last_problems += problems
            for problem in problems:
                self.stats[problem.kind] = self.stats.get(problem.kind, 0) + 1
            attempt = conversation + [
                {"role": "assistant", "content": text or "(no answer)"},
                {"role": "user", "content": self._correction(problems)},
            ]
        self.stats["fallbacks"] += 1
        return self._record(question, self._offline.reply(question))

    def _record(self, question: str, text: str) -> str:
        self.stats["replies"] += 1
        self._transcript += [{"role": "user", "content": question}, {"role": "assistant", "content": text}]
        return text

    def _conversation(self, question: str, messages: Sequence[dict]) -> list[dict[str, str]]:
        dialogue = [{"role": m["role"], "content": str(m.get("content") or "")} for m in messages
                    if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
        if not dialogue:
            dialogue = list(self._transcript)
        if not (dialogue and dialogue[-1]["role"] == "user" and dialogue[-1]["content"].strip() == question):
            dialogue.append({"role": "user", "content": question})
        return [{"role": "system", "content": self._system_prompt}, *dialogue]

    @staticmethod
    def _correction(problems: list[Problem]) -> str:
        reasons = "; ".join(p.detail for p in problems)
        return ("[Role-play supervisor, not the doctor: your last answer was rejected because " + reasons
                + ". Answer the doctor's last message again, in character, consistent with your facts, "
                  "without naming or guessing any diagnosis. Reply with the patient's words only and do not "
                  "mention this note.]")

    # ---- checks -------------------------------------------------------------------------

    def check(self, reply: str, doctor_message: str = "", messages: Sequence[dict] = ()) -> list[Problem]:
        """The rule-based checks of a candidate reply: empty, leak, contradiction."""
        if self._checker is None:
            raise RuntimeError("LLMPatient.check() called before reset()")
        if not str(reply).strip():
            return [Problem("empty", "your answer was empty")]
        problems = []
        doctor_text = "\n".join([str(m.get("content") or "") for m in messages
                                 if isinstance(m, dict) and m.get("role") == "user"] + [str(doctor_message)])
        explicit = list(dict.fromkeys(find_leaks(reply, self._forbidden)))
        for name in explicit:
            problems.append(Problem("leak", f"you named a diagnosis (\"{name}\"); the patient does not know it"))
        said = {n.lower() for n in explicit}
        for term in find_diagnosis_terms(reply):
            if term.lower() in said or any(term.lower() in n.lower() for n in explicit):
                continue
            if find_leaks(self._profile_text, [term]) or find_leaks(doctor_text, [term]):
                continue
            problems.append(Problem("leak", f"you named or guessed a medical condition (\"{term}\") that is "
                                            "not in your history and that the doctor has not mentioned"))
        problems += [Problem(kind, detail) for kind, detail in self._checker.contradictions(reply)]
        return problems

    async def acheck(self, reply: str, doctor_message: str = "", messages: Sequence[dict] = ()) -> list[Problem]:
        """``check``, then (if it passes and there is a ``check_client``) the LLM check."""
        problems = self.check(reply, doctor_message, messages)
        if problems or self.check_client is None:
            return problems
        self.stats["llm_check_calls"] += 1
        request = [
            {"role": "system", "content": CHECK_SYSTEM_PROMPT},
            {"role": "user", "content": f"Patient's facts:\n{facts_block(self.profile, self._persona)}\n\n"
                                        f"Doctor: {doctor_message}\nPatient's reply: {reply}\n\n"
                                        "Is the reply consistent with the facts?"},
        ]
        try:
            verdict, reason = parse_verdict(await self.check_client.complete(request))
        except Exception:  # a broken checker must not block the patient
            verdict, reason = None, ""
        if verdict is None:
            self.stats["llm_check_errors"] += 1
            return []
        if verdict:
            return []
        return [Problem("llm_check", "a checker found it inconsistent with your facts"
                        + (f" ({reason.strip()})" if reason.strip() else ""))]

    # ---- the end of the visit -----------------------------------------------------------

    def end_reason(self, doctor_message: str, messages: Sequence[dict] = ()) -> str | None:
        """Why the visit should end now, or None (see ``dialogue_end_reason``)."""
        return dialogue_end_reason(doctor_message, messages, self.stall_turns)

    def should_end(self, doctor_message: str, messages: Sequence[dict] = ()) -> bool:
        """True when the doctor has given the diagnosis (and plan), ended the visit, or the dialogue stalls."""
        return self.end_reason(doctor_message, messages) is not None


def llm_patient(model: str) -> LLMPatient:
    """The patient of ``--patient llm:MODEL``: endpoint from ``OPENAI_BASE_URL`` (or OpenAI)."""
    from clinic_env.llm import LLMClient

    return LLMPatient(LLMClient(model))
