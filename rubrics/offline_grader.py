"""The offline grader: checks each criterion's ``Matcher`` against the conversation, no model needed.

It is speaker-aware (only the doctor's words earn doctor points), negation-aware ("denies
chest pain" and "no chest pain" are not "chest pain" when a matcher asks for affirmed
mentions), question-aware (asking is not asserting) and order-aware (``first_n``,
``before``). Phrases match as whole words with any spacing or hyphenation; a trailing
``*`` makes a phrase a prefix ("breath*" finds "breathless"). Results per message are
memoised, so grading a growing dialogue at every step only reads the new messages.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from rubrics.grading import SPEAKER_ROLES, GradingError, Message, Verdict
from rubrics.schema import Matcher, Rubric

NEGATION = re.compile(
    r"\b(?:no|not|never|without|denies|denied|deny|negative for|free of|avoid|avoids|avoiding|"
    r"contraindicated|instead of|rather than|stop|stopping|\w+n't)\b",
    re.IGNORECASE,
)
CLAUSE_BREAK = re.compile(r"[.;:!?\n]|,\s*(?:but|and)\b|\bbut\b|\bhowever\b", re.IGNORECASE)
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def _phrase(phrase: str) -> str:
    prefix = phrase.endswith("*")
    words = [re.escape(w) for w in re.split(r"[\s\-]+", phrase.rstrip("*").strip()) if w]
    return r"[\s\-]+".join(words) + (r"\w*" if prefix else "")


@lru_cache(maxsize=4096)
def _compile(any_of: tuple[str, ...], pattern: str | None) -> re.Pattern[str]:
    parts = []
    if any_of:
        parts.append(r"(?<!\w)(?:" + "|".join(_phrase(p) for p in any_of) + r")(?!\w)")
    if pattern is not None:
        parts.append(f"(?:{pattern})")
    return re.compile("|".join(parts), re.IGNORECASE | re.MULTILINE)


def _negated(text: str, start: int) -> bool:
    """A negation word between the start of the match's clause and the match."""
    clause_start = 0
    for brk in CLAUSE_BREAK.finditer(text, 0, start):
        clause_start = brk.end()
    return NEGATION.search(text, clause_start, start) is not None


@lru_cache(maxsize=65536)
def _counts(any_of: tuple[str, ...], pattern: str | None, affirmed_only: bool, exclude_questions: bool,
            text: str) -> bool:
    """Whether one message holds a match that counts under these options (memoised per message)."""
    regex = _compile(any_of, pattern)
    if not affirmed_only and not exclude_questions:
        return regex.search(text) is not None
    for sentence in SENTENCE.finditer(text):
        body = sentence.group(0)
        if exclude_questions and body.rstrip().endswith("?"):
            continue
        for match in regex.finditer(body):
            if not (affirmed_only and _negated(body, match.start())):
                return True
    return False


def matches(matcher: Matcher, conversation: Sequence[Message]) -> bool:
    """Whether the conversation meets the matcher (see ``rubrics.schema.Matcher``)."""
    roles = SPEAKER_ROLES[matcher.speaker]
    texts = [str(m.get("content", "")) for m in conversation if m.get("role") in roles]
    if matcher.before:
        stop = _compile(tuple(matcher.before), None)
        cut = next((i for i, t in enumerate(texts) if stop.search(t)), len(texts))
        texts = texts[:cut]
    if matcher.first_n is not None:
        texts = texts[: matcher.first_n]
    key = (tuple(matcher.any_of), matcher.pattern, matcher.affirmed_only, matcher.exclude_questions)
    found = sum(_counts(*key, t) for t in texts)
    return found >= matcher.min_count


class OfflineGrader:
    """Grades criteria that carry a matcher; a criterion without one is an error, never a silent 0."""

    name = "offline"

    def grade(self, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
        verdicts = []
        for criterion in rubric.criteria:
            if criterion.matcher is None:
                raise GradingError(
                    f"criterion {criterion.id!r} has no matcher; the offline grader cannot judge free text "
                    "(use an LLM judge, or an ensemble with one)"
                )
            verdicts.append(Verdict(criterion.id, matches(criterion.matcher, conversation), grader=self.name))
        return verdicts

    async def agrade(self, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
        return self.grade(conversation, rubric)
