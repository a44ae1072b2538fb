"""The offline grader: checks each criterion's ``Matcher`` against the conversation, no model needed.

It is speaker-aware (only the doctor's words earn doctor points), negation-aware
(``clinic_rubrics.text.is_negated``: "denies chest pain", "no chest pain" and "thrombolysis
is contraindicated" are denied mentions, counted only by a matcher of that polarity), question-aware
(asking is not asserting) and order-aware (``first_n``, ``before``). Phrases match as whole
words with any spacing or hyphenation; a trailing ``*`` makes a phrase a prefix ("breath*"
finds "breathless"). A ``MatcherSession`` grades a growing dialogue step by step and reads
each message once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from clinic_rubrics.grading import SPEAKER_ROLES, Grader, GradingError, Message, Verdict
from clinic_rubrics.schema import Criterion, Matcher, Polarity, Rubric, per_rubric
from clinic_rubrics.text import is_negated, is_question, phrase_pattern, sentences, whole_words


@lru_cache(maxsize=4096)
def _compile(any_of: tuple[str, ...], pattern: str | None) -> re.Pattern[str]:
    parts = []
    if any_of:
        parts.append(whole_words([phrase_pattern(p) for p in any_of]))
    if pattern is not None:
        parts.append(f"(?:{pattern})")
    return re.compile("|".join(parts), re.IGNORECASE | re.MULTILINE)


@lru_cache(maxsize=65536)
def _counts(any_of: tuple[str, ...], pattern: str | None, polarity: Polarity, exclude_questions: bool,
            text: str) -> int:
    """How many matches in one message count under these options (memoised per message)."""
    regex = _compile(any_of, pattern)
    if polarity == "any" and not exclude_questions:
        return sum(1 for _ in regex.finditer(text))
    found = 0
    for body in sentences(text):
        if exclude_questions and is_question(body):
            continue
        found += sum(1 for m in regex.finditer(body)
                     if polarity == "any" or is_negated(body, m.start(), m.end()) == (polarity == "denied"))
    return found


def _key(matcher: Matcher) -> tuple:
    """The part of a matcher that decides a single message, as a hashable key for ``_counts``."""
    return (tuple(matcher.any_of), matcher.pattern, matcher.polarity, matcher.exclude_questions)


@per_rubric
def _plan(rubric: Rubric) -> tuple[list[tuple], set[tuple[str, tuple[str, ...]]]]:
    """Per criterion (id, matcher, count key, ``before`` phrases), and the ``before`` windows."""
    missing = [c.id for c in rubric.criteria if c.matcher is None]
    if missing:
        raise GradingError(
            f"criterion {missing[0]!r} has no matcher; the offline grader cannot judge free text "
            "(use an LLM judge, or an ensemble with one)"
        )
    plan = [(c.id, c.matcher, _key(c.matcher), tuple(c.matcher.before)) for c in rubric.criteria]
    return plan, {(m.speaker, before) for _, m, _, before in plan if before}


class MatcherSession:
    """Grades one growing conversation: each ``update`` reads only the messages added since the last.

    Per criterion it keeps how many messages have counted so far; per speaker, how many
    messages it has seen (for ``first_n``); per ``before`` phrase list, whether its window
    has closed. Grading a whole conversation is one update, so both paths share this code.
    """

    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        self._plan, self._windows = _plan(rubric)
        self.counts = {c.id: 0 for c in rubric.criteria}
        self._seen = {speaker: 0 for speaker in SPEAKER_ROLES}
        self._closed: set[tuple[str, tuple[str, ...]]] = set()

    def update(self, new_messages: Sequence[Message]) -> list[Verdict]:
        """Read the new messages; one verdict per criterion on everything read, in rubric order."""
        for message in new_messages:
            self._read(message.get("role", ""), str(message.get("content", "")))
        return self._verdicts()

    async def finish(self) -> list[Verdict]:
        return self._verdicts()

    def _verdicts(self) -> list[Verdict]:
        return [Verdict(cid, self.counts[cid] >= matcher.min_count, grader=OfflineGrader.name)
                for cid, matcher, _, _ in self._plan]

    def _read(self, role: str, text: str) -> None:
        speakers = [s for s, roles in SPEAKER_ROLES.items() if role in roles]
        closing = {(s, before) for s, before in self._windows - self._closed
                   if s in speakers and _compile(before, None).search(text)}
        for cid, matcher, key, before in self._plan:
            speaker = matcher.speaker
            if speaker not in speakers:
                continue
            if matcher.first_n is not None and self._seen[speaker] >= matcher.first_n:
                continue
            if before and ((speaker, before) in self._closed or (speaker, before) in closing):
                continue  # only messages before the first one naming a ``before`` phrase count
            if self.counts[cid] < matcher.min_count:
                self.counts[cid] += _counts(*key, text)
        self._closed |= closing
        for speaker in speakers:
            self._seen[speaker] += 1


def matches(matcher: Matcher, conversation: Sequence[Message]) -> bool:
    """Whether the conversation meets the matcher (see ``clinic_rubrics.schema.Matcher``)."""
    criterion = Criterion(id="m", text="matcher", points=1, matcher=matcher)
    return MatcherSession(Rubric(criteria=[criterion])).update(conversation)[0].met


class OfflineGrader(Grader):
    """Grades criteria that carry a matcher; a criterion without one is an error, never a silent 0."""

    name = "offline"

    def session(self, rubric: Rubric) -> MatcherSession:
        """A session that decides at every update, reading each message once."""
        return MatcherSession(rubric)
