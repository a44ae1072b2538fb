"""Checking an LLM patient's candidate reply against the patient-side facts.

Rules first (``FactChecker``: a reply must not deny a fact the profile has, "No, I haven't
had any fever" when a history fact has the keyword "fever", nor affirm a pertinent negative,
"my legs are swollen" when the case says they are not); then, optionally, a model is asked
(``CHECK_SYSTEM_PROMPT``, its answer read by ``parse_verdict``). Keywords are read with the
project's one reading of text (``clinic_rubrics.text``): the same keyword rule as the offline
patient, and the same clauses and negation words as the offline grader. Denials are read
strictly and affirmations conservatively, because a false alarm costs a regenerated reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from clinic_env.cases.schema import PatientProfile
from clinic_env.patient.prompt import section_answers
from clinic_rubrics.regex_literals import ascii_lowered, may_match
from clinic_rubrics.text import (
    NEGATION,
    clauses,
    denied_just_before,
    is_question,
    keyword_pattern,
    normalize,
    sentences,
)


@dataclass(frozen=True)
class Problem:
    """Why a candidate reply was rejected: kind ("leak", "denies_fact", "affirms_negative",
    "empty", "llm_check") and a short explanation, which the model is shown."""

    kind: str
    detail: str


# Words that make a denial partial ("no shortness of breath at rest", "I don't get breathless
# unless I climb stairs", "I haven't really had a fever"): a sentence with one is not read as a denial.
_QUALIFIER = re.compile(r"\b(?:unless|except|only|apart from|other than|at rest|anymore|any more|now|today|tonight|"
                        r"these days|at the moment|since|until|till|before|yet|really|much|as such|properly)\b")
# Besides negations, words saying all is well: a clause with one affirms nothing ("my legs are fine").
_NORMAL = re.compile(r"\b(?:fine|normal|ok|okay|alright|all right|clear|hardly|barely|same|usual|steady|gone|"
                     r"stopped|better)\b")
# An affirmation needs a cue before the keyword ("I've got", "there's", "yes", "my legs are swollen").
_AFFIRMING_CUE = re.compile(
    r"\b(?:yes|yeah|yep|i've|i have|i had|i'd|i get|i got|i keep|i'm|i am|i noticed|i feel|i felt|there's|"
    r"there is|there are|there was|there were|(?:he|she|they)(?:'s|'ve| has| have| had| gets| got| is| was)|"
    r"has been|have been|is|are|was|were|been|some|a bit of|a little|lots of|a lot of)\b")
_HYPOTHETICAL = re.compile(r"\b(?:if|whether|wonder\w*|in case|could it|might it|maybe|perhaps|asked|asking|ask|"
                           r"mentioned|told|said|says|worried about|afraid of|scared of|supposed to)\b")
_RELATIVES = re.compile(r"\b(?:mum|mom|mother|dad|father|brother|sister|wife|husband|partner|son|daughter|grand\w*|"
                        r"family|friend|relative|uncle|aunt|auntie|cousin|nan|nana|granny|colleague|neighbou?r|"
                        r"boss|kids?|children)s?\b")
# Keywords whose denial is itself the symptom ("I've no appetite", "I can't get my breath",
# "I haven't been eating"): never checked for denial.
_NEGATABLE_STEMS = (
    "appetite", "energy", "sleep", "slept", "breath", "air", "strength", "feeling", "sensation", "hunger",
    "hungry", "interest", "motivat", "concentrat", "focus", "control", "eat", "ate", "food", "drink", "weight",
    "period", "menstru", "pee", "wee", "urin", "bowel", "poo", "stool", "motion", "move", "moving", "walk",
    "vision", "sight", "see", "hear", "taste", "smell", "memory", "pulse", "erection", "libido", "sex", "desire",
    "fluid", "wind", "better", "improv", "well", "normal", "pass",
)


def _clauses(text: str, skip_relatives: bool, skip: re.Pattern[str] | None = None) -> list[str]:
    """Normalised clauses of the statements in ``text``. Questions are left out, and so are
    sentences matching ``skip`` and clauses about relatives when ``skip_relatives``."""
    out = []
    for sentence in sentences(normalize(text)):
        if is_question(sentence) or (skip is not None and skip.search(sentence)):
            continue
        out += [c for c in clauses(sentence) if not (skip_relatives and _RELATIVES.search(c))]
    return out


def _mentions(clause: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The keyword's mentions in a clause; none, without a scan, when the clause lacks its words."""
    return pattern.finditer(clause) if may_match(pattern, ascii_lowered(clause)) else iter(())


def _denied(clause: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    for match in _mentions(clause, pattern):
        if denied_just_before(clause, match.start()):
            return match
    return None


@lru_cache(maxsize=1024)
def _affirming_cue(clause: str) -> re.Match[str] | None:
    """The clause's first affirming cue, or None when it denies, reassures or supposes: read
    once per clause, not once per keyword checked in it."""
    if NEGATION.search(clause) or _NORMAL.search(clause) or _HYPOTHETICAL.search(clause):
        return None
    return _AFFIRMING_CUE.search(clause)


def _affirmed(clause: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    cue = _affirming_cue(clause)  # a mention after the first cue has a cue before it
    if cue is None:
        return None
    return next((match for match in _mentions(clause, pattern) if match.start() >= cue.end()), None)


@dataclass(frozen=True)
class _Keyword:
    keyword: str
    pattern: re.Pattern[str]
    lay: str


class FactChecker:
    """Rule-based contradiction check of a reply against a profile (see the module docstring).
    Keywords the case itself uses both ways ("not sharp", "he's been awake") are not checked."""

    def __init__(self, profile: PatientProfile) -> None:
        self.skip_relatives = profile.informant == "patient"
        positives = [(k, f.lay) for f in profile.history for k in f.keywords]
        positives += [(k, i.lay) for i in profile.past_history for k in i.keywords]
        negatives = [(k, n.lay) for n in profile.pertinent_negatives for k in n.keywords]
        positive_texts = [profile.opening_statement, profile.chief_complaint]
        positive_texts += [f.lay for f in profile.history] + [f.text for f in profile.history]
        for items in section_answers(profile).values():
            positive_texts += items
        positive_texts += list(profile.review_of_systems.values())
        all_texts = positive_texts + [n.lay for n in profile.pertinent_negatives]
        for items in (profile.past_history, profile.social_history, profile.family_history, profile.sexual_history,
                      profile.travel_history, profile.obstetric_history):
            all_texts += [i.text for i in items]
        case_clauses = [c for t in all_texts for c in _clauses(t, False)]
        pos_words = [normalize(k) for k, _ in positives]
        neg_words = [normalize(k) for k, _ in negatives]

        def overlaps(pattern: re.Pattern[str], word: str, others: list[str]) -> bool:
            return any(pattern.search(o) or (keyword_pattern([o]) and keyword_pattern([o]).search(word)) for o in others)

        def checkable(items: list[tuple[str, str]], others: list[str],
                      stated: Callable[[str, re.Pattern[str]], Any]) -> list[_Keyword]:
            """The keywords worth checking: not overlapping the other kind, and not already
            ``stated`` that way by the case itself."""
            kept = []
            for keyword, lay in items:
                pattern = keyword_pattern([keyword])
                if pattern is None or overlaps(pattern, normalize(keyword), others):
                    continue
                if not any(stated(c, pattern) for c in case_clauses):
                    kept.append(_Keyword(keyword, pattern, lay))
            return kept

        # Denying a positive fact, or affirming a pertinent negative, is a contradiction.
        self.deniable = checkable(positives, neg_words, _denied)
        self.affirmable = checkable(negatives, pos_words, _affirmed)

    def contradictions(self, reply: str) -> list[tuple[str, str]]:
        """(kind, explanation) for each contradiction; kind is "denies_fact" or "affirms_negative"."""
        found: dict[str, tuple[str, str]] = {}
        for clause in _clauses(reply, self.skip_relatives, skip=_QUALIFIER):
            for item in self.deniable:
                match = _denied(clause, item.pattern)
                if match and not match.group(0).startswith(_NEGATABLE_STEMS) and item.lay not in found:
                    found[item.lay] = ("denies_fact", f"you denied \"{item.keyword}\", but it is one of your facts: "
                                                      f"\"{item.lay}\"")
        for clause in _clauses(reply, self.skip_relatives):
            for item in self.affirmable:
                match = _affirmed(clause, item.pattern)
                if match and item.lay not in found:
                    found[item.lay] = ("affirms_negative", f"you said you have \"{item.keyword}\", but you do not: "
                                                           f"\"{item.lay}\"")
        return list(found.values())


CHECK_SYSTEM_PROMPT = (
    "You verify a simulated patient's reply in a medical consultation against the patient's facts. "
    "The reply must not contradict the facts, must not claim symptoms or history that are not in the facts "
    "(saying that something unlisted has not been noticed is fine), and must not name or guess a diagnosis. "
    "Answer with JSON only: {\"consistent\": true} or {\"consistent\": false, \"reason\": \"<one short sentence>\"}."
)


def parse_verdict(text: str) -> tuple[bool | None, str]:
    """(consistent, reason) from a checker model's answer; consistent is None when unreadable."""
    text = re.sub(r"```(?:json)?", "", str(text)).strip()
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match:
        try:
            data = json.loads(match.group(0))
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("consistent", "ok", "pass", "valid", "answer"):
                value = data.get(key)
                if isinstance(value, bool):
                    return value, str(data.get("reason") or "")
                if isinstance(value, str) and value.strip().lower() in ("yes", "no", "true", "false"):
                    return value.strip().lower() in ("yes", "true"), str(data.get("reason") or "")
    word = re.match(r"\W*(yes|no)\b", text, re.IGNORECASE)
    if word:
        return word.group(1).lower() == "yes", text[word.end():].strip(" .:-")
    return None, ""
