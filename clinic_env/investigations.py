"""The catalogue of investigations (``investigations.json``) and how a doctor's order text finds one.

Cases name their tests with the catalogue's names (or their own names plus aliases). The
examiner uses the catalogue twice: to resolve what a doctor orders ("FBC", "full blood
count", "CBC" are one test) and to give a plausible result for a test the case does not list
(``derived_results`` fits it to the patient). Costs are rough US dollar list prices and
turnaround times typical hours; they exist to make over-testing visible. The catalogue is data
so that a clinician can add a test or a spelling without reading code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
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
    """Lower-case, strip punctuation other than word-internal hyphens, '&' and '+', fold spaces."""
    text = re.sub(r"[^\w&+\- ]+", " ", text.lower())
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
}
_ON_AIR = re.compile(r"\s+on (room )?air$")


def spelled_out(text: str) -> str:
    """``normalize_name`` with ``ABBREVIATIONS`` spelled out and "on (room) air" dropped."""
    words = [ABBREVIATIONS.get(w, w) for w in _ON_AIR.sub("", normalize_name(text)).split()]
    return " ".join(w for w in words if w)


@lru_cache(maxsize=8192)
def spellings(name: str) -> tuple[str, ...]:
    """A name as written, spelled out, and each without a plural "s" ("U&Es", "LFTs")."""
    forms = dict.fromkeys((normalize_name(name), spelled_out(name)))
    return tuple(dict.fromkeys([*forms, *(f[:-1] for f in forms if len(f) > 3 and f.endswith("s"))]))


_BY_ALIAS: dict[str, Investigation] = {}
for _item in CATALOG:
    for _alias in (_item.name, *_item.aliases):
        _BY_ALIAS.setdefault(normalize_name(_alias), _item)


def lookup(name: str) -> Investigation | None:
    """The catalogue entry whose name or alias equals ``name`` after normalisation (as written,
    spelled out, or without a plural "s")."""
    return next((_BY_ALIAS[v] for v in spellings(name) if v in _BY_ALIAS), None)


@lru_cache(maxsize=8192)
def aliases_of(name: str) -> tuple[str, ...]:
    """All normalised names a test is known by: its catalogue aliases when it is listed."""
    item = lookup(name)
    names = (name,) if item is None else (item.name, *item.aliases)
    return tuple(dict.fromkeys(normalize_name(n) for n in names))


# Words an order may add to a test's name without naming another test: a side, urgency, a blood
# sample, a request word, a view or contrast, the oxygen a gas is taken on, a number ("crossmatch 2
# units", "blood cultures x2", "ABG on 2L"). A sample other than blood (urine, stool, CSF, sputum) is NOT one: it turns
# a test into another ("urine glucose" is not blood glucose), and neither is any word that names a
# test ("urine pregnancy test" is not a "urine test").
QUALIFIERS = frozenset(
    "left right bilateral both side sided lt rt serum plasma blood venous level levels test tests screen scan "
    "check study bedside urgent urgently repeat random please full formal baseline point care portable sample unit "
    "pa ap erect supine lateral view plain contrast non-contrast enhanced hour time oxygen o2 air room litre "
    "a an the of for with and on in to at by".split())
_STOPWORDS = frozenset("a an the of for with and on in to at by".split())
_NUMBER = re.compile(r"x?\d+(?:l|h|hr|hrs)?")


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@lru_cache(maxsize=8192)
def content_words(name: str) -> frozenset[str]:
    """The stemmed words of a normalised name that carry meaning (not "of", "the", "and")."""
    return frozenset(_stem(w) for w in name.split() if w not in _STOPWORDS)


def closest_alias(order: str, aliases: Iterable[str]) -> str | None:
    """The longest alias all of whose words are in ``order`` when the order's other words only
    qualify it (``QUALIFIERS``): "Doppler USS left leg" finds "doppler ultrasound leg", "urine
    pregnancy test" never finds "urine test". ``order`` and ``aliases`` are normalised."""
    words = content_words(order)
    best: tuple[int, str] | None = None
    for alias in aliases:
        need = content_words(alias)
        if need and need <= words and all(w in QUALIFIERS or _NUMBER.fullmatch(w) for w in words - need):
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
