"""Finding the diagnosis where it must not be: in patient replies and patient- or examiner-visible case text.

Names match as whole words, case-insensitively, with flexible spacing and hyphens
("community acquired pneumonia" finds "community-acquired  pneumonia"). Short
all-capital abbreviations ("PE", "CAP") match case-sensitively, so "cap" in
"kneecap" or "pe" in "type" is not a leak.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Iterator

from clinic_env.cases.schema import Case


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


def case_leaks(case: Case) -> list[tuple[str, str]]:
    """(field, leaked name) for every place the patient or the examiner would give the diagnosis away."""
    visible = {
        "patient": case.patient_view().model_dump(exclude={"case_id"}),
        "exam": case.model_dump(include={"exam"})["exam"],
        "tests": [{"result": t.result} for t in case.tests],
    }
    leaks = []
    for path, text in _strings(visible, ""):
        leaks.extend((path, name) for name in find_leaks(text, case.diagnosis_names))
    return leaks


SAFE_REPLY = "I don't know, doctor. That's what I was hoping you could tell me."


def redact_leaks(reply: str, names: Iterable[str]) -> tuple[str, int]:
    """Drop each sentence of a patient reply that names the diagnosis; returns (reply, sentences dropped)."""
    pattern = leak_pattern(tuple(n for n in names if n.strip()))
    if pattern is None or not pattern.search(reply):
        return reply, 0
    sentences = re.split(r"(?<=[.!?])\s+", reply)
    kept = [s for s in sentences if not pattern.search(s)]
    return (" ".join(kept) if kept else SAFE_REPLY), len(sentences) - len(kept)
