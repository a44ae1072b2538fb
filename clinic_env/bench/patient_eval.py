"""Measuring a simulated patient on a labelled question set (issue 16): ``clinic-env patient-eval``.

    clinic-env patient-eval --data tests/data/patient_fidelity --patient offline --out runs/patient-eval
    summary = run_patient_eval("tests/data/patient_fidelity", patient="llm:gpt-4.1", out="runs/pe-llm")

The folder holds ``utterances_*.jsonl``: a doctor's question on a builtin case, its intent, and
what the answer must do: convey one of the listed case facts ("fact", each named by the exact
string of a case field), deny ("denial"), say the informant cannot know ("unknown"), or just
answer politely ("any"). A bad line stops the run with one line naming file:line and field.
Each question opens a fresh visit of its case (seed 0, the chosen persona) played as a benchmark
episode (``clinic_env.bench.play.run_episode``: the crash-safe store, ``--resume``, error
records never counted), so the patient answers exactly as in training. A reply is relevant when
it does what its label asks; a fact counts as conveyed when one of its case wordings (clinical or
lay) is in the reply, or most of that wording's content words are (an opening question is also
answered by the presenting complaint). Every reply is also read for invented positives (a symptom
it affirms that the case never mentions) and contradictions (a pertinent negative's symptom
affirmed, a key symptom denied). The judge reads words, so it suits the offline patient and is a
first screen for an LLM patient's paraphrases; relevance rewards the expected fact, not brevity. Figures go to
``OUT/summary.json``: relevance overall and per intent and label, and non-answers ("could you
ask me that another way?"), with issue 16's relevance target. When the folder also (or only) holds
``orders*.jsonl``, the examiner is measured on them too (``clinic_env.bench.examiner_eval``) and
its recognition and consistency join the summary under "examiner" and its targets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clinic_env.bench.components import Run, component_factory, reward_factory
from clinic_env.bench.config import SUMMARY_FILE, Episode
from clinic_env.bench.examiner_eval import format_examiner_report, order_files, run_examiner_eval
from clinic_env.bench.grader_eval import TurnsDoctor, read_rows
from clinic_env.bench.play import run_episode
from clinic_env.bench.store import json_default, write_atomic
from clinic_env.bench.workers import play_labelled_set
from clinic_env.cases.schema import Case
from clinic_env.cases.specs import cases_label, resolve_cases
from clinic_env.patient.offline import SYMPTOMS, VAGUE_SYMPTOMS
from clinic_env.persona import Persona
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.text import denied_just_before, is_affirmed, is_question, sentences

SEED = 0
RELEVANCE_TARGET = 0.92  # issue 16
MAX_LINE_BYTES = 100_000
INTENTS = ("opening", "open_invitation", "onset", "location", "character", "radiation", "severity", "timing",
           "aggravating", "relieving", "associated", "negative", "past_history", "medications", "allergies",
           "substances", "family", "social", "occupation", "sexual", "travel", "ice", "pregnancy", "clarification",
           "chit_chat", "other")
# What a reply says when it denies, does not know, or does not answer at all.
DENIES = re.compile(r"\b(?:no|not|never|nothing|none|nope|haven't|hasn't|hadn't|don't|doesn't|didn't|isn't|"
                    r"wasn't|aren't|can't say i have)\b", re.IGNORECASE)
UNKNOWN = re.compile(r"\b(?:not sure|don't know|do not know|no idea|can't (?:tell|say)|couldn't (?:tell|say)|"
                     r"wouldn't know|hard to say|can't remember|don't remember)\b", re.IGNORECASE)
NON_ANSWER = re.compile(r"another way|did you want to ask me something", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOP = frozenset("that this with from have been were they them their there what when your about into over than "
                  "then also just very some more only much does doesn't didn't it's i've i'm since".split())
_SHARE = 0.6  # of a wording's content words a reply must hold to convey it in other words


class DataError(ValueError):
    """A fidelity-set file or line that cannot be used; the message names file:line and field."""


class Utterance(BaseModel):
    """One labelled question of the fidelity set."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    case_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    question: Annotated[str, StringConstraints(min_length=1, max_length=5_000)]
    intent: Literal[INTENTS]  # type: ignore[valid-type]
    expect: Literal["fact", "denial", "unknown", "any"]
    facts: list[Annotated[str, StringConstraints(min_length=1, max_length=2_000)]] = Field(max_length=20)
    note: Annotated[str, StringConstraints(max_length=2_000)] | None = None


@dataclass(frozen=True)
class Item:
    """One question to ask: its results key (with a digest of the question), case and label."""

    key: str
    case: Case
    utterance: Utterance


def load_fidelity_set(folder: str | Path, cases: dict[str, Case]) -> list[Item]:
    """Every labelled question of ``folder``, each checked against its case: a fact must be the
    exact string of a field of the case, so a case edit cannot silently orphan a label."""
    folder = Path(folder)
    paths = sorted(folder.glob("utterances_*.jsonl")) if folder.is_dir() else []
    if not paths:
        raise DataError(f"{folder}: no utterances_*.jsonl (or orders*.jsonl) files")
    items: list[Item] = []
    for path in paths:
        for where, row in read_rows(path, Utterance, DataError, MAX_LINE_BYTES):
            case = cases.get(row.case_id)
            if case is None:
                raise DataError(f"{where}: field case_id: unknown case {row.case_id!r}")
            unknown = [f for f in row.facts if not wordings(case, f)]
            if unknown:
                raise DataError(f"{where}: field facts: {unknown[0]!r} is not a field of case {case.id}")
            if row.expect == "fact" and not row.facts:
                raise DataError(f"{where}: field facts: a 'fact' answer names no fact")
            digest = hashlib.sha256(row.model_dump_json().encode()).hexdigest()[:10]
            items.append(Item(f"{Path(where).name}/{row.case_id}/{digest}", case, row))
    return items


def wordings(case: Case, fact: str) -> tuple[str, ...]:
    """Every wording the case has for ``fact``: the string values of the case record holding it
    (a history item's clinical and lay text, a medicine's name and lay words, ...), or the fact
    alone when it is a field of its own (the opening statement)."""
    return _wordings(case).get(fact, ())


@functools.lru_cache(maxsize=256)
def _wordings(case: Case) -> dict[str, tuple[str, ...]]:
    return _record_wordings(case.model_dump())


def _record_wordings(record: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Every string of a dumped record, each with the strings of the record part holding it."""
    found: dict[str, tuple[str, ...]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            strings = tuple(v for v in value.values() if isinstance(v, str))
            for s in strings:
                found.setdefault(s, strings)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, str):
                    found.setdefault(v, (v,))
                else:
                    walk(v)

    walk(record)
    return found


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 3 and w not in _STOP}


def conveys(reply: str, wording: str) -> bool:
    """Whether ``reply`` says ``wording``: word for word, or most of its content words."""
    low = reply.lower()
    if wording.lower().rstrip(". ") in low:
        return True
    words = _content(wording)
    return bool(words) and len(words & _content(reply)) >= _SHARE * len(words)


def relevant(utterance: Utterance, reply: str, case: Case) -> bool:
    """Whether the reply does what the question's label asks (see the module doc)."""
    if not reply.strip() or NON_ANSWER.search(reply):
        return False
    said = any(conveys(reply, w) for fact in utterance.facts for w in wordings(case, fact))
    if utterance.intent in ("opening", "open_invitation"):  # the presenting complaint answers an opening
        said = said or any(conveys(reply, w) for w in (case.opening_statement, case.chief_complaint))
    if utterance.expect == "fact":
        return said
    if utterance.expect == "denial":
        return said or DENIES.search(reply) is not None
    if utterance.expect == "unknown":
        return UNKNOWN.search(reply) is not None
    return True


def _stem(word: str) -> str:
    return word.lower().rstrip("s")[:6]


@functools.lru_cache(maxsize=256)
def _case_words(case: Case) -> frozenset[str]:
    """The stems of every word the case says anywhere: a symptom outside them is invented."""
    return frozenset(_stem(w) for text in _wordings(case) for w in _WORD.findall(text.lower()))


@functools.lru_cache(maxsize=256)
def _patient_words(case: Case) -> tuple[str, ...]:
    """Everything the case gives its patient to say, lower-cased."""
    return tuple(text.lower() for text in _record_wordings(case.patient_view().model_dump()))


def _statements(reply: str) -> list[str]:
    return [s for s in sentences(reply) if not is_question(s)]


def invented(reply: str, case: Case) -> list[str]:
    """Symptoms the reply affirms that the case never mentions (not denied, not supposed)."""
    known = _case_words(case)
    return [m.group() for s in _statements(reply) for m in SYMPTOMS.finditer(s)
            if m.group().lower() not in VAGUE_SYMPTOMS and is_affirmed(s, m.start(), m.end())
            and not all(_stem(w) in known for w in _WORD.findall(m.group().lower()))]


# "My eyesight is fine": a patient's denial the shared negation reader does not take as one (for a
# doctor, "ibuprofen is fine" gives it).
_FINE = re.compile(r"\s+(?:is|are|was|were|has been|have been|'s|'re)\s+(?:fine|normal|ok|okay|alright|all right|good)\b")


def _affirms(sentence: str, low: str, keywords: Sequence[str], symptom: re.Match[str] | None) -> bool:
    """Whether the sentence affirms one of a pertinent negative's keywords: a symptom word of the
    sentence that a one-word keyword begins ("confus" for "confused"), or, for ``symptom`` None,
    a keyword of several words naming a symptom ("coughing up blood", not "washing powder") in it."""
    if symptom is not None:
        hit = any(" " not in k and symptom.group().lower().startswith(k.lower()) for k in keywords)
        return hit and is_affirmed(sentence, symptom.start(), symptom.end()) and not _FINE.match(low, symptom.end())
    for keyword in (k for k in keywords if " " in k.strip() and SYMPTOMS.search(k)):
        m = re.search(rf"\b{re.escape(keyword.lower())}", low)
        if m and is_affirmed(sentence, m.start(), m.end()) and not _FINE.match(low, m.end()):
            return True
    return False


def contradictions(reply: str, case: Case) -> list[str]:
    """Case facts the reply contradicts: a pertinent negative's symptom word it affirms, or a
    symptom of a key history item it plainly denies ("no, I haven't had any pain" when the case
    has pain). Symptom words only: a negative's other keywords ("back", "face") are too common.
    A sentence the case itself gives the patient to say ("coughing or bending over doesn't set
    them off", "no, I didn't have a cold sore") is never read as contradicting it."""
    found = []
    for s in _statements(reply):
        low = s.lower()
        if any(low.strip(" .!?") in words for words in _patient_words(case)):
            continue  # the case's own words, word for word, contradict nothing
        symptoms = [m for m in SYMPTOMS.finditer(s) if m.group().lower() not in VAGUE_SYMPTOMS]
        for negative in case.pertinent_negatives:
            if any(_affirms(s, low, negative.keywords, m) for m in [*symptoms, None]):
                found.append(f"affirms {negative.symptom!r}")
        for item in (h for h in case.history if h.key):
            for m in symptoms:
                if any(k.lower() in m.group().lower() for k in item.keywords) and denied_just_before(s, m.start()):
                    found.append(f"denies {item.text!r}")
                    break
    return found


def _base_run(patient: Any, persona: str) -> Run:
    """What every question shares: the patient under test, the persona and an offline reward."""
    make_patient, patient_label = component_factory("patient", patient, ("reply", "areply"))
    labels = {"doctor": "patient-eval question", "patient": patient_label, "grader": "offline"}
    return Run(TurnsDoctor, make_patient, reward_factory(OfflineGrader()), labels, max_turns=2,
               persona=Persona.from_spec(persona), run_seed=SEED)


async def _ask(item: Item, base: Run) -> dict[str, Any]:
    """One question in a fresh visit, then the visit ends; the record keeps the reply and its verdict."""
    doctor = functools.partial(TurnsDoctor, ("ASK: " + item.utterance.question, "END: Thank you."))
    record = await run_episode(Episode(item.case, 0, SEED, item.key), dataclasses.replace(base, make_doctor=doctor))
    patient = [m["content"] for m in record.get("transcript") or [] if m.get("role") == "patient"]
    reply = patient[1] if len(patient) > 1 else ""  # the first patient message is the opening statement
    record.update(question=item.utterance.question, intent=item.utterance.intent, expect=item.utterance.expect,
                  reply=reply, relevant=relevant(item.utterance, reply, item.case),
                  non_answer=bool(NON_ANSWER.search(reply)) or not reply.strip(),
                  invented=invented(reply, item.case), contradictions=contradictions(reply, item.case))
    return record


def summarize(items: Sequence[Item], records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Relevance overall, per intent and per label, non-answers, and the failures (over the
    records that finished; error records are listed, never counted)."""
    ok = [r for r in records if r.get("status") == "ok"]
    by: dict[str, dict[str, list[bool]]] = {"intent": defaultdict(list), "expect": defaultdict(list)}
    for r in ok:
        by["intent"][r["intent"]].append(r["relevant"])
        by["expect"][r["expect"]].append(r["relevant"])
    share = lambda values: sum(values) / len(values) if values else None  # noqa: E731
    relevance = share([r["relevant"] for r in ok])
    return {
        "n_questions": len(items), "n_answered": len(ok), "n_errors": len(records) - len(ok),
        "relevance": relevance,
        "by_intent": {k: {"n": len(v), "relevance": share(v)} for k, v in sorted(by["intent"].items())},
        "by_expect": {k: {"n": len(v), "relevance": share(v)} for k, v in sorted(by["expect"].items())},
        "non_answers": sum(r["non_answer"] for r in ok),
        "invented_positives": [{"key": r["key"], "reply": r["reply"], "symptoms": r["invented"]}
                               for r in ok if r["invented"]],
        "contradictions": [{"key": r["key"], "reply": r["reply"], "facts": r["contradictions"]}
                           for r in ok if r["contradictions"]],
        "failures": [{"key": r["key"], "question": r["question"], "reply": r["reply"]} for r in ok if not r["relevant"]],
        "errors": [{"key": r.get("key"), "error": r.get("error")} for r in records if r.get("status") != "ok"],
        "targets": [{"name": f"relevance >= {RELEVANCE_TARGET:.0%}", "value": relevance,
                     "met": relevance is not None and relevance >= RELEVANCE_TARGET},
                    {"name": "no invented positives", "value": sum(bool(r["invented"]) for r in ok),
                     "met": not any(r["invented"] for r in ok)},
                    {"name": "no contradictions", "value": sum(bool(r["contradictions"]) for r in ok),
                     "met": not any(r["contradictions"] for r in ok)}],
    }


async def arun_patient_eval(data: str | Path, patient: Any = "offline", persona: str = "typical",
                            out: str | Path = "runs/patient-eval", cases: Any = "builtin", concurrency: int = 8,
                            resume: bool = False, progress: bool | None = None) -> dict[str, Any]:
    """Ask every question of the set in ``data`` of ``patient`` (a spec as ``bench`` takes it, or a
    patient object) and return the summary written to ``OUT/summary.json``."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    pool = resolve_cases(cases)
    examiner = run_examiner_eval(data, pool) if order_files(data) else None
    if examiner is not None and not sorted(Path(data).glob("utterances_*.jsonl")):
        summary = {"n_questions": 0, "n_errors": 0, "examiner": examiner, "targets": examiner["targets"],
                   "config": {"data": str(data), "cases": cases_label(cases)}}
        Path(out).mkdir(parents=True, exist_ok=True)
        write_atomic(Path(out) / SUMMARY_FILE, json.dumps(summary, indent=2, default=json_default))
        return summary
    items = load_fidelity_set(data, {case.id: case for case in pool})
    base = _base_run(patient, persona)
    keys = [item.key for item in items]
    identity = {**base.labels, "persona": persona, "seed": SEED}
    settings = {"data": str(data), "cases": cases_label(cases), "n_questions": len(items), "concurrency": concurrency}
    records, notes, n_run = await play_labelled_set(items, keys, functools.partial(_ask, base=base), Path(out),
                                                    identity, settings, resume, concurrency, progress,
                                                    "patient-eval", "question")
    summary = summarize(items, records)
    summary.update(patient=base.labels["patient"], config={**identity, **settings}, n_run=n_run,
                   n_resumed=len(items) - n_run, warnings=notes)
    if examiner is not None:
        summary.update(examiner=examiner, targets=summary["targets"] + examiner["targets"])
    write_atomic(Path(out) / SUMMARY_FILE, json.dumps(summary, indent=2, default=json_default))
    return summary


def run_patient_eval(data: str | Path, **options: Any) -> dict[str, Any]:
    """``arun_patient_eval`` from synchronous code (in a notebook, await ``arun_patient_eval``)."""
    return asyncio.run(arun_patient_eval(data, **options))


def format_report(summary: dict[str, Any]) -> str:
    """The summary as a short table: overall, per label, the worst intents, the target."""
    pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    examiner = format_examiner_report(summary["examiner"]) if "examiner" in summary else []
    value = lambda t: pct(t["value"]) if isinstance(t["value"], float) else str(t["value"])  # noqa: E731
    targets = ["targets (issue 16):"] + [f"  [{'met' if t['met'] else 'NOT met'}] {t['name']}: {value(t)}"
                                         for t in summary["targets"]]
    if "relevance" not in summary:
        return "\n".join(examiner + targets)
    lines = [f"  relevance ({summary['n_answered']} answered)".ljust(40) + pct(summary["relevance"]),
             "  non-answers".ljust(40) + str(summary["non_answers"]),
             "  replies with an invented positive".ljust(40) + str(len(summary["invented_positives"])),
             "  replies contradicting the case".ljust(40) + str(len(summary["contradictions"]))]
    lines += [f"  {k} ({v['n']})".ljust(40) + pct(v["relevance"]) for k, v in summary["by_expect"].items()]
    worst = sorted(summary["by_intent"].items(), key=lambda kv: kv[1]["relevance"] or 0.0)[:6]
    lines += ["  weakest intents: " + ", ".join(f"{k} {pct(v['relevance'])} of {v['n']}" for k, v in worst)]
    return "\n".join(lines + examiner + targets)
