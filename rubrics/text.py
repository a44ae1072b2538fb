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
# Endings a short last word may take: "wee" finds "weeing" and "wees", never "week".
_INFLECTIONS = r"(?:s|es|d|ed|ing|y|ie|ies|ier|iest|er|ers|ly)?\b"
_SHORT = 4


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, single spaces: the form keywords are matched in."""
    return re.sub(r"\s+", " ", str(text).lower().translate(APOSTROPHES)).strip()


def _keyword(keyword: str) -> str | None:
    """One keyword as a regex: every word but the last is a prefix ("harm yourself" finds
    "harming yourself"); a last word of up to four letters takes only inflections, because as
    a prefix it finds other words ("wee" in "week", "ear" in "early"); a longer one is a prefix."""
    words = normalize(keyword).split()
    if not words:
        return None
    *head, last = words
    tail = re.escape(last) + (_INFLECTIONS if len(last) <= _SHORT else "")
    return r"\b" + "".join(re.escape(w) + r"\w*\s+" for w in head) + tail


@lru_cache(maxsize=16384)
def _compiled(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    phrases = [p for p in map(_keyword, keywords) if p is not None]
    return re.compile("|".join(f"(?:{p})" for p in phrases), re.IGNORECASE) if phrases else None


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern finding any of ``keywords`` in text (``None`` when there are none); match it
    against ``normalize``d text so curly apostrophes and spacing do not matter."""
    return _compiled(tuple(keywords))
