"""Finding the diagnosis where it must not be: in patient replies and patient- or examiner-visible case text.

Names match as whole words, case-insensitively, with flexible spacing and hyphens
("community acquired pneumonia" finds "community-acquired  pneumonia"). Short
all-capital abbreviations ("PE", "CAP") match case-sensitively, so "cap" in
"kneecap" or "pe" in "type" is not a leak.

The case scanner (``case_leaks``, ``clinic-env cases check``) also checks a case whose
diagnosis lists no synonyms (an imported one) for what its name is also written as
(``name_variants``): its abbreviation ("deep vein thrombosis" -> "DVT"), its name without
qualifiers ("acute appendicitis" -> "appendicitis") and the parts of a name with a
parenthesis or a comma.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Iterator

from clinic_env.cases.schema import Case, PatientProfile


def _name_pattern(name: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", name.strip()) if w]
    return r"[\s\-]+".join(words)


@lru_cache(maxsize=4096)
def leak_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex finding any of ``names``; None when there is nothing to look for."""
    folded = [n for n in names if not (n.isupper() and len(n) <= 5)]
    abbreviations = [n for n in names if n.isupper() and len(n) <= 5]
    parts = []
    if folded:
        parts.append(r"(?i:" + "|".join(_name_pattern(n) for n in sorted(folded, key=len, reverse=True)) + ")")
    if abbreviations:
        parts.append("|".join(re.escape(n) for n in abbreviations))
    if not parts:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])")


def find_leaks(text: str, names: Iterable[str]) -> list[str]:
    """The diagnosis names (as written in ``text``) that occur in ``text``."""
    pattern = leak_pattern(tuple(n for n in names if n.strip()))
    return [] if pattern is None else [m.group(0) for m in pattern.finditer(text)]


QUALIFIERS = frozenset("""acute chronic primary secondary left right bilateral unilateral mild moderate severe
    early late recurrent suspected probable possible likely uncomplicated complicated simple idiopathic
    left-sided right-sided new new-onset sudden-onset""".split())
GENERIC_HEADS = frozenset("""disease syndrome infection failure injury pain disorder inflammation condition
    reaction lesion mass deficiency crisis attack episode""".split())
_LINKS = re.compile(r"\s*(?:,|;|:|\bdue to\b|\bsecondary to\b|\bcaused by\b)\s*", re.IGNORECASE)
_SMALL_WORDS = frozenset({"of", "the", "and", "with", "to", "in", "on", "a", "an", "for", "by"})


def name_variants(name: str) -> list[str]:
    """``name`` and the other ways it is written (see the module doc), without duplicates."""
    name = name.strip()
    out, base = [name], name
    bracket = re.match(r"^(.*?)\s*\(([^)]*)\)\s*(.*)$", name)
    if bracket:
        base = f"{bracket[1]} {bracket[3]}".strip()
        out.append(base)
        inner = bracket[2].strip()
        if inner.isupper() or len(inner.split()) >= 2:  # an abbreviation or another name ("heart attack")
            out.append(inner)
    head = _LINKS.split(base)[0].strip()
    words = head.split()
    while len(words) > 1 and words[0].lower() in QUALIFIERS:
        words = words[1:]
    out.append(head)
    if len(words) > 1 or (words and words[0].lower() not in GENERIC_HEADS):
        out.append(" ".join(words))
    significant = [w for w in re.split(r"[\s\-]+", head) if w and w.lower() not in _SMALL_WORDS]
    if len(significant) >= 3 or (len(significant) == 2 and not any(w.lower() in QUALIFIERS for w in significant)
                                 and all(len(w) > 3 for w in significant)):
        out.append("".join(w[0] for w in significant).upper())  # DVT, AKI, COPD; MI, PE
    return [v for v in dict.fromkeys(out) if len(v) >= 2]


def leak_names(case: Case) -> list[str]:
    """What the case scanner looks for: the diagnosis names, and, when the case lists no
    synonyms (an imported case), the variants of its name. A curated case's synonyms are
    its author's list: variants of them would flag a patient's own chronic disease
    ("asthma" in the history of an asthma attack)."""
    if case.diagnosis.synonyms:
        return case.diagnosis_names
    return name_variants(case.diagnosis.name)


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a dumped model, with its field path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


PATIENT_FIELDS = tuple(f for f in PatientProfile.model_fields if f != "case_id")


def case_leaks(case: Case) -> list[tuple[str, str]]:
    """(field, leaked name) for every place the patient or the examiner would give the diagnosis
    away; fields are paths into the case as written ("history[2].lay", "tests[0].result")."""
    visible = case.model_dump(include={*PATIENT_FIELDS, "exam"})
    visible["tests"] = [{"result": t.result} for t in case.tests]
    names = leak_names(case)
    leaks = []
    for path, text in _strings(visible, ""):
        leaks.extend((path, name) for name in find_leaks(text, names))
    return leaks


WITHHELD = "[withheld]"


def redact_case(case: Case) -> Case:
    """The case with every leaking mention in patient- and examiner-visible text replaced by
    ``WITHHELD`` (the diagnosis itself, the differential and the plan stay)."""
    pattern = leak_pattern(tuple(leak_names(case)))
    if pattern is None:
        return case
    data = case.model_dump()

    def scrub(value: object) -> object:
        if isinstance(value, str):
            return pattern.sub(WITHHELD, value)
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    for field in PATIENT_FIELDS + ("exam",):
        data[field] = scrub(data[field])
    for test in data["tests"]:
        test["result"] = scrub(test["result"])
    return Case.model_validate(data)


SAFE_REPLY = "I don't know, doctor. That's what I was hoping you could tell me."


def redact_leaks(reply: str, names: Iterable[str]) -> tuple[str, int]:
    """Drop each sentence of a patient reply that names the diagnosis; returns (reply, sentences dropped)."""
    pattern = leak_pattern(tuple(n for n in names if n.strip()))
    if pattern is None or not pattern.search(reply):
        return reply, 0
    sentences = re.split(r"(?<=[.!?])\s+", reply)
    kept = [s for s in sentences if not pattern.search(s)]
    return (" ".join(kept) if kept else SAFE_REPLY), len(sentences) - len(kept)
