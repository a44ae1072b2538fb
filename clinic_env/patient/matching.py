"""Which of a case's facts a doctor's question is about, by the words they share.

Cue words route the common questions (``history_topics``), but doctors ask in endless ways: "any
blood when you go?", "do you feel the cold more than other people?", "have you felt like you've
completely emptied?". Each of those shares its telling words with one fact of the case, so the
patient ranks facts by the content words they share with the question, each word weighted by how
rare it is among the case's facts (inverse document frequency: "pain" in a pain case tells little,
"emptied" a lot). Words are compared as stems, after lay and clinical synonyms are folded into
one ("poo" and "stool", "temp" and "fever"), so "flight" finds "flew". A question naming a symptom
matches only facts that name it too: "any chest pain?" is not about the rash "on the face and
chest". The patient still says only the case's own facts; matching only picks which.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from clinic_env.history_topics import GENERIC_KEYWORDS

T = TypeVar("T")
# The score a fact needs to answer a question by its words alone: one term held by at most a
# fifth of the case's facts, or two commoner ones.
MATCH_THRESHOLD = 1.5

_WORD = re.compile(r"[a-z0-9]+")

# Words that carry the grammar of a question, not its subject.
STOPWORDS = frozenset("""
a about after again all also am an and any anybody anyone anything anywhere are around as at be because been before
being bit both but by can could did do does doing done down during each either else even ever every for from get
gets getting got had has have having he her here hers him his how i if in into is it its just know last lately let
like little lot lots may me mean might more most much must my no nor not now of off ok okay on once one only or other
our out over please quite rather really recently said say see seem she should since so some something sort
still such sure tell than thank thanks that the their them then there these they thing things think this those
though through to today too up us very was we well were what whatever when where whether which while who whom why
will with would yes yet you your yourself kind way make makes made take taken go going feel feeling felt notice
noticed noticing happen happened tried try use used using been seems doctor time times seat sit always usually
often sometimes never change changes changed
""".split()) | GENERIC_KEYWORDS

# Lay and clinical words for one thing, folded into the first word of each group.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("fever", "temp", "temps", "temperature", "temperatures", "feverish", "febrile", "pyrexia", "pyrexial"),
    ("vomit", "vomiting", "vomited", "vomits", "puke", "puking", "throwing", "threw"),
    ("stool", "stools", "poo", "poos", "faeces", "feces", "motions", "bowel", "bowels"),
    ("urine", "wee", "wees", "pee", "peeing", "urinate", "urinating", "urinary", "waterworks", "bladder"),
    ("abdomen", "tummy", "belly", "abdominal", "stomach"),
    ("breath", "breathless", "breathlessness", "breathing", "breathe", "puffed", "winded", "dyspnoea", "dyspnea"),
    ("fly", "flight", "flights", "flew", "flying", "plane"),
    ("smoke", "smoking", "smoker", "smokes", "cigarettes", "cigarette", "cigs", "tobacco", "vape", "vaping"),
    ("alcohol", "booze", "pints", "units", "drinker"),
    ("faint", "fainted", "fainting", "collapse", "collapsed", "blackout", "blackouts", "blacked", "syncope"),
    ("pain", "pains", "painful", "hurt", "hurts", "hurting", "sore", "soreness", "ache", "aches", "aching", "achy"),
    ("work", "job", "occupation", "employed", "employment", "retired", "career"),
    ("eat", "eating", "ate", "appetite", "food", "meals", "feeding", "feeds", "fed"),
    ("weight", "weigh", "weighs", "weighing", "kilos"),
    ("pregnant", "pregnancy", "expecting"),
    ("period", "periods", "menstrual", "menses"),
    ("dizzy", "dizziness", "lightheaded", "giddy", "vertigo"),
    ("tired", "tiredness", "fatigue", "fatigued", "exhausted", "lethargic", "energy"),
    ("swell", "swollen", "swelling", "puffy"),
    ("itch", "itchy", "itching", "itches", "pruritus"),
    ("palpitation", "palpitations", "racing", "pounding", "fluttering", "flutter"),
    ("numb", "numbness", "tingling", "tingly"),
    ("confused", "confusion", "muddled", "disorientated", "disoriented"),
    ("sleep", "sleeping", "asleep", "insomnia"),
    ("spread", "spreading", "spreads", "spread"),
    ("blood", "bleeding", "bleed", "bleeds", "bloody"),
    ("drug", "drugs", "cannabis", "cocaine", "weed", "heroin"),
    ("medicine", "medicines", "medication", "medications", "tablets", "tablet", "pills", "meds"),
    ("sex", "sexually", "sexual", "intercourse"),
    ("child", "children", "kids", "son", "daughter"),
)
SYNONYMS: dict[str, str] = {word: group[0] for group in SYNONYM_GROUPS for word in group}

_SUFFIXES = (("iness", "y"), ("ness", ""), ("ings", ""), ("ing", ""), ("ied", "y"), ("ies", "y"), ("ier", "y"),
             ("iest", "y"), ("ed", ""), ("es", ""), ("ly", ""), ("s", ""))


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """A crude English stem, enough to make inflections meet: "emptied", "emptying" and "empty"
    are "empti"; "aches" and "aching" are "ach"; "spreading" is "spread"."""
    word = SYNONYMS.get(word, word)
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "running" -> "runn" -> "run"
    if len(word) > 3 and word[-1] == "e":
        word = word[:-1]
    return word[:-1] + "i" if len(word) > 3 and word.endswith("y") else word


# Phrases that name one thing, read as its word before the text is split ("short of breath" is
# "breathless", so it finds "breathless on the stairs").
PHRASES = {"shortness of breath": "breathless", "short of breath": "breathless", "out of breath": "breathless",
           "passed out": "fainted", "pass out": "faint", "light headed": "dizzy", "light-headed": "dizzy",
           "pins and needles": "numb", "throw up": "vomit", "threw up": "vomit", "being sick": "vomiting",
           "water works": "waterworks", "heart attack": "infarction"}
_PHRASE = re.compile(r"\b(?:" + "|".join(map(re.escape, PHRASES)) + r")\b")
_STOP_STEMS = frozenset(stem(w) for w in STOPWORDS)


@lru_cache(maxsize=4096)
def terms(text: str) -> frozenset[str]:
    """The stems of a text's content words (synonyms folded; "feels" is as empty as "feel")."""
    text = _PHRASE.sub(lambda m: PHRASES[m.group(0)], text.lower())
    stems = (stem(w) for w in _WORD.findall(text) if w not in STOPWORDS and len(w) > 1)
    return frozenset(t for t in stems if t not in _STOP_STEMS)


def holds_one(fact_terms: frozenset[str], named: Sequence[frozenset[str]]) -> bool:
    """Whether a fact holds every stem of one of the symptoms a question names (or it names none):
    a fact found by a body part ("arm") does not answer "any numbness in your arms?"."""
    return not named or any(n <= fact_terms for n in named)


@dataclass(frozen=True)
class FactIndex(Generic[T]):
    """The facts of one case with their terms, and each term's weight among them."""

    items: tuple[T, ...]
    item_terms: tuple[frozenset[str], ...]
    weights: dict[str, float]

    @classmethod
    def build(cls, items: Sequence[T], texts: Sequence[str]) -> FactIndex[T]:
        """``texts[i]``: everything ``items[i]`` is said in (lay words, clinical words, keywords)."""
        item_terms = tuple(terms(t) for t in texts)
        df = Counter(t for ts in item_terms for t in ts)
        n = len(item_terms)
        return cls(tuple(items), item_terms, {t: math.log((n + 1) / c) for t, c in df.items()})

    def scores(self, question: str, required: Sequence[frozenset[str]] = (),
               unweighted: frozenset[str] = frozenset()) -> dict[int, float]:
        """Each item's score for ``question`` (by position; items sharing no term are left out): the
        weights of the terms they share, less those in ``unweighted`` (words too vague to tell what
        a question is about, such as "pain"). With ``required`` (the stems of each symptom the
        question names), an item must hold all the stems of one of them."""
        asked = terms(question)
        out: dict[int, float] = {}
        for i, item_terms in enumerate(self.item_terms):
            shared = asked & item_terms
            if shared and holds_one(item_terms, required):
                out[i] = sum(self.weights[t] for t in shared - unweighted)
        return out
