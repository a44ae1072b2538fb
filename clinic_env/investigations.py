"""The catalogue of investigations (``investigations.json``) and how a doctor's order text finds one.

Cases name their tests with the catalogue's names (or their own names plus aliases). The
examiner uses the catalogue twice: to resolve what a doctor orders ("FBC", "full blood count",
"CBC" are one test; an order no name matches is read again by the general rules of
``readings``) and to give a plausible result for a test the case does not list
(``derived_results`` fits it to the patient). Costs are rough US dollar list prices and
turnaround times typical hours; they exist to make over-testing visible. The catalogue is data
so that a clinician can add a test or a spelling without reading code.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Investigation:
    name: str
    aliases: tuple[str, ...]
    normal_result: str
    reference_range: str
    cost: float
    turnaround_hours: float
    answered_by: tuple[str, ...] = ()  # tests whose result, when a case lists one, answers this order too


def _load_catalog() -> tuple[Investigation, ...]:
    rows = json.loads(resources.files("clinic_env").joinpath("investigations.json").read_text(encoding="utf-8"))
    return tuple(Investigation(**{**row, "aliases": tuple(row["aliases"]),
                                  "answered_by": tuple(row.get("answered_by", ()))}) for row in rows)


CATALOG: tuple[Investigation, ...] = _load_catalog()


def normalize_name(text: str) -> str:
    """Lower-case, fold an apostrophe plural ("U&E's" is "u&es"), strip punctuation other than
    word-internal hyphens, '&' and '+', fold spaces."""
    text = re.sub(r"(?<=\w)['’]s\b", "s", text.lower())
    text = re.sub(r"[^\w&+\- ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# Words clinicians shorten in an order, spelled out before a name is looked up ("hs trop", "pelvic
# USS", "MRI L-spine", "MSU MC&S"). Each stands for a word of a test's name, never for a whole other
# test, and a qualifier that names no test ("lab glucose", "ABG on air") is dropped, so spelling out
# cannot turn one test into another.
ABBREVIATIONS: dict[str, str] = {
    "hs": "high-sensitivity", "trop": "troponin", "uss": "ultrasound", "l-spine": "lumbar spine",
    "c-spine": "cervical spine", "t-spine": "thoracic spine", "mc&s": "culture", "m&c": "culture",
    "coag": "coagulation", "xr": "x-ray", "hr": "hour", "hrs": "hour", "abdo": "abdomen", "cap": "capillary",
    "tv": "transvaginal", "k+": "potassium", "na+": "sodium", "mg2+": "magnesium", "lab": "", "stat": "", "formal": "",
    "cx": "culture", "pls": "", "w": "with", "diff": "differential", "lytes": "electrolytes", "creat": "creatinine",
    "us": "ultrasound", "npa": "nasopharyngeal aspirate", "resp": "respiratory", "quant": "quantitative",
    "tox": "toxicology", "ag": "antigen", "urinary": "urine", "duplex": "doppler", "trig": "triglycerides",
    "r": "right", "l": "left", "rpt": "repeat", "ab": "antibody", "abs": "antibodies", "angio": "angiogram",
    "spiro": "spirometry", "ue": "u&e", "bc": "blood culture", "con": "contrast",
}
_ON_AIR = re.compile(r"\s+on (room )?air$")


def _spelled_word(word: str) -> str:
    """A word's ``ABBREVIATIONS`` entry, also for its plural ("coags", "trigs")."""
    return ABBREVIATIONS.get(word, ABBREVIATIONS.get(word[:-1], word) if word.endswith("s") else word)


def spelled_out(text: str) -> str:
    """``normalize_name`` with ``ABBREVIATIONS`` spelled out and "on (room) air" dropped."""
    words = [_spelled_word(w) for w in _ON_AIR.sub("", normalize_name(text)).split()]
    return " ".join(w for w in words if w)


@lru_cache(maxsize=8192)
def spellings(name: str) -> tuple[str, ...]:
    """A name as written, spelled out, and each without a plural "s" ("U&Es", "LFTs")."""
    forms = dict.fromkeys((normalize_name(name), spelled_out(name)))
    return tuple(dict.fromkeys([*forms, *(f[:-1] for f in forms if len(f) > 3 and f.endswith("s"))]))


def unhyphenated(name: str) -> str:
    """A normalised name with its hyphens as spaces ("hs-troponin", "x-ray"): orders and aliases
    hyphenate the same words differently."""
    return name.replace("-", " ")


_BY_ALIAS: dict[str, Investigation] = {}
for _item in CATALOG:
    for _alias in (_item.name, *_item.aliases):
        _BY_ALIAS.setdefault(normalize_name(_alias), _item)
        _BY_ALIAS.setdefault(unhyphenated(normalize_name(_alias)), _item)


def lookup(name: str) -> Investigation | None:
    """The catalogue entry whose name or alias equals ``name`` after normalisation (as written,
    spelled out, or without a plural "s")."""
    return next((_BY_ALIAS[v] for v in spellings(name) if v in _BY_ALIAS), None)


@lru_cache(maxsize=8192)
def aliases_of(name: str) -> tuple[str, ...]:
    """All normalised names a test is known by: its catalogue aliases when it is listed."""
    item = lookup(name)
    names = [normalize_name(n) for n in ((name,) if item is None else (item.name, *item.aliases))]
    return tuple(dict.fromkeys([*names, *map(unhyphenated, names)]))


# Words an order may add to a test's name without naming another test: a side, urgency, a blood
# sample, a request word, a view or contrast, the oxygen a gas is taken on, a number ("crossmatch 2
# units", "blood cultures x2", "ABG on 2L"). A sample other than blood (urine, stool, CSF, sputum) is NOT one: it turns
# a test into another ("urine glucose" is not blood glucose), and neither is any word that names a
# test ("urine pregnancy test" is not a "urine test").
QUALIFIERS = frozenset(
    "left right bilateral both side sided lt rt serum plasma blood venous level levels test tests screen scan "
    "check study bedside urgent urgently repeat random please full formal baseline point care portable sample unit "
    "differential clean catch quantitative non high-sensitivity sensitive "
    "pa ap erect supine lateral view plain contrast non-contrast enhanced hour time oxygen o2 air room litre "
    "a an the of for with and on in to at by".split())
_STOPWORDS = frozenset("a an the of for with and on in to at by".split())
_NUMBER = re.compile(r"x?\d+(?:l|h|hr|hrs|st|nd|rd|th)?")


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@lru_cache(maxsize=8192)
def content_words(name: str) -> frozenset[str]:
    """The stemmed words of a normalised name that carry meaning (not "of", "the", "and")."""
    return frozenset(_stem(w) for w in name.split() if w not in _STOPWORDS)


# Where on the body a sample or a view is taken ("skin scrapings 4th toe web"): a qualifier of a test
# named in two words or more, never of a bare modality ("ultrasound toe" is not an abdominal ultrasound).
SITES = frozenset("toe toes finger fingers web space nail nails scalp trunk arm forearm shin upper lower".split())


_QUALIFIER_STEMS = frozenset(map(_stem, QUALIFIERS))
_SITE_STEMS = frozenset(map(_stem, SITES))


def _qualifies(word: str, need: frozenset[str]) -> bool:
    """Whether a (stemmed) word of an order only qualifies the alias whose words are ``need``: a
    qualifier, a number, a site of a test named in two words or more, or a word no test of the
    catalogue is named with ("dermatoscopy of the changing mole", "ful blood count"): such a word
    cannot turn one test into another, while a test word can ("urine glucose" is not blood glucose)."""
    return (word in _QUALIFIER_STEMS or bool(_NUMBER.fullmatch(word)) or (word in _SITE_STEMS and len(need) >= 2)
            or (len(need) >= 2 and word not in _test_word_stems()))


@lru_cache(maxsize=1)
def _test_word_stems() -> frozenset[str]:
    """The stems of every word the catalogue names a test with, and of the words shorthand spells out."""
    words = {w for key in _BY_ALIAS for w in key.split()} | {w for v in ABBREVIATIONS.values() for w in v.split()}
    return frozenset(_stem(w) for w in words)


# A word every kind of test may end with: "liver function" is "liver function tests".
_GENERIC_ENDING = frozenset({"test"})


def closest_alias(order: str, aliases: Iterable[str]) -> str | None:
    """The longest alias all of whose words are in ``order`` when the order's other words only
    qualify it (``QUALIFIERS``, ``SITES``): "Doppler USS left leg" finds "doppler ultrasound leg",
    "urine pregnancy test" never finds "urine test". ``order`` and ``aliases`` are normalised."""
    words = content_words(order)
    best: tuple[int, str] | None = None
    for alias in aliases:
        need = content_words(alias) - _GENERIC_ENDING if len(content_words(alias)) > 2 else content_words(alias)
        if need and need <= words and all(_qualifies(w, need) for w in words - need):
            if best is None or len(need) > best[0]:
                best = (len(need), alias)
    return None if best is None else best[1]


@lru_cache(maxsize=4096)
def closest_catalogue_alias(order: str) -> str | None:
    """``closest_alias`` over every catalogue name and alias (worked out once per order text)."""
    return closest_alias(order, _BY_ALIAS)


# How a doctor joins two tests in one order ("clotting + fibrinogen", "phos and Mg", "VBG with lactate").
_JOINS = re.compile(r"\s+(?:\+|and|&|with)\s+")


def parts(order: str) -> list[str]:
    """The tests of an order that names several joined by "+", "and", "&" or "with"."""
    return [p for p in _JOINS.split(normalize_name(order)) if p]


_PANEL_MAX_WORDS = 4


def panel_words(order: str, names_a_test: Callable[[str], bool]) -> list[str]:
    """An order typed as a run of test names without separators ("FBC CRP LFT") split into them,
    longest name first at each word; empty unless every word falls in a test and there are two
    or more, so a name of several words is never broken up."""
    words = _cleaned(_LABEL.sub("", order)).split()  # "bloods: FBC U&E" is its tests
    found: list[str] = []
    i = 0
    while i < len(words):
        for j in range(min(len(words), i + _PANEL_MAX_WORDS), i, -1):
            if names_a_test(" ".join(words[i:j])):
                found.append(" ".join(words[i:j]))
                i = j
                break
        else:
            return []
    return found if len(found) > 1 else []


# The words the catalogue spells its tests with: a word of an order outside them may be a typo of one.
_VOCABULARY = frozenset(w for key in _BY_ALIAS for w in key.split()) | QUALIFIERS | SITES | frozenset(
    w for v in ABBREVIATIONS.values() for w in v.split())
_TYPO_MIN_LENGTH = 6
_TYPO_CUTOFF = 0.8


def _corrected(word: str) -> str:
    """A long word the catalogue does not know, as the one catalogue word it is a typo of
    ("urinalisys", "ultrasond"); a known word, a short one or an ambiguous typo stays as written."""
    if len(word) < _TYPO_MIN_LENGTH or word in _VOCABULARY or not word.isalpha():
        return word
    close = difflib.get_close_matches(word, _VOCABULARY, n=2, cutoff=_TYPO_CUTOFF)
    if len(close) == 2 and difflib.SequenceMatcher(None, word, close[0]).ratio() == \
            difflib.SequenceMatcher(None, word, close[1]).ratio():
        return word
    return close[0] if close else word


# Names of a body site that a test's aliases spell another way.
_SITE_NAMES = {"circle of willis": "head", "intracranial": "head"}
_PARENTHESES = re.compile(r"\([^()]*\)")
_TIGHT_PLUS = re.compile(r"(?<=\w)\+(?=\w)")
_LEADING_SLASH = re.compile(r"^\s*([^\s/]+(?:/[^\s/]+)+)(.*)$")
# Where the test's name ends and details of how or when to do it begin ("blood cultures x3 from
# separate sites before abx", "CT angio aorta - arch to iliacs", "carboxy-Hb on venous gas").
_DETAILS = re.compile(r"\s+(?:-|\u2013|from|before|after|prior to|post|pre|on|at|via|looking for)\s+.*$")
_LETTERS = re.compile(r"\b([a-z]) ([a-z])\b")
# A heading before the tests ("bloods: FBC U&E LFT CRP", "imaging: CXR").
_LABEL = re.compile(r"^\s*[a-z ]{2,20}:\s*", re.IGNORECASE)


def _cleaned(order: str) -> str:
    """An order without its parenthesised qualifiers, "G+S" as "g&s", abbreviations and site names
    spelled out, hyphens as spaces and typos corrected."""
    text = spelled_out(_TIGHT_PLUS.sub("&", _PARENTHESES.sub(" ", order)))
    for site, name in _SITE_NAMES.items():
        text = re.sub(rf"\b{site}\b", name, text)
    return " ".join(_corrected(w) for w in unhyphenated(text).split())


@lru_cache(maxsize=4096)
def readings(order: str) -> tuple[str, ...]:
    """The ways to read an order, in the order the examiner tries them until one names a test: as
    written; cleaned (``_cleaned``); "X for Y" as the specimen or procedure X ("LP for
    xanthochromia"), then the test Y on it ("urine for culture" is a urine culture), then Y alone
    only when X is no specimen ("blood for culture"); "A/B rest" as "A rest" then "B rest"
    ("abdo/pelvic US", "VBG/lactate", "GAD/IA2/ZnT8 abs"); without the details after the name ("BC
    x3 from separate sites", "CT angio aorta - arch to iliacs"); single letters closed up ("CT A/P")."""
    cleaned = _cleaned(_LABEL.sub("", order))
    found = [order, cleaned]
    head, joined, tail = cleaned.partition(" for ")
    if joined and head and tail:
        found += [head, f"{head} {tail}"]
        if all(w in QUALIFIERS for w in head.split()):
            found.append(tail)
    slash = _LEADING_SLASH.match(order)
    if slash:
        found += [_cleaned(first + slash[2]) for first in slash[1].split("/")]
    short = _DETAILS.sub("", order)
    if short != order:
        found += [_cleaned(short)]
    found += [_LETTERS.sub(r"\1\2", r) for r in found if _LETTERS.search(r)]
    return tuple(dict.fromkeys(r for r in found if r))
