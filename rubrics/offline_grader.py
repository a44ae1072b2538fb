"""The offline grader: checks each criterion's ``Matcher`` against the conversation, no model needed.

It is speaker-aware (only the doctor's words earn doctor points), negation-aware
(``clinic_rubrics.text``: "denies chest pain", "no chest pain", "thrombolysis is
contraindicated" are denied mentions and "if you get chest pain" a supposed one, counted only
by a matcher of the polarity that asks for them), question-aware (asking is not asserting) and
order-aware (``first_n``, ``before``). Phrases match as whole
words with any spacing or hyphenation; a trailing ``*`` makes a phrase a prefix ("breath*"
finds "breathless"). It is act-aware (``Matcher.acts``): a doctor message in the grading
conversation's canonical form ("ASK: ...", "ORDER: ...", "DIAGNOSE: ...\nPLAN: ...") is read
as its acts, so a criterion can count only what the doctor asked, ordered or planned; a
message with no act prefix is plain speech, the "ask" act. A ``MatcherSession`` grades a
growing dialogue step by step and reads each message once, in time linear in its length: a
criterion whose words a message does not contain is ruled out without a regex scan
(``clinic_rubrics.regex_literals``).
A matcher with a ``reading`` hands each message to the reading registered under that name
(``register_reading``), so knowledge the matcher language cannot hold (which level of care a
plan arranges) stays with its owner and is graded by the same sessions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from clinic_rubrics.grading import SPEAKER_ROLES, Grader, GradingError, Message, Verdict
from clinic_rubrics.regex_literals import ascii_lowered, needles
from clinic_rubrics.schema import Criterion, Matcher, Polarity, Rubric, per_rubric
from clinic_rubrics.text import (
    is_affirmed,
    is_asking,
    is_negated,
    is_question,
    is_refused,
    phrase_pattern,
    sentences,
    whole_words,
)

ACT_LINE = re.compile(r"^(ASK|EXAMINE|ORDER|DIAGNOSE|PLAN|END):", re.MULTILINE)

# A reading decides whether one message counts: reading(text, argument) -> bool.
Reading = Callable[[str, str], bool]
READINGS: dict[str, Reading] = {}


def register_reading(name: str, reading: Reading) -> None:
    """Make ``Matcher(reading="name:argument")`` call ``reading(message_text, argument)``. A reading
    depends on its two arguments only: its answers are memoised per message."""
    if name in READINGS and READINGS[name] is not reading:
        raise ValueError(f"a different reading is already registered as {name!r}")
    READINGS[name] = reading


def _reading(criterion: Criterion) -> tuple[Reading, str]:
    name, _, argument = criterion.matcher.reading.partition(":")
    if name not in READINGS:
        raise GradingError(f"criterion {criterion.id!r}: no reading {name!r} is registered (known: "
                           f"{sorted(READINGS)}); import the package that defines it (e.g. clinic_env)")
    return READINGS[name], argument


@lru_cache(maxsize=4096)
def _compile(any_of: tuple[str, ...], pattern: str | None) -> re.Pattern[str]:
    parts = []
    if any_of:
        parts.append(whole_words([phrase_pattern(p) for p in any_of]))
    if pattern is not None:
        parts.append(f"(?:{pattern})")
    return re.compile("|".join(parts), re.IGNORECASE | re.MULTILINE)


def act_text(text: str, acts: tuple[str, ...]) -> str:
    """The parts of a doctor's message that are these acts, each from its prefix line on;
    text before the first prefix is plain speech, the "ask" act."""
    marks = list(ACT_LINE.finditer(text))
    bounds = [(0, "ask")] + [(m.start(), m.group(1).lower()) for m in marks]
    ends = [m.start() for m in marks] + [len(text)]
    return "\n".join(text[start:end] for (start, act), end in zip(bounds, ends) if act in acts and end > start)


def _mention(match: re.Match[str]) -> tuple[int, int]:
    """The span whose negation and hypothetical scope decide a match: its ``mention`` group if set."""
    if "mention" in match.re.groupindex and match.start("mention") >= 0:
        return match.span("mention")
    return match.span()


@lru_cache(maxsize=1024)
def _scoped(text: str, acts: tuple[str, ...]) -> tuple[str, str | None]:
    """The part of a message a matcher reads (its ``acts``, or all of it) and that part's
    ``ascii_lowered`` form: worked out once per message and acts, not once per criterion."""
    scoped = act_text(text, acts) if acts else text
    return scoped, ascii_lowered(scoped)


@lru_cache(maxsize=4096)
def _reads(reading: Reading, text: str, argument: str) -> bool:
    """A reading's answer on one message part, memoised (several criteria ask the same reading)."""
    return reading(text, argument)


@lru_cache(maxsize=1024)
def _statements(text: str) -> tuple[tuple[str, bool, bool], ...]:
    """The sentences of one message, each with whether it is a question and whether it asks
    (``is_asking``): split once per message, not once per criterion."""
    return tuple((body, is_question(body), is_asking(body)) for body in sentences(text))


def _holds(polarity: Polarity | str, text: str, start: int, end: int) -> bool:
    """Whether a mention counts under ``polarity``: "affirmed" is asserted (neither denied nor
    only supposed), "denied" is ruled out ("stop X", "X is contraindicated"), "refused" is
    explicitly not to be given ("do not give X": ``unless_refused``)."""
    if polarity == "affirmed":
        return is_affirmed(text, start, end)
    if polarity == "refused":
        return is_refused(text, start, end)
    return polarity == "any" or is_negated(text, start, end)


@lru_cache(maxsize=65536)
def _counts(any_of: tuple[str, ...], pattern: str | None, polarity: Polarity | str, exclude_questions: bool,
            asking_only: bool, text: str, limit: int) -> int:
    """How many matches in the part of one message a matcher reads count under these options,
    up to ``limit`` (the criterion needs no more); memoised per message. Linear in the message:
    a match's clause, negation and condition are looked up in offsets found once per sentence."""
    regex = _compile(any_of, pattern)
    if polarity == "any" and not exclude_questions and not asking_only:
        return sum(1 for _ in islice(regex.finditer(text), limit))
    found = 0
    for body, question, asking in _statements(text):
        if (exclude_questions and question) or (asking_only and not asking):
            continue
        for m in regex.finditer(body):
            if _holds(polarity, body, *_mention(m)):
                found += 1
                if found == limit:
                    return found
    return found


def _key(matcher: Matcher) -> tuple:
    """The part of a matcher that decides a single message part, as a hashable key for ``_counts``."""
    return tuple(matcher.any_of), matcher.pattern, matcher.polarity, matcher.exclude_questions, matcher.asking_only


def _match_counter(key: tuple, acts: tuple[str, ...]) -> Callable[[str, int], int]:
    """``_counts`` of one message's ``acts`` part under ``key``, up to a limit; a part holding
    none of the words every match contains counts 0 without a regex scan."""
    found = needles(_compile(*key[:2]))

    def count(text: str, limit: int) -> int:
        scoped, lowered = _scoped(text, acts)
        if found is not None and lowered is not None and not any(map(lowered.__contains__, found)):
            return 0
        return _counts(*key, scoped, limit)
    return count


def _refusal(criterion: Criterion) -> Callable[[str], bool] | None:
    """For an ``unless_refused`` or ``unless`` matcher, whether a statement of one message (in the
    matcher's acts) refuses what it names or affirms its ``unless``; None for any other matcher."""
    matcher, acts = criterion.matcher, tuple(criterion.matcher.acts)
    counts = ([_match_counter((tuple(matcher.any_of), matcher.pattern, "refused", True, False), acts)]
              if matcher.unless_refused else [])
    if matcher.unless is not None:
        counts.append(_match_counter(((), matcher.unless, "affirmed", True, False), acts))
    return (lambda text: any(count(text, 1) > 0 for count in counts)) if counts else None


def _counter(criterion: Criterion) -> Callable[[str, int], int]:
    """How many matches one message holds for this criterion, up to a limit: a reading's yes
    (of the message's ``acts``, if the matcher names any) as 1, else ``_match_counter``'s count."""
    acts = tuple(criterion.matcher.acts)
    if criterion.matcher.reading is not None:
        reading, argument = _reading(criterion)
        return lambda text, _limit: int(_reads(reading, _scoped(text, acts)[0], argument))
    return _match_counter(_key(criterion.matcher), acts)


@dataclass(frozen=True)
class _Plan:
    """How one rubric is graded: per speaker, its criteria as (index, ``first_n``, ``before``
    phrases, ``min_count``, counter, refusal test); each criterion's verdicts (unmet, met), built
    once as verdicts are immutable; and the ``before`` windows."""

    by_speaker: dict[str, list[tuple]]
    verdicts: list[tuple[Verdict, Verdict]]
    windows: set[tuple[str, tuple[str, ...]]]


@per_rubric
def _plan(rubric: Rubric) -> _Plan:
    """The rubric's ``_Plan``, worked out once and shared by every session grading it."""
    missing = [c.id for c in rubric.criteria if c.matcher is None]
    if missing:
        raise GradingError(
            f"criterion {missing[0]!r} has no matcher; the offline grader cannot judge free text "
            "(use an LLM judge, or an ensemble with one)"
        )
    by_speaker: dict[str, list[tuple]] = {speaker: [] for speaker in SPEAKER_ROLES}
    for i, c in enumerate(rubric.criteria):
        m = c.matcher
        by_speaker[m.speaker].append((i, m.first_n, tuple(m.before), m.min_count, _counter(c), _refusal(c)))
    verdicts = [tuple(Verdict(c.id, met, grader=OfflineGrader.name) for met in (False, True)) for c in rubric.criteria]
    windows = {(c.matcher.speaker, tuple(c.matcher.before)) for c in rubric.criteria if c.matcher.before}
    return _Plan(by_speaker, verdicts, windows)


class MatcherSession:
    """Grades one growing conversation: each ``update`` reads only the messages added since the last.

    Per criterion it keeps how many messages have counted so far and its verdict; per speaker,
    how many messages it
    has seen (for ``first_n``) and the criteria still open (one met that no refusal can undo,
    refused, past its ``first_n`` or whose window has closed is decided for good, and never
    looked at again); per ``before`` phrase list, whether its window has closed. Grading a
    whole conversation is one update, so both paths share this code.
    """

    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        self._plan = _plan(rubric)
        self.counts = [0] * len(rubric.criteria)
        self._verdicts = [unmet for unmet, _ in self._plan.verdicts]
        self._open = dict(self._plan.by_speaker)
        self._seen = {speaker: 0 for speaker in SPEAKER_ROLES}
        self._closed: set[tuple[str, tuple[str, ...]]] = set()

    def update(self, new_messages: Sequence[Message]) -> list[Verdict]:
        """Read the new messages; one verdict per criterion on everything read, in rubric order."""
        for message in new_messages:
            self._read(message.get("role", ""), str(message.get("content", "")))
        return list(self._verdicts)

    async def finish(self) -> list[Verdict]:
        return list(self._verdicts)

    def _read(self, role: str, text: str) -> None:
        speakers = [s for s, roles in SPEAKER_ROLES.items() if role in roles]
        closing = {(s, before) for s, before in self._plan.windows - self._closed
                   if s in speakers and _compile(before, None).search(text)}
        for speaker in speakers:
            seen, still_open = self._seen[speaker], []
            for criterion in self._open[speaker]:
                i, first_n, before, min_count, count, refuses = criterion
                if (first_n is not None and seen >= first_n) or (before and (speaker, before) in closing):
                    continue  # decided for good: past its first n messages, or its ``before`` window closes here
                if self.counts[i] < min_count:
                    self.counts[i] += count(text, min_count - self.counts[i])
                if refuses is not None and refuses(text):
                    self._verdicts[i] = self._plan.verdicts[i][0]
                    continue  # refused: never met
                if self.counts[i] >= min_count:
                    self._verdicts[i] = self._plan.verdicts[i][1]
                if self.counts[i] < min_count or refuses is not None:
                    still_open.append(criterion)
            self._open[speaker] = still_open
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
