"""Clinical text understanding shared by everything that reads consultation text without a model:
the offline patient, the LLM patient's fact checker and, step by step, the offline grader.

One place, so a fix reaches every reader: a keyword is read the same way by the patient that
answers and by the checker that polices an LLM patient.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
# What a short word may grow into and stay itself: "wee" -> "weeing", "pain" -> "painful",
# "weak" -> "weakness"; never "week", "early" (ear), "fluid" (flu) or "fatigue" (fat).
_ENDINGS = "s|es|d|ed|ing|y|ie|ies|ied|ier|iest|iness|er|ers|ness|ful|less|ish|en"
_SHORT = 4
_VOWELS = "aeiou"


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, single spaces: the form keywords are matched in."""
    return re.sub(r"\s+", " ", str(text).lower().translate(APOSTROPHES)).strip()


def _short_word(word: str) -> str:
    """A short whole word with its inflections, spelling changes included: a dropped final e
    ("ache" -> "aching", "achy"), y to i ("dry" -> "dried") and a doubled final consonant
    ("run" -> "running", "fat" -> "fatty")."""
    forms = [f"{re.escape(word)}(?:{_ENDINGS})?"]
    if word.endswith("e"):
        forms.append(f"{re.escape(word[:-1])}(?:ing|y|ier|iest|iness|ied|ies)")
    elif word.endswith("y"):
        forms.append(f"{re.escape(word[:-1])}(?:ied|ies|ier|iest|iness)")
    elif len(word) >= 3 and word[-1] not in _VOWELS + "wxy" and word[-2] in _VOWELS and word[-3] not in _VOWELS:
        forms.append(f"{re.escape(word + word[-1])}(?:ing|ed|er|ers|y|ier|iest|en)")
    return "(?:" + "|".join(forms) + r")\b"


def _keyword(keyword: str) -> str | None:
    """One keyword as a regex. Every word but the last is a prefix ("harm yourself" finds
    "harming yourself"). The last word is a prefix when it is longer than four letters or ends
    in ``*`` (a stem: "urin*" finds "urine" and "urinary"); a shorter one is a whole word with
    its inflections, because as a prefix it finds other words ("wee" in "week")."""
    words = normalize(keyword).split()
    if not words:
        return None
    *head, last = words
    if last.endswith("*"):
        tail = re.escape(last.rstrip("*"))
    elif len(last) <= _SHORT:
        tail = _short_word(last) if last.isalpha() else re.escape(last) + r"(?!\w)"
    else:
        tail = re.escape(last)
    return r"\b" + "".join(re.escape(w) + r"\w*\s+" for w in head) + tail


@lru_cache(maxsize=16384)
def _compiled(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    phrases = [p for p in map(_keyword, keywords) if p is not None]
    return re.compile("|".join(f"(?:{p})" for p in phrases), re.IGNORECASE) if phrases else None


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern finding any of ``keywords`` in text (``None`` when there are none); match it
    against ``normalize``d text so curly apostrophes and spacing do not matter."""
    return _compiled(tuple(keywords))
