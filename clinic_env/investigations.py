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
    follows: tuple[str, ...] = ()  # tests whose abnormal result in a case makes this one abnormal too
    exam_words: tuple[str, ...] = ()  # words of an examination finding that is this bedside test's result
    abnormal_when: tuple[str, ...] = ()  # words of a case fact that make this test abnormal ("long lie": CK)


def _load_catalog() -> tuple[Investigation, ...]:
    rows = json.loads(resources.files("clinic_env").joinpath("investigations.json").read_text(encoding="utf-8"))
    lists = ("aliases", "answered_by", "follows", "exam_words", "abnormal_when")
    return tuple(Investigation(**{**row, **{k: tuple(row.get(k, ())) for k in lists}}) for row in rows)


CATALOG: tuple[Investigation, ...] = _load_catalog()


# "I'd like", "we'll send", "let's check": the speaker, without the verb's ending.
_CONTRACTION = re.compile(r"\b(i|we|you|let)['’](?:d|ll|s|ve|m)\b")


def normalize_name(text: str) -> str:
    """Lower-case, "β" as "b", drop a contraction's ending ("I'd" is "i"), fold an apostrophe plural ("U&E's"
    is "u&es"), strip punctuation other than
    word-internal hyphens, '&' and '+', fold spaces."""
    text = _CONTRACTION.sub(r"\1", text.lower().replace("β", "b"))
    text = re.sub(r"(?<=\w)['’]s\b", "s", text)
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
    "spiro": "spirometry", "ue": "u&e", "bc": "blood culture", "con": "contrast", "bx": "biopsy",
    "preg": "pregnancy", "ca++": "calcium", "hep": "hepatitis", "fxn": "function", "tib": "tibia", "fib": "fibula",
    "lac": "lactate", "gen": "generation", "gluc": "glucose", "mening": "meningococcal", "bld": "blood",
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


@lru_cache(maxsize=1)
def catalogue_names() -> dict[str, str]:
    """Every normalised catalogue alias mapped to its test's name."""
    return {alias: item.name for alias, item in _BY_ALIAS.items()}


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
    "differential quantitative non high-sensitivity high sensitivity sensitive panel "
    "pa ap erect supine lateral view plain contrast non-contrast enhanced hour time oxygen o2 air room litre "
    "a an the of for with and on in to at by".split()) | frozenset(
    # the words of a request, as an LLM doctor writes one ("Could you send a kidney profile as well?")
    "i we you us lets let could can would will shall send get arrange request order like want need "
    "also as well too some any quick thanks thank now today just including additionally kindly combo give refer "
    "him her his he she them patient whole body peripheral add one two three four set sets first next finally".split())
_STOPWORDS = frozenset("a an the of for with and on in to at by".split())
_NUMBER = re.compile(r"x?\d+(?:l|h|hr|hrs|st|nd|rd|th|u|g)?")


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


# Words that name how a sample or picture is taken, not what is looked for: an alias made only of
# them ("ultrasound", "biopsy", "ct") is never found by ``only_test_within``, which would otherwise
# read "ultrasound left groin" as the abdominal ultrasound.
MODALITIES = frozenset(map(_stem, (
    "ultrasound doppler duplex x-ray ct mri scan pet biopsy swab culture pcr naat serology antibody antibodies "
    "antigen microscopy aspiration aspirate smear film test screen level panel study imaging cytology histology "
    "histopathology stain staining sensitivity sensitivities".split())))
# Tests that take a sample, and the laboratory work done on one: "adenovirus PCR conjunctival swab" is the
# swab, where "eye ultrasound doppler" is no ocular ultrasound.
_SAMPLING = frozenset(map(_stem, "swab swabs aspirate aspiration biopsy scraping scrapings".split()))
_SAMPLE_WORK = frozenset(map(_stem, "pcr naat culture microscopy stain staining gram cytology histology".split()))
# Samples other than blood: a word of the order left over beside a test's name may turn it into another
# test ("urine glucose", "CSF protein"), so ``only_test_within`` never leaves one, nor a technique, over.
SPECIMENS = frozenset(map(_stem, (
    "urine urinary stool faecal fecal csf sputum pleural ascitic peritoneal synovial joint vaginal cervical "
    "urethral throat nasal nasopharyngeal wound conjunctival fluid".split())))


def asks_for_nothing(item: str) -> bool:
    """Whether an ordered item is only courtesy or qualifiers ("please", "as well", "urgently"),
    whatever details follow ("please - I want to see the aorta")."""
    return content_words(spelled_out(_DETAILS.sub("", item))) <= _QUALIFIER_STEMS


_PROSE_MIN_WORDS = 3
# How the reason for an order may begin ("?haemolysis", "given the chest pain", "fever day 8", "T 37.6").
_REASON = re.compile(r"^\s*(?:\?|given\b|because\b|as\b|since\b|in case\b|to\b|just\b|while\b|so\b|pre\b|post\b)|\d",
                     re.I)


def is_prose(item: str) -> bool:
    """Whether an ordered item that names no test is the reason for the tests before it, not an
    order: three words or more, a query, a reason word or a number ("CK, given the chest pain";
    "ECG, tachy 108"); a short one stays an order the examiner cannot read ("LTF")."""
    return len(normalize_name(item).split()) >= _PROSE_MIN_WORDS or bool(_REASON.search(item))


def names_a_technique(text: str) -> bool:
    """Whether every word of a text is a technique ("culture", "microscopy + culture"): a part of
    an order that is one says how the test before it is done, not which test to add."""
    return content_words(spelled_out(text)) <= MODALITIES


def only_test_within(order: str, names: dict[str, str]) -> str | None:
    """The alias of the one test whose whole name an order holds among other words, when no other
    test's name is in it too and no sample or technique is left over (either may make it another
    test: "urine glucose", "eye ultrasound doppler"; but a swab's PCR and a test's own sample may:
    "adenovirus PCR conjunctival swab", "nasopharyngeal resp viral PCR"): the last reading of an order that names its
    test inside a description ("dermatoscopy of the changing mole L leg", "excision biopsy of calf
    lesion", "UA with micro"). ``names`` maps each normalised alias to its test's name; an alias held
    within a longer held alias ("biopsy" in "excision biopsy") stands aside for it, and two different
    tests held side by side ("CT angio abdomen") are ambiguous, so nothing is found. An order that
    holds no name but is one test's name without its technique ("syphilis", "CMV") names that test."""
    words = content_words(order)
    held = [a for a in names if (need := content_words(a)) and need <= words and not names_a_technique(a)]
    if not held:
        return _only_test_completed(words, names)
    widest = [a for a in held if not any(content_words(a) < content_words(b) for b in held)]
    if len({names[a] for a in widest}) != 1:
        return None
    best = max(widest, key=lambda a: len(content_words(a)))
    leftover = words.difference(*map(content_words, widest))
    techniques = leftover & MODALITIES - (_SAMPLE_WORK if content_words(best) & _SAMPLING else frozenset())
    samples = leftover & SPECIMENS
    return None if techniques or (samples and samples - _words_of_test(names[best], names)) else best


def _words_of_test(test: str, names: dict[str, str]) -> frozenset[str]:
    """Every word any alias of a test is spelled with: a sample it names somewhere ("nasopharyngeal
    aspirate" of the respiratory PCR) is its own sample, never another test's."""
    return frozenset().union(*(content_words(a) for a, t in names.items() if t == test))


# The techniques of a laboratory test for an infection or a level, which an order may leave unsaid
# ("syphilis", "CMV"); an imaging or sampling technique or an antibody may not ("throat" is no throat
# swab, "bone" no bone X-ray, "adrenals" no adrenal antibodies).
LAB_TECHNIQUES = frozenset(map(_stem, "serology pcr naat igm igg level".split()))


def _only_test_completed(words: frozenset[str], names: dict[str, str]) -> str | None:
    """The alias of the one test an order names but for a laboratory technique ("syphilis" is the
    syphilis serology; "measles" is no test, as both its serology and its PCR hold it)."""
    if not words or words <= MODALITIES:
        return None
    completed = [a for a in names if words <= (need := content_words(a)) and need - words <= LAB_TECHNIQUES]
    return completed[0] if len({names[a] for a in completed}) == 1 else None


# The sample each procedure takes, whose analytes a clinician lists after it ("LP - CSF cell count,
# protein, glucose"; "aspirate knee - crystals, Gram stain, culture"; "aspirate, 19G, send pus for M/C/S").
PROCEDURE_SAMPLES = {"lumbar puncture": "csf", "joint aspiration": "synovial fluid", "needle aspiration": "pus"}
# Any sample an item may name as its own ("paired serum glucose" after a CSF item is a blood test).
_OWN_SAMPLE = frozenset({"csf", "synovial", "pleural", "ascitic", "serum", "plasma", "blood", "capillary",
                         "venous", "arterial", "urine", "urinary", "stool", "sputum", "swab"})


def sample_of(item: str) -> str | None:
    """The word naming a sample of an ordered item's own, if any."""
    words = normalize_name(item).split()
    return next((w for w in words if w in _OWN_SAMPLE), None)


# How a doctor joins two tests in one order ("clotting + fibrinogen", "phos and Mg", "VBG with lactate",
# "G+S then XM").
_JOINS = re.compile(r"\s+(?:\+|and|&|with|w|plus|then|as well as)\s+")


def parts(order: str) -> list[str]:
    """The tests of an order that names several joined by "+", "and", "&" or "with"."""
    return [p for p in _JOINS.split(normalize_name(order)) if p]


def parts_sharing_an_ending(order: str) -> list[str]:
    """The two tests of "<words> and <word> <ending>" that share the ending ("renal and liver
    function" is renal function and liver function); empty for any other order."""
    joined = parts(order)
    if len(joined) != 2 or len(joined[1].split()) not in (2, 3):
        return []
    return [f"{joined[0]} {joined[1].split(maxsplit=1)[1]}", joined[1]]


def slashed_parts(order: str) -> list[str]:
    """The tests of an order that lists several by slashes before what they share ("amylase/lipase",
    "EBV/CMV serology" is EBV serology and CMV serology; "HIV/HBsAg/syphilis"); empty for any other."""
    slash = _LEADING_SLASH.match(order)
    return [normalize_name(first + slash[2]) for first in slash[1].split("/")] if slash else []


def parts_on_one_sample(order: str) -> list[str]:
    """The tests of an order that asks for several on one sample, each on it ("a urine sample
    for dip and culture" is a urine dip and a urine culture); empty for any other order."""
    head, joined, tail = normalize_name(order).partition(" for ")
    asked = [p for p in _JOINS.split(tail) if p] if joined else []
    return [f"{head} for {p}" for p in asked] if len(asked) > 1 else []


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
_TYPO_MAX_LENGTH_CHANGE = 2  # "nasendoscopy" is no typo of "endoscopy"


def _corrected(word: str) -> str:
    """A long word the catalogue does not know, as the one catalogue word it is a typo of
    ("urinalisys", "ultrasond"); a known word, a short one or an ambiguous typo stays as written."""
    if len(word) < _TYPO_MIN_LENGTH or word in _VOCABULARY or not word.isalpha():
        return word
    close = [w for w in difflib.get_close_matches(word, _VOCABULARY, n=2, cutoff=_TYPO_CUTOFF)
             if abs(len(w) - len(word)) <= _TYPO_MAX_LENGTH_CHANGE]
    if len(close) == 2 and difflib.SequenceMatcher(None, word, close[0]).ratio() == \
            difflib.SequenceMatcher(None, word, close[1]).ratio():
        return word
    return close[0] if close else word


# Names of a body site or a sample that a test's aliases spell another way ("clean-catch" is urine).
_SITE_NAMES = {"circle of willis": "head", "intracranial": "head", "clean[ -]catch(?: urine)?": "urine"}
_PARENTHESES = re.compile(r"\([^()]*\)")
_TIGHT_PLUS = re.compile(r"(?<=\w)\+(?=\w)")
_LEADING_SLASH = re.compile(r"^\s*([^\s/]{2,}(?:/[^\s/]{2,})+)(.*)$")  # "U/A" is one test
# Where the test's name ends and details of how, when or why to do it begin ("blood cultures x3 from
# separate sites before abx", "CT angio aorta - arch to iliacs", "carboxy-Hb on venous gas", "CT head ?bleed").
_DETAILS = re.compile(r"\s+(?:-|\u2013|\u2014|from|before|after|prior to|post|pre|on|at|via|looking for|if|in case)"
                      r"\s+.*$|\s+\?.*$")
_LETTERS = re.compile(r"\b([a-z]) ([a-z])\b")
# A named joint, read last as "joint" ("aspirate 1st MTPJ" is a joint aspiration, "MRI knee" an MRI
# of a joint) when no test is named with the joint itself ("x-ray knee").
_JOINTS = re.compile(r"\b(?:knee|ankle|wrist|elbow|shoulder|hip|mtpj?|mcpj?|pipj?|dipj?|sacroiliac)s?\b")
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
    x3 from separate sites", "CT angio aorta - arch to iliacs"); single letters closed up ("CT A/P");
    a named joint as "joint" ("aspirate 1st MTPJ")."""
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
    found += [_JOINTS.sub("joint", r) for r in found if _JOINTS.search(r)]
    return tuple(dict.fromkeys(r for r in found if r))
