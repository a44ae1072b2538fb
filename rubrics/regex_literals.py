"""Which plain strings every match of a regex contains: a prefilter that skips a scan.

A regex search tries its pattern at every position of a text, so a rubric of fifty criteria
reads a long doctor turn fifty times over. Most criteria name words ("thrombolysis", "chest
pain"), and a match of one must contain one of those words: ``str.__contains__`` rules out a
text that holds none of them far faster than the regex engine could. This is the literal
prefilter of grep, RE2 and Hyperscan, read off the pattern's parse tree. It is exact: it
only ever answers "cannot match" when no match exists, and says nothing (``None``) about a
pattern or a text it cannot reason about.
"""

from __future__ import annotations

import re
from functools import lru_cache

try:
    from re import _parser  # Python 3.11+
except ImportError:  # Python 3.10
    import sre_parse as _parser  # type: ignore[no-redef]

_REPEATS = {_parser.MAX_REPEAT, _parser.MIN_REPEAT, getattr(_parser, "POSSESSIVE_REPEAT", None)} - {None}
_ATOMIC_GROUPS = {getattr(_parser, "ATOMIC_GROUP", None)} - {None}
Needles = frozenset[str] | None


def _best(first: Needles, second: Needles) -> Needles:
    """The more selective of two needle sets: the one whose shortest needle is longer."""
    if first is None or (second is not None and min(map(len, second)) > min(map(len, first))):
        return second
    return first


def _sequence_needles(items: list[tuple]) -> Needles:
    """Needles for a sequence: its most selective required part (a run of literals, a group,
    a repeat of at least one, or an alternation every branch of which has needles)."""
    best: Needles = None
    run: list[str] = []
    for op, av in items:
        if op is _parser.LITERAL:
            run.append(chr(av))
            continue
        best = _best(_best(best, _run_needles(run)), _item_needles(op, av))
        run = []
    return _best(best, _run_needles(run))


def _run_needles(run: list[str]) -> Needles:
    return frozenset({"".join(run).lower()}) if run else None


def _item_needles(op: object, av: object) -> Needles:
    if op is _parser.SUBPATTERN:
        return _sequence_needles(av[-1])
    if op in _ATOMIC_GROUPS:
        return _sequence_needles(av)
    if op in _REPEATS and av[0] >= 1:
        return _sequence_needles(av[2])
    if op is _parser.BRANCH:
        branches = [_sequence_needles(branch) for branch in av[1]]
        return None if None in branches else frozenset().union(*branches)
    return None


@lru_cache(maxsize=4096)
def needles(regex: re.Pattern[str]) -> Needles:
    """Lower-case ASCII strings one of which every match of ``regex`` contains, whatever its
    case flags; ``None`` when there are none to be sure of (or one is not ASCII, where case
    folding is not one character for one)."""
    found = _sequence_needles(_parser.parse(regex.pattern, regex.flags).data)
    return found if found is not None and all(n.isascii() for n in found) else None


def ascii_lowered(text: str) -> str | None:
    """``text`` lower-cased when it is ASCII (then a case-insensitive match of an ASCII
    needle is a plain substring of it), else None."""
    return text.lower() if text.isascii() else None


def may_match(regex: re.Pattern[str], lowered: str | None) -> bool:
    """False only when ``regex`` cannot match the text whose ``ascii_lowered`` form is ``lowered``."""
    found = needles(regex)
    return found is None or lowered is None or any(n in lowered for n in found)
