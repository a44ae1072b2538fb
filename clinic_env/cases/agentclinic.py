"""Import AgentClinic's OSCE cases (MIT; JSONL, one ``{"OSCE_Examination": {...}}`` per line).

    clinic-env cases import agentclinic agentclinic_medqa.jsonl --out cases.jsonl [--leaks redact]

    report = import_agentclinic("agentclinic_medqa.jsonl", on_leak="redact")
    report.cases, report.skipped, report.flagged

The files vary: any value may be a string, a list or a nested dict; keys are free-form
(matched here without regard to case, spaces or underscores); optional keys come and go.
The importer maps what it finds onto the case schema:

- ``Patient_Actor``: demographics ("52-year-old male", "45M", "8-month-old girl", "28 weeks
  pregnant") -> age, sex, pregnancy; ``History`` -> history facts, one per sentence, each
  given an OPQRST topic from its words and told in the first person; ``Symptoms`` -> the
  chief complaint, the opening statement and a fact per symptom; ``Review_of_Systems`` ->
  pertinent negatives (from "denies ...", "no ...") and the rest as the patient's answer;
  past, social and family history, medications and allergies -> their sections.
- ``Physical_Examination_Findings`` -> exam findings by system, from each key's name
  ("Vital_Signs", "Abdominal_Examination", "HEENT"...), nested values flattened.
- ``Test_Results`` -> one test per key (groups such as "Blood_Tests" or "Imaging" are
  opened one level), named as the catalogue names it when it knows the test, with the
  catalogue's cost and turnaround (else $50 and 24 h); every imported test is key.
- ``Correct_Diagnosis`` -> the diagnosis (no synonyms: the leak scanner then also checks
  the name's variants, see ``clinic_env.leaks.name_variants``). AgentClinic gives no
  differential, management or ICD-10 code, so imported cases have none (their rubric has
  no treatment criteria).

A record that cannot become a case (no diagnosis, no sex, no history...) is skipped with
the reason; nothing in a record makes the importer raise. The diagnosis appears word for
word in the exam or test results of some published cases: each case is scanned, and
``on_leak`` drops it, keeps it (reported) or redacts the mentions (the default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from clinic_env.cases.library import CaseError, parse_case
from clinic_env.cases.schema import Case, Demographics
from clinic_env.history_topics import GENERIC_KEYWORDS
from clinic_env.investigations import lookup
from clinic_env.leaks import case_leaks, redact_case

LeakPolicy = Literal["drop", "keep", "redact"]
DEFAULT_TEST_COST, DEFAULT_TEST_HOURS = 50.0, 24.0


class SkipRecord(ValueError):
    """A record that cannot become a case; the message says why."""


@dataclass
class ImportReport:
    """``cases``: the cases to write; ``skipped``: "source: reason" per record not imported;
    ``flagged``: (case id, field, name) per leak found; ``dropped`` / ``redacted``: case ids."""

    cases: list[Case] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    flagged: list[tuple[str, str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    redacted: list[str] = field(default_factory=list)


def import_agentclinic(path: str | Path, on_leak: LeakPolicy = "redact", split: str = "test",
                       prefix: str = "agentclinic") -> ImportReport:
    """Convert every record of an AgentClinic JSONL file (see the module doc)."""
    if on_leak not in ("drop", "keep", "redact"):
        raise ValueError(f"on_leak must be 'drop', 'keep' or 'redact', got {on_leak!r}")
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        raise CaseError(f"{path}: cannot read: {err}") from None
    report = ImportReport()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        source = f"{path}:{lineno}"
        try:
            case = convert_record(_json(line), f"{prefix}_{lineno:04d}", split)
        except (SkipRecord, CaseError) as err:
            report.skipped.append(f"{source}: {err}")
            continue
        except RecursionError:
            report.skipped.append(f"{source}: nested too deeply to read")
            continue
        leaks = case_leaks(case)
        report.flagged += [(case.id, where, name) for where, name in leaks]
        if leaks and on_leak == "drop":
            report.dropped.append(case.id)
            continue
        if leaks and on_leak == "redact":
            case = redact_case(case)
            report.redacted.append(case.id)
        report.cases.append(case)
    return report


def _json(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as err:
        raise SkipRecord(f"not JSON ({err})") from None


# ---- one record ----------------------------------------------------------------------------------

def convert_record(data: Any, case_id: str, split: str = "test") -> Case:
    """One AgentClinic record as a validated case; ``SkipRecord`` or ``CaseError`` if it cannot be."""
    osce = _get(data, "OSCE_Examination") if isinstance(data, dict) else None
    osce = osce if isinstance(osce, dict) else data
    if not isinstance(osce, dict):
        raise SkipRecord(f"expected a JSON object, got {type(data).__name__}")
    actor = _get(osce, "Patient_Actor")
    if not isinstance(actor, dict):
        raise SkipRecord("no Patient_Actor object")
    diagnosis = _text(_get(osce, "Correct_Diagnosis", "Diagnosis")).strip().rstrip(".")
    if not diagnosis:
        raise SkipRecord("no Correct_Diagnosis")
    demographics = _demographics(_text(_get(actor, "Demographics", "Patient_Demographics")))
    symptoms = _get(actor, "Symptoms")
    primary = _text(_get(symptoms, "Primary_Symptom", "Chief_Complaint") if isinstance(symptoms, dict) else symptoms)
    secondary = _items(_get(symptoms, "Secondary_Symptoms", "Other_Symptoms")) if isinstance(symptoms, dict) else []
    denied, told = _denials(_sentences(_text(_get(actor, "History", "History_of_Present_Illness"))))
    history = [_fact(s, i == 0) for i, s in enumerate(told)]
    if primary:
        history.insert(0, {"topic": "character", "text": primary, "lay": f"My main problem is {_lower(primary)}.",
                           "keywords": _keywords(primary), "key": True})
    history += [{"topic": "associated", "text": s, "lay": f"I've also had {_lower(s)}.", "keywords": _keywords(s)}
                for s in secondary]
    if len(history) < 3:
        raise SkipRecord(f"too little history to play ({len(history)} facts; a case needs 3)")
    negatives, ros_rest = _denials(_sentences(_text(_get(actor, "Review_of_Systems"))))
    negatives = denied + negatives
    record = {
        "id": case_id, "split": split, "specialty": "general_practice", "difficulty": "medium",
        "informant": "parent" if demographics["age_years"] < 14 else "patient",
        "title": f"{_sentence(primary or history[0]['text'])} in {_describe(demographics)}",
        "demographics": demographics,
        "chief_complaint": primary or history[0]["text"],
        "opening_statement": f"I've come in because of {_lower(primary)}." if primary else history[0]["lay"],
        "history": history,
        "pertinent_negatives": negatives,
        "review_of_systems": {"constitutional": _first_person(" ".join(ros_rest))} if ros_rest else {},
        "past_history": _section(_get(actor, "Past_Medical_History", "Medical_History", "Past_History")),
        "social_history": _section(_get(actor, "Social_History")),
        "family_history": _section(_get(actor, "Family_History")),
        "medications": [{"name": m, "lay": f"I take {m}."}
                        for m in _items(_get(actor, "Current_Medications", "Medications")) if not _none(m)],
        "allergies": [{"substance": a, "reaction": "not recorded", "lay": f"I'm allergic to {a}."}
                      for a in _items(_get(actor, "Allergies")) if not _none(a)],
        "exam": _exam(_get(osce, "Physical_Examination_Findings", "Physical_Examination")),
        "tests": _tests(_get(osce, "Test_Results", "Tests")),
        "diagnosis": {"name": diagnosis},
    }
    if not record["exam"]:
        raise SkipRecord("no physical examination findings")
    if not record["tests"]:
        raise SkipRecord("no test results")
    return parse_case(record, source=case_id)


# ---- reading free-form values --------------------------------------------------------------------

def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _get(data: Any, *names: str) -> Any:
    """The value of the first of ``names`` present, matching keys without case, spaces or underscores."""
    if not isinstance(data, dict):
        return None
    keys = {_norm(str(k)): v for k, v in data.items()}
    for name in names:
        if _norm(name) in keys:
            return keys[_norm(name)]
    return None


def _human(key: Any) -> str:
    return re.sub(r"[_\s]+", " ", str(key)).strip()


def _text(value: Any) -> str:
    """Any JSON value as one line of text (nested dicts as "Key: value; ...")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return "; ".join(f"{_human(k)}: {_text(v)}" for k, v in value.items() if _text(v))
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return str(value)


def _items(value: Any) -> list[str]:
    """A list of short strings from a list, a dict or a ';' / ',' separated string."""
    if isinstance(value, list):
        return [t for t in (_text(v) for v in value) if t]
    text = _text(value)
    return [t.strip() for t in re.split(r";|,(?![^(]*\))", text) if t.strip()]


def _none(text: str) -> bool:
    return _norm(text) in {"", "none", "nil", "no", "nkda", "nka", "noknownallergies", "noknowndrugallergies",
                           "notapplicable", "na", "unknown"}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|;\s*", text) if len(s.strip()) >= 3]


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]


def _lower(text: str) -> str:
    text = text.strip().rstrip(".")
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


_SUBJECT = r"\b(?:the patient|patient|he|she)\b"
_PERSON = [(_SUBJECT + r"\s+is\b", "I am"), (_SUBJECT + r"\s+was\b", "I was"), (_SUBJECT + r"\s+has\b", "I have"),
           (_SUBJECT + r"\s+does\b", "I do"), (r"\bhimself\b|\bherself\b", "myself"), (r"\b(?:his|her)\b", "my"),
           (r"\bhim\b", "me")]


def _verb(match: re.Match[str]) -> str:
    """'I' + a third-person verb made first person: reports -> report, denies -> deny, notes -> note."""
    verb = match[1]
    if verb.endswith("ies"):
        verb = verb[:-3] + "y"
    elif re.search(r"(?:ss|sh|ch|x|z)es$", verb):
        verb = verb[:-2]
    elif verb.endswith("s") and not verb.endswith("ss"):
        verb = verb[:-1]
    return f"I {verb}"


def _first_person(text: str) -> str:
    """Clinical third person made the patient's first person, roughly ("He denies fever" -> "I deny fever")."""
    out = text
    for pattern, repl in _PERSON:
        out = re.sub(pattern, repl, out, flags=re.IGNORECASE)
    out = re.sub(_SUBJECT + r"\s+(\w+)", _verb, out, flags=re.IGNORECASE).strip()
    return out[:1].upper() + out[1:] if len(out) >= 3 else "I'm not sure."


_STOP = {"and", "or", "the", "a", "an", "of", "with", "in", "on", "for", "to", "at", "by", "mild", "severe", "some",
         "her", "his", "patient", "reports", "has", "had", "is", "was", "days", "weeks", "day", "week"}


def _keywords(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z][a-z\-]{2,}", text.lower()) if w not in _STOP and w not in GENERIC_KEYWORDS]
    return list(dict.fromkeys(words))[:6]


_TOPICS = [("radiation", r"radiat|spread(s|ing)? to|goes to|moves to"), ("onset", r"\bbegan\b|\bstarted\b|\bonset\b|\bsudden|\bago\b"),
           ("duration", r"\bfor (the )?(past |last )?\d+|\b\d+\s*(hour|day|week|month|year)s?\b"),
           ("aggravating", r"worse|aggravat|exacerbat"), ("relieving", r"better|reliev|improv|eased"),
           ("character", r"sharp|dull|burning|stabbing|crushing|cramp|throbbing|aching"),
           ("severity", r"/10|severe|intense|worst"), ("treatment_tried", r"\btook\b|\btried\b|\bover-the-counter\b"),
           ("previous_episodes", r"previous|similar episode|before\b|recurrent"), ("timing", r"at night|morning|constant|intermittent")]


def _fact(sentence: str, first: bool) -> dict[str, Any]:
    topic = next((t for t, pattern in _TOPICS if re.search(pattern, sentence, re.IGNORECASE)),
                 "context" if first else "associated")
    return {"topic": topic, "text": sentence, "lay": _first_person(sentence), "keywords": _keywords(sentence),
            "key": first}


def _denials(sentences: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Denied symptoms ("Denies fever or vomiting", "She denies ...") as pertinent negatives; the other sentences."""
    negatives, rest = [], []
    for sentence in sentences:
        match = re.match(r"^(?:(?:the\s+)?patient\s+|he\s+|she\s+)?(?:denies|no|negative for|without)\s+(.+)$",
                         sentence, re.IGNORECASE)
        if not match:
            rest.append(sentence)
            continue
        for item in re.split(r",|\bor\b|\band\b", match[1].rstrip(".")):
            item = item.strip()
            keywords = _keywords(item)
            if len(item) >= 3 and keywords:
                negatives.append({"symptom": item, "keywords": keywords, "lay": f"No, I haven't had {_lower(item)}."})
    return negatives, rest


def _section(value: Any) -> list[dict[str, Any]]:
    return [{"text": item, "lay": _first_person(item), "keywords": _keywords(item)}
            for item in (_sentences(_text(value)) if isinstance(value, str) else _items(value)) if not _none(item)]


def _demographics(text: str) -> dict[str, Any]:
    lower = text.lower()
    age = None
    match = re.search(r"(\d+(?:\.\d+)?)\s*[- ]?\s*(years?|yrs?|y/?o|months?|mos?|weeks?|wks?|days?)\b(?!\s*(?:pregnant|gestation))",
                      lower)
    if match:
        value, unit = float(match[1]), match[2]
        age = value / 12 if unit.startswith("mo") else value / 52 if unit.startswith("w") else \
            value / 365 if unit.startswith("d") else value
    else:
        match = re.search(r"\b(\d{1,3})\s*-?\s*(?:m|f)\b", lower)
        age = float(match[1]) if match else None
    if age is None or not 0 <= age <= 120:
        raise SkipRecord(f"no age in the demographics {text[:60]!r}")
    if re.search(r"\b(female|woman|girl|lady|mother|f)\b|\d\s*f\b", lower):
        sex = "female"
    elif re.search(r"\b(male|man|boy|gentleman|father|m)\b|\d\s*m\b", lower):
        sex = "male"
    else:
        raise SkipRecord(f"no sex in the demographics {text[:60]!r}")
    out: dict[str, Any] = {"age_years": round(age, 2) if age < 2 else float(int(age)), "sex": sex}
    gestation = re.search(r"(\d{1,2})\s*(?:weeks?|wks?)\s*(?:pregnant|gestation)", lower)
    if sex == "female" and ("pregnan" in lower or gestation):
        out["pregnant"] = True
        if gestation and 1 <= int(gestation[1]) <= 44:
            out["gestation_weeks"] = int(gestation[1])
    return out


def _describe(demographics: dict[str, Any]) -> str:
    return Demographics(age_years=demographics["age_years"], sex=demographics["sex"]).describe()


_SYSTEMS = [("vitals", "vital"), ("heent", "heent|head|eye|ear|nose|throat|oral|mouth|fundus|pupil"),
            ("neck", "neck|thyroid"), ("cardiovascular", "cardi|heart|pulse|vascular"),
            ("respiratory", "respir|lung|chest|pulmon|breath"), ("abdominal", "abdom|rectal|liver|spleen"),
            ("neurological", "neuro|cranial|reflex|motor|sensory|gait|cerebell|mental status|cognit"),
            ("musculoskeletal", "musculo|joint|extremit|spine|back|limb|orthop"),
            ("skin", "skin|derm|rash|integument"), ("lymph_nodes", "lymph"),
            ("genitourinary", "genit|urolog|testic|prostat"), ("pelvic", "pelvic|gyn|vagin|cervi"),
            ("breast", "breast"), ("obstetric", "obstet|fundal|fetal|foetal|uterus"),
            ("mental_state", "psych|mental|mood|affect")]


def _system(key: str) -> str:
    lower = key.lower()
    return next((system for system, pattern in _SYSTEMS if re.search(pattern, lower)), "general")


def _exam(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        text = _text(value)
        return {"general": text} if text else {}
    found: dict[str, list[str]] = {}
    for key, finding in value.items():
        text = _text(finding)
        if text:
            found.setdefault(_system(str(key)), []).append(f"{_human(key)}: {text}")
    return {system: "; ".join(texts) for system, texts in found.items()}


_GROUPS = re.compile(r"^(blood ?tests?|labs?|laboratory( tests| results)?|imaging|radiology|tests?|results|"
                     r"investigations|other tests?|microbiology|serology)$", re.IGNORECASE)


def _test_entries(value: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        for i, item in enumerate(_items(value)):
            yield f"Test {i + 1}", item
        return
    for key, result in value.items():
        name = _human(key)
        if isinstance(result, dict) and _GROUPS.match(name):
            for inner_key, inner in result.items():
                yield _human(inner_key), _text(inner)
        else:
            yield name, _text(result)


def _tests(value: Any) -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, result in _test_entries(value):
        if not name or not result:
            continue
        known = lookup(name)
        test = {"name": known.name if known else name, "aliases": [name] if known and known.name != name else [],
                "result": result, "key": True,
                "cost": known.cost if known else DEFAULT_TEST_COST,
                "turnaround_hours": known.turnaround_hours if known else DEFAULT_TEST_HOURS}
        label, n = test["name"], 2
        while label.lower() in seen:
            label, n = f"{test['name']} ({n})", n + 1
        test["name"] = label
        seen.add(label.lower())
        tests.append(test)
    return tests
