"""A scripted, rule-based baseline doctor: structured history, targeted questions, exam, tests, ranked differential.

No model and no access to the case: it reads only what the environment shows a doctor
(the observation string, and the system prompt in ``info["messages"]`` for age, sex and
pregnancy). Everything it believes comes from ``agents.knowledge_base``: features heard
in the patient's words, seen in examination reports and read from test results add
weighted evidence to conditions; denials and normal results count against the
conditions that expect those features.

    doctor = ScriptedDoctor()
    doctor.reset(seed=0)
    observation, info = env.reset(seed=0)
    while True:
        observation, reward, terminated, truncated, info = env.step(doctor.act(observation, info))
        if terminated or truncated:
            break

A consultation is a fixed script (a generator) whose later steps consult the current
ranking: 8 OPQRST questions, 4 targeted questions about the leading conditions, the
background history, one examination, 2 more targeted questions, one or two rounds of
tests (cheap ones first), then DIAGNOSE with the top three and the plan of the first.
19-23 actions, under the env's default limit of 30.
"""

from __future__ import annotations

import random
import re
import re._constants as _sre  # read-only use of the stdlib regex parser, to screen features fast
import re._parser as _sre_parser
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from agents.knowledge_base import CONDITIONS, FEATURES, Condition, Feature
from clinic_env.investigations import lookup

# ---- reading text ------------------------------------------------------------------------------

# Clause boundaries: sentence ends (not decimal points), semicolons, and words that end a negation's scope.
_SEGMENT = re.compile(
    r"(?<!\d)[.!?;](?!\d)|\n|\b(?:but|however|although|though|except|apart from|just|only|whereas|while)\b", re.IGNORECASE
)
_NEGATION = re.compile(
    r"\b(?:no|not|never|nothing|none|neither|nor|without|denies|denied|haven'?t|hasn'?t|hadn'?t|don'?t|doesn'?t|didn'?t|isn'?t"
    r"|aren'?t|wasn'?t|weren'?t|can'?t be|cannot be|negative for|free of|absence of|ruled out|unremarkable|nope)\b",
    re.IGNORECASE,
)
# A denial that follows the finding: "Breathing in doesn't change it", "Kernig's sign negative".
_NEGATION_AFTER = re.compile(
    r"\s*(?:doesn'?t|does not|didn'?t|did not|isn'?t|is not|hasn'?t|has not|haven'?t|have not|never"
    r"|(?:is|are|was|were|has been|have been|(?:is|are|was|were|has|have) (?:always )?been) (?:fine|normal|okay|ok|absent|steady)"
    r"|negative|not (?:detected|seen|present|raised|elevated|found|identified|isolated))\b",
    re.IGNORECASE,
)
# Hedges that contain a negation word but deny nothing.
_HEDGES = re.compile(
    r"\b(?:not sure|don'?t know|do not know|can'?t remember|don'?t remember|no idea|not exactly|not certain)\b", re.IGNORECASE
)
# A symptom from long ago ("eczema as a kid") is history, not part of this illness.
_REMOTE_PAST = re.compile(
    r"\b(?:as a (?:kid|child|teenager|baby|toddler)|when (?:i|he|she) was (?:a )?(?:kid|child|little|young|baby|teenager|at school)"
    r"|in (?:my|his|her) (?:teens|childhood|twenties)|years ago|(?:grew|grown) out of)\b",
    re.IGNORECASE,
)
_REPORT_LINE = re.compile(r"^\[(Examination|Test): ([^\]]+)\]\s*(.*)$")
_REPORT_TAIL = re.compile(r"\s*(?:\[reference:[^\]]*\])?\s*(?:\(cost \$[^)]*\))?\s*$")
_DEMOGRAPHICS = re.compile(r"seeing an? (\d+(?:\.\d+)?)-(year|month)-old (male|female)( \(pregnant\))?", re.IGNORECASE)


def segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause, so a negation only reaches the findings in its own clause."""
    spans, start = [], 0
    for match in _SEGMENT.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _clause_of(spans: list[tuple[int, int]], position: int) -> tuple[int, int]:
    for start, end in spans:
        if start <= position < end or (start == end == position):
            return start, end
    return spans[-1]


def _required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case strings at least one of which every match must contain, or None if there are none
    worth checking. A substring test is ~100x cheaper than a search, so most features are skipped
    without running their regex."""
    try:
        tree = _sre_parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # a private module: never let it break the doctor
        return None
    best = _sequence_literals(list(tree))
    return tuple(best) if best and min(len(s) for s in best) >= 3 else None


def _sequence_literals(items: list) -> list[str] | None:
    """The most selective requirement of a regex sequence: a literal run, or the union over a required branch."""
    best: list[str] | None = None
    run: list[str] = []

    def consider(option: list[str] | None) -> None:
        nonlocal best
        if option and (best is None or min(map(len, option)) > min(map(len, best))):
            best = option

    for op, av in items + [(None, None)]:
        if op is _sre.LITERAL:
            run.append(chr(av).lower())
            continue
        if run:
            consider(["".join(run)])
            run = []
        if op is _sre.SUBPATTERN:
            consider(_sequence_literals(list(av[-1])))
        elif op is _sre.BRANCH:
            options = [_sequence_literals(list(alt)) for alt in av[1]]
            if all(options):
                consider([s for option in options for s in option])
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
            consider(_sequence_literals(list(av[2])))
    return best


_SCREENS: dict[str, tuple[str, ...] | None] = {key: _required_literals(f.pattern) for key, f in FEATURES.items()}
# Each distinct required literal, indexed by its first three letters, with the features that need it.
_LITERALS_BY_GRAM: dict[str, dict[str, list[str]]] = {}
for _key, _literals in _SCREENS.items():
    for _literal in _literals or ():
        _LITERALS_BY_GRAM.setdefault(_literal[:3], {}).setdefault(_literal, []).append(_key)
_GRAMS = frozenset(_LITERALS_BY_GRAM)
_UNSCREENED = tuple(key for key, literals in _SCREENS.items() if literals is None)


def _literal_hits(lowered: str) -> dict[str, list[str]]:
    """Feature -> its required literals that occur in the (lower-cased) text. One set intersection
    over the text's trigrams leaves only the few literals worth an ``in`` test."""
    grams = {lowered[i:i + 3] for i in range(len(lowered) - 2)} & _GRAMS
    hits: dict[str, list[str]] = {key: [""] for key in _UNSCREENED}
    for gram in grams:
        for literal, keys in _LITERALS_BY_GRAM[gram].items():
            if literal in lowered:
                for key in keys:
                    hits.setdefault(key, []).append(literal)
    return hits


_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\[\"'])|\n")


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a finding and its qualifier are looked for within one sentence."""
    spans, start = [], 0
    for match in _SENTENCE_BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def scan(text: str, candidates: tuple[Feature, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Features of ``candidates`` mentioned in ``text``: (affirmed, negated).

    A trigram screen rules out most features; each remaining one is searched only in the
    sentences holding one of its required literals, and a match is negated by a negation
    earlier in its clause (or, in formal reports, inside or right after the match)."""
    text = _HEDGES.sub(" ", text)
    lowered = text.lower()
    hits = _literal_hits(lowered)
    sentences: list[tuple[int, int]] | None = None
    clauses: list[tuple[int, int]] | None = None
    affirmed: set[str] = set()
    negated: set[str] = set()
    for feature in candidates:
        found = hits.get(feature.key)
        if not found:
            continue
        if sentences is None:
            sentences = _sentences(text)
        match = None
        for start, end in sentences:
            if len(sentences) == 1 or any(literal in lowered[start:end] for literal in found):
                match = feature.pattern.search(text, start, end)
                if match is not None:
                    break
        if match is None:
            continue
        if clauses is None:
            clauses = segments(text)
        start, end = _clause_of(clauses, match.start())
        denied = _NEGATION.search(text, start, match.start()) is not None
        if not denied and feature.sources != "h":
            # Formal report wording puts the denial inside or after the finding ("strep not detected").
            denied = _NEGATION.search(text, match.start(), match.end()) is not None
        if not denied and _NEGATION_AFTER.match(text, match.end(), min(end, match.end() + 30)):
            denied = True
        if not denied and feature.kind != "risk" and _REMOTE_PAST.search(text, start, end):
            continue
        (negated if denied else affirmed).add(feature.key)
    return frozenset(affirmed), frozenset(negated - affirmed)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass(frozen=True)
class NumericRule:
    """A numeric result that sets a feature: a regex with the value in group 1, and the test that says abnormal."""

    feature: str
    tests: tuple[str, ...]
    pattern: re.Pattern[str]
    abnormal: Callable[[float, str], bool]


def _rule(feature: str, tests: str, pattern: str, abnormal: Callable[[float, str], bool]) -> NumericRule:
    return NumericRule(feature, tuple(t.strip() for t in tests.split(";")), re.compile(pattern, re.IGNORECASE), abnormal)


_NUM = r"(\d[\d,]*(?:\.\d+)?)"  # group 1: the value
_GLUCOSE_TESTS = "blood glucose; basic metabolic panel; arterial blood gas"

# Units decide thresholds where cases may report either convention (ng/L vs ng/mL, g/dL vs g/L, % vs mmol/mol).
NUMERIC_RULES: tuple[NumericRule, ...] = (
    _rule("raised_wcc", "complete blood count", r"\b(?:wcc|wbc|white (?:cell|blood cell) count|white cells)\s*:?\s*" + _NUM,
          lambda v, u: v > 11.5),
    _rule("anaemia", "complete blood count", r"\b(?:hb|haemoglobin|hemoglobin)\s*:?\s*" + _NUM + r"\s*(g/dl|g/l)?",
          lambda v, u: (v / 10 if (u.lower() == "g/l" or v > 25) else v) < 11.0),
    _rule("raised_urea", "basic metabolic panel", r"\b(?:urea|bun)\s*:?\s*" + _NUM + r"\s*(mmol/l|mg/dl)?",
          lambda v, u: v > 20 if u.lower() == "mg/dl" else v > 8.5),
    _rule("raised_crp", "c-reactive protein", r"\bcrp\s*:?\s*" + _NUM, lambda v, u: v > 20),
    _rule("raised_esr", "erythrocyte sedimentation rate", r"\besr\s*:?\s*" + _NUM, lambda v, u: v > 30),
    _rule("raised_troponin", "troponin", r"troponin\s*(?:[it]\b)?\s*:?\s*" + _NUM + r"\s*(ng/l|ng/ml|ug/l|μg/l|mcg/l)?",
          lambda v, u: v > 0.04 if u.lower() in ("ng/ml", "ug/l", "μg/l", "mcg/l") else v > 14),
    _rule("raised_ddimer", "d-dimer", r"d-?dimer\s*:?\s*" + _NUM + r"\s*(mg/l|ng/ml|ug/ml|μg/ml)?",
          lambda v, u: v > 500 if (u.lower() == "ng/ml" or v >= 20) else v > 0.5),
    _rule("raised_bnp", "bnp", r"\b(?:nt-?probnp|bnp)\s*:?\s*" + _NUM, lambda v, u: v > 400),
    _rule("hyperglycaemia", _GLUCOSE_TESTS, r"\bglucose\s*:?\s*" + _NUM + r"\s*(mmol/l|mg/dl)?",
          lambda v, u: v > 200 if u.lower() == "mg/dl" else v > 11.0),
    _rule("hypoglycaemia_lab", _GLUCOSE_TESTS, r"\bglucose\s*:?\s*" + _NUM + r"\s*(mmol/l|mg/dl)?",
          lambda v, u: v < 70 if u.lower() == "mg/dl" else v < 3.9),
    _rule("ketones", "serum ketones; arterial blood gas; urinalysis", r"\bketones\s*:?\s*" + _NUM, lambda v, u: v >= 1.5),
    _rule("acidosis", "arterial blood gas", r"\bph\s*:?\s*(\d\.\d+)", lambda v, u: v < 7.35),
    _rule("acidosis", "arterial blood gas", r"\bhco3\S*\s*:?\s*" + _NUM, lambda v, u: v < 18),
    _rule("hypercapnia", "arterial blood gas", r"\bpco2\s*:?\s*" + _NUM + r"\s*(kpa|mmhg)?",
          lambda v, u: v > 50 if u.lower() == "mmhg" else v > 6.3),
    _rule("raised_lipase", "lipase", r"\b(?:lipase|amylase)\s*:?\s*" + _NUM, lambda v, u: v > 180),
    _rule("high_tsh", "thyroid function tests", r"\btsh\s*:?\s*(<?\s*\d+(?:\.\d+)?)", lambda v, u: v > 5.0),
    _rule("low_tsh", "thyroid function tests", r"\btsh\s*:?\s*(<?\s*\d+(?:\.\d+)?)", lambda v, u: v < 0.3),
    _rule("hba1c_high", "hba1c", r"\bhba1c\s*:?\s*" + _NUM + r"\s*(mmol/mol|%)?",
          lambda v, u: v >= 6.5 if (u == "%" or v < 20) else v >= 48),
    _rule("low_ferritin", "ferritin", r"\bferritin\s*:?\s*" + _NUM, lambda v, u: v < 30),
    _rule("deranged_lft", "liver function tests", r"\balt\s*:?\s*" + _NUM, lambda v, u: v > 100),
    _rule("deranged_lft", "liver function tests", r"\balp\s*:?\s*" + _NUM, lambda v, u: v > 200),
    _rule("raised_bilirubin", "liver function tests", r"\bbilirubin\s*:?\s*" + _NUM, lambda v, u: v > 25),
    _rule("hcg_positive", "urine pregnancy test", r"\b(?:hcg|pregnancy test)\s*:?\s*" + _NUM, lambda v, u: v >= 25),
    _rule("phq_high", "phq-9", r"phq-?\s?9\s*(?:score)?\s*(?:of)?\s*:?\s*" + _NUM, lambda v, u: v >= 10),
    _rule("gad_high", "gad-7", r"gad-?\s?7\s*(?:score)?\s*(?:of)?\s*:?\s*" + _NUM, lambda v, u: v >= 10),
    _rule("low_peak_flow", "peak flow", _NUM + r"\s*%\s*(?:of\s*)?(?:predicted|best)", lambda v, u: v < 75),
    _rule("obstructive_spirometry", "spirometry", r"fev1\s*/\s*fvc\s*(?:ratio)?\s*(?:of)?\s*:?\s*(\d*\.?\d+)\s*(%)?",
          lambda v, u: (v / 100 if (u == "%" or v > 1) else v) < 0.7),
    _rule("reduced_ef", "echocardiogram", r"\b(?:ef|ejection fraction)\s*(?:of)?\s*:?\s*(?:estimated\s*)?" + _NUM + r"\s*%",
          lambda v, u: v < 45),
)


def _rule_value(match: re.Match[str]) -> tuple[float, str]:
    """The number (group 1; "<0.01" reads as half its bound) and unit (optional group 2) of a numeric match."""
    raw = match.group(1)
    value = _number(raw.lstrip("<").strip())
    if raw.startswith("<"):
        value *= 0.5
    unit = (match.group(2) or "") if match.re.groups >= 2 else ""
    return value, unit


def numeric_findings(test: str, text: str, age: float = 40.0) -> tuple[set[str], set[str]]:
    """(abnormal, normal) features decided by the numbers in one test result."""
    abnormal: set[str] = set()
    normal: set[str] = set()
    for rule in NUMERIC_RULES:
        if test not in rule.tests:
            continue
        match = rule.pattern.search(text)
        if match is None:
            continue
        value, unit = _rule_value(match)
        if rule.feature == "anaemia" and age < 2:
            value += 1.0  # infants run a lower haemoglobin
        (abnormal if rule.abnormal(value, unit) else normal).add(rule.feature)
    return abnormal, normal - abnormal


_VITAL_PATTERNS = {
    "temperature": re.compile(r"(?:temperature|temp)\s*:?\s*(\d{2}(?:\.\d)?)", re.IGNORECASE),
    "heart_rate": re.compile(r"(?:heart rate|pulse(?: rate)?|\bhr)\s*:?\s*(\d{2,3})", re.IGNORECASE),
    "blood_pressure": re.compile(r"\b(\d{2,3})\s*/\s*(\d{2,3})\b(?!\s*(?:mins?|minutes|beats|breaths|%|kg))", re.IGNORECASE),
    "respiratory_rate": re.compile(r"(?:respiratory rate|resp(?:iratory)? rate|\brr)\s*:?\s*(\d{1,2})", re.IGNORECASE),
    "spo2": re.compile(r"(?:spo2|sats|saturations?|oxygen saturation)\s*:?\s*(\d{2,3})\s*%", re.IGNORECASE),
}


def vital_findings(text: str, age: float, pregnant: bool) -> tuple[set[str], set[str]]:
    """(abnormal, normal) vital-sign features, with age-appropriate limits for heart and breathing rates."""
    hr_max, rr_max = (160, 50) if age < 1 else (140, 40) if age < 5 else (120, 25) if age < 12 else (100, 20)
    abnormal: set[str] = set()
    checked: set[str] = set()

    def judge(feature: str, is_abnormal: bool) -> None:
        checked.add(feature)
        if is_abnormal:
            abnormal.add(feature)

    if m := _VITAL_PATTERNS["temperature"].search(text):
        judge("pyrexia", float(m.group(1)) >= 38.0)
    if m := _VITAL_PATTERNS["heart_rate"].search(text):
        rate = int(m.group(1))
        judge("tachycardia", rate > hr_max)
        judge("bradycardia", age >= 12 and rate < 55)
    pressures = [(int(m.group(1)), int(m.group(2))) for m in _VITAL_PATTERNS["blood_pressure"].finditer(text)
                 if int(m.group(1)) >= 40 and int(m.group(1)) > int(m.group(2))]  # not "GCS 15/15"
    if pressures:  # lying and standing, or both arms: judge the lowest and the highest
        systolic = min(p[0] for p in pressures)
        judge("hypotension", systolic < (70 if age < 12 else 95))
        systolic, diastolic = max(p[0] for p in pressures), max(p[1] for p in pressures)
        judge("high_bp", systolic >= 140 or diastolic >= 90 if pregnant else systolic >= 160 or diastolic >= 100)
    if m := _VITAL_PATTERNS["respiratory_rate"].search(text):
        judge("tachypnoea", int(m.group(1)) > rr_max)
    if m := _VITAL_PATTERNS["spo2"].search(text):
        judge("hypoxia", int(m.group(1)) < 94)
    return abnormal, checked - abnormal


# ---- what to say -------------------------------------------------------------------------------------

# The fixed history of the presenting complaint, two wordings each. Both wordings of a question
# hit the same history topic, so the seed changes words, not what is learnt.
OPENING_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("When did this start, and did it come on suddenly or gradually?",
     "When did it all begin, and did it start suddenly or gradually?"),
    ("Can you describe what it feels like?", "Could you describe it for me in your own words?"),
    ("Where exactly do you feel it, and does it spread anywhere?", "Where is it exactly, and does it spread anywhere else?"),
    ("Have you noticed any other symptoms?", "Have you had any other symptoms along with it?"),
    ("What makes it worse, and what makes it better?", "What makes it worse, and what makes it better, if anything?"),
    ("Anything else you've noticed, even if it seems minor?", "Is there anything else you've noticed, even something small?"),
    ("Is it there all the time, or does it come and go?", "Is it constant, or does it come and go?"),
    ("Has anything like this happened before?", "Have you ever had anything like this before?"),
)

PAST_HISTORY = "Do you have any medical conditions, or have you had any operations?"
MEDICINES = "Do you take any regular medicines, and do you have any allergies?"
SOCIAL = "I ask everyone this, and it's confidential: do you smoke or drink alcohol?"
FAMILY = "Does anything run in your family?"
OBSTETRIC = "When was your last period, and is there any chance you could be pregnant?"
SEXUAL = "This is routine and confidential: are you sexually active, and have you had any new partners recently?"

_HISTORY_FEATURES = tuple(f for f in FEATURES.values() if "h" in f.sources)
_RISK_FEATURES = tuple(f for f in _HISTORY_FEATURES if f.kind == "risk")
_EXAM_FEATURES = tuple(f for f in FEATURES.values() if "e" in f.sources)
_TEST_FEATURES: dict[str, tuple[Feature, ...]] = {}
for _feature in FEATURES.values():
    for _test in _feature.tests:
        _TEST_FEATURES[_test] = _TEST_FEATURES.get(_test, ()) + (_feature,)
FEATURE_GROUPS: dict[str, tuple[Feature, ...]] = {
    "history": _HISTORY_FEATURES,
    "risk": _RISK_FEATURES,
    "exam": _EXAM_FEATURES,
    **{f"test:{test}": features for test, features in _TEST_FEATURES.items()},
}


@lru_cache(maxsize=8192)
def find_features(text: str, group: str) -> tuple[frozenset[str], frozenset[str]]:
    """``scan`` over a named group of features, memoised: it is a pure function of the text,
    and the same replies and reports recur across consultations."""
    return scan(text, FEATURE_GROUPS.get(group, ()))


_FEATURES_BY_SYSTEM: dict[str, tuple[str, ...]] = {}
for _feature in FEATURES.values():
    if "e" in _feature.sources:
        for _system in _feature.systems:
            _FEATURES_BY_SYSTEM[_system] = _FEATURES_BY_SYSTEM.get(_system, ()) + (_feature.key,)
# Findings a test is the knowledge base's way of checking: a result without them counts as their absence.
_FEATURES_BY_TEST: dict[str, tuple[str, ...]] = {test: tuple(f.key for f in feats) for test, feats in _TEST_FEATURES.items()}

_CHEAP_TEST_DOLLARS = 100.0
_OPENING_WEIGHT = 1.5  # the presenting complaint counts more than a symptom found on questioning


@dataclass
class Patient:
    """Who the system prompt says the doctor is seeing."""

    age: float = 40.0
    sex: str = "unknown"
    pregnant: bool = False


def read_demographics(messages: list[dict]) -> Patient:
    """Age, sex and pregnancy from the doctor's system prompt (all the env tells a doctor about the patient)."""
    system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
    patient = Patient()
    if match := _DEMOGRAPHICS.search(system):
        value = float(match.group(1))
        patient.age = value / 12 if match.group(2).lower() == "month" else value
        patient.sex = match.group(3).lower()
        patient.pregnant = bool(match.group(4))
    return patient


def prior(condition: Condition, patient: Patient) -> float:
    """Obvious priors only: sex, age range, and pregnancy."""
    if condition.sex is not None and patient.sex in ("male", "female") and condition.sex != patient.sex:
        return -100.0
    score = 0.0
    low, high = condition.ages
    if not low <= patient.age <= high:
        score -= 10.0
    if condition.pregnancy == "required" and not patient.pregnant:
        score -= 8.0
    if condition.pregnancy is not None and patient.pregnant:
        score += 1.5
    return score


_MISSING_CUE_PENALTY = 3.0
_ABSENT_FRACTION = 0.25  # any expected feature found absent costs a quarter of its weight, on top of ``against``


def score_condition(condition: Condition, present: dict[str, float], absent: set[str], base: float) -> float:
    """The score from scratch: present features add weight x multiplier, absent expected features
    subtract, and a condition none of whose presenting cues is present loses a fixed amount.
    ``Beliefs`` keeps the same number up to date incrementally."""
    score = base
    for key, weight in condition.features.items():
        if key in present:
            score += weight * present[key]
    for key, weight in condition.features.items():
        if key in absent and weight > 0:
            score -= _ABSENT_FRACTION * weight
    for key, weight in condition.against.items():
        if key in absent:
            score -= weight
    if condition.cues and not any(key in present for key in condition.cues):
        score -= _MISSING_CUE_PENALTY
    return score


@dataclass(frozen=True)
class ConditionIndex:
    """Feature -> the conditions that weigh it, built once per knowledge base."""

    for_: dict[str, list[tuple[int, float]]]
    against: dict[str, list[tuple[int, float]]]
    cue: dict[str, list[int]]

    @classmethod
    def build(cls, conditions: tuple[Condition, ...]) -> "ConditionIndex":
        index = cls({}, {}, {})
        for i, condition in enumerate(conditions):
            for key, weight in condition.features.items():
                index.for_.setdefault(key, []).append((i, weight))
            for key, weight in condition.against.items():
                index.against.setdefault(key, []).append((i, weight))
            for key in condition.cues:
                index.cue.setdefault(key, []).append(i)
        return index


class Beliefs:
    """What the doctor has learnt (features present with a multiplier, features known absent)
    and every condition's score, updated incrementally: a new finding touches only the
    conditions that mention it, so ranking costs one sort."""

    def __init__(self, conditions: tuple[Condition, ...], base: list[float], index: ConditionIndex | None = None) -> None:
        index = index or ConditionIndex.build(conditions)
        self.conditions = conditions
        self.present: dict[str, float] = {}
        self.absent: set[str] = set()
        self.examined: set[str] = set()
        self.tested: set[str] = set()
        self.scores = [b - (_MISSING_CUE_PENALTY if c.cues else 0.0) for c, b in zip(conditions, base)]
        self._cue_hits = [0] * len(conditions)
        self._for, self._against, self._cue = index.for_, index.against, index.cue
        self._ranking: list[int] | None = None

    def affirm(self, keys: set[str], multiplier: float = 1.0) -> None:
        """Positive findings are sticky: a later denial does not undo them."""
        scores = self.scores
        for key in keys:
            old = self.present.get(key, 0.0)
            if old >= multiplier:
                continue
            self.present[key] = multiplier
            for i, weight in self._for.get(key, ()):
                scores[i] += weight * (multiplier - old)
            if key in self.absent:
                self.absent.discard(key)
                for i, weight in self._against.get(key, ()):
                    scores[i] += weight
                for i, weight in self._for.get(key, ()):
                    if weight > 0:
                        scores[i] += _ABSENT_FRACTION * weight
            if old == 0.0:
                for i in self._cue.get(key, ()):
                    self._cue_hits[i] += 1
                    if self._cue_hits[i] == 1:
                        scores[i] += _MISSING_CUE_PENALTY
            self._ranking = None

    def deny(self, keys: "set[str] | tuple[str, ...]") -> None:
        for key in keys:
            if key in self.present or key in self.absent:
                continue
            self.absent.add(key)
            for i, weight in self._against.get(key, ()):
                self.scores[i] -= weight
            for i, weight in self._for.get(key, ()):
                if weight > 0:
                    self.scores[i] -= _ABSENT_FRACTION * weight
            self._ranking = None

    def ranking(self) -> list[int]:
        """Condition indices, best first (ties by knowledge-base order, so deterministic)."""
        if self._ranking is None:
            scores = self.scores
            self._ranking = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return self._ranking


class ScriptedDoctor:
    """The rule-based baseline doctor. ``act`` follows the ``clinic_env.doctor.Doctor`` protocol.

    Args:
        conditions: the knowledge base to reason over.
        targeted_before_exam, targeted_after_exam: how many targeted questions at each point.
        max_first_tests, max_second_tests: tests per round (the first round is cheap tests only;
            ``max_second_tests=0`` skips the expensive confirmatory round).
        examine: whether to examine at all (``examine=False`` with no tests is a history-only ablation).
        max_actions: the env's turn limit; the doctor diagnoses on its last turn at the latest.
    """

    def __init__(self, conditions: tuple[Condition, ...] = CONDITIONS, targeted_before_exam: int = 4,
                 targeted_after_exam: int = 2, max_first_tests: int = 5, max_second_tests: int = 2,
                 examine: bool = True, max_actions: int = 30) -> None:
        self.conditions = conditions
        self.targeted_before_exam = targeted_before_exam
        self.targeted_after_exam = targeted_after_exam
        self.max_first_tests = max_first_tests
        self.max_second_tests = max_second_tests
        self.examine = examine
        self.max_actions = max_actions
        self._index = ConditionIndex.build(conditions)
        self.reset()

    # ---- protocol ---------------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """Forget the last consultation; the seed only picks between equivalent wordings."""
        self._rng = random.Random(seed)
        self.patient = Patient()
        self.beliefs = Beliefs(self.conditions, [0.0] * len(self.conditions), self._index)
        self._asked: set[str] = set()
        self._pending: tuple[str, tuple[str, ...]] | None = None  # (reply kind, features asked about)
        self._script: Iterator[str] | None = None
        self._actions = 0

    def act(self, observation: str, info: dict) -> str:
        """Read the latest observation, then take the next step of the consultation script."""
        if self._script is None:
            self.patient = read_demographics(info.get("messages", []))
            self.beliefs = Beliefs(self.conditions, [prior(c, self.patient) for c in self.conditions], self._index)
            self._script = self._consultation()
            self._hear(observation, "opening", ())
        else:
            self._read(observation)
        self._actions += 1
        if self._actions >= self.max_actions:
            return self._diagnose()
        return next(self._script, None) or self._diagnose()

    # ---- the script -------------------------------------------------------------------------------

    def _consultation(self) -> Iterator[str]:
        for wordings in OPENING_QUESTIONS:
            yield self._ask(self._rng.choice(wordings), "presenting complaint")
        yield from self._targeted(self.targeted_before_exam)
        yield self._ask(PAST_HISTORY, "background")
        yield self._ask(MEDICINES, "background")
        yield self._ask(SOCIAL, "background")
        yield self._ask(FAMILY, "family")
        if self.patient.sex == "female" and 12 <= self.patient.age <= 55 and not self.patient.pregnant:
            yield self._ask(OBSTETRIC, "background")
        if self._wants_sexual_history():
            yield self._ask(SEXUAL, "background")
        if self.examine:
            yield self._examine()
        yield from self._targeted(self.targeted_after_exam)
        first = self._order(cheap_only=True, limit=self.max_first_tests, top=3)
        if first:
            yield first
        second = self._order(cheap_only=False, limit=self.max_second_tests, top=2)
        if second:
            yield second
        yield self._diagnose()

    def _ask(self, text: str, kind: str, features: tuple[str, ...] = ()) -> str:
        self._pending = (kind, features)
        return f"ASK: {text}"

    def _targeted(self, count: int) -> Iterator[str]:
        """Ask about the most discriminating unknown symptoms of the leading conditions."""
        for _ in range(count):
            feature = self._best_question()
            if feature is None:
                return
            self._asked.add(feature.key)
            yield self._ask(feature.question or "", "targeted", (feature.key,))

    def _best_question(self) -> Feature | None:
        """The askable feature whose weight differs most across the top four conditions."""
        top = [self.conditions[i] for i in self._top(4)]
        best, best_value = None, 0.0
        seen: set[str] = set()
        for condition in top:
            for key in (*condition.features, *condition.against):
                if key in seen:
                    continue
                seen.add(key)
                feature = FEATURES[key]
                if (feature.question is None or "h" not in feature.sources or key in self._asked
                        or key in self.beliefs.present or key in self.beliefs.absent):
                    continue
                weights = [c.features.get(key, 0.0) + c.against.get(key, 0.0) for c in top]
                value = (max(weights) - min(weights)) + 0.25 * sum(abs(w) for w in weights)
                if value > best_value:
                    best, best_value = feature, value
        return best

    def _wants_sexual_history(self) -> bool:
        return self.patient.age >= 14 and any("new_partner" in self.conditions[i].features for i in self._top(3))

    def _examine(self) -> str:
        systems = ["vitals", "general"]
        for i in self._top(3):
            for system in self.conditions[i].exam:
                if system not in systems and len(systems) < 6 and self._applicable(system):
                    systems.append(system)
        return "EXAMINE: " + ", ".join(systems)

    def _applicable(self, system: str) -> bool:
        if system == "obstetric":
            return self.patient.pregnant
        if system in ("pelvic", "breast"):
            return self.patient.sex == "female" and self.patient.age >= 14
        return True

    def _order(self, cheap_only: bool, limit: int, top: int) -> str | None:
        """Key tests of the leading conditions not yet done; round one takes only cheap ones."""
        wanted: list[str] = []
        for i in self._top(top):
            for test in self.conditions[i].tests:
                item = lookup(test)
                if test in self.beliefs.tested or test in wanted or item is None or not self._sensible(test):
                    continue
                if cheap_only and item.cost > _CHEAP_TEST_DOLLARS:
                    continue
                wanted.append(test)
                if not cheap_only:
                    break  # one confirmatory test per leading condition
        wanted = wanted[:limit]
        return "ORDER: " + "; ".join(wanted) if wanted else None

    def _sensible(self, test: str) -> bool:
        if test in ("urine pregnancy test", "pelvic ultrasound"):
            return self.patient.sex == "female" and 12 <= self.patient.age <= 55
        return True

    def _diagnose(self) -> str:
        ranked = [self.conditions[i] for i in self._top(3)]
        lead = ranked[0]
        return ("DIAGNOSE: " + "; ".join(c.name for c in ranked)
                + f"\nPLAN: {lead.plan} Disposition: {lead.disposition}")

    # ---- reading the observation -------------------------------------------------------------------

    def _read(self, observation: str) -> None:
        if observation.startswith("[Examination:") or observation.startswith("[Test:"):
            self._read_reports(observation)
        elif self._pending is not None:
            kind, features = self._pending
            self._hear(observation, kind, features)
        self._pending = None

    def _hear(self, reply: str, kind: str, asked: tuple[str, ...]) -> None:
        """Patient speech: symptoms (or only risk factors, for background questions) and denials."""
        if kind == "family":
            return
        affirmed, negated = find_features(reply, "risk" if kind == "background" else "history")
        self.beliefs.affirm(affirmed, _OPENING_WEIGHT if kind == "opening" else 1.0)
        self.beliefs.deny(negated)
        unanswered = {key for key in asked if key not in affirmed}
        if unanswered and self._is_denial(reply):
            self.beliefs.deny(unanswered)

    @staticmethod
    def _is_denial(reply: str) -> bool:
        """A reply whose first sentence says no ("No, nothing like that.") denies what was asked."""
        first = _HEDGES.sub(" ", re.split(r"(?<=[.!?])\s", reply.strip(), maxsplit=1)[0])
        return _NEGATION.search(first) is not None

    def _read_reports(self, observation: str) -> None:
        for line in observation.splitlines():
            match = _REPORT_LINE.match(line.strip())
            if match is None:
                continue
            kind, name, text = match.group(1), match.group(2).strip(), _REPORT_TAIL.sub("", match.group(3))
            if kind == "Examination":
                self._read_exam(name, text)
            else:
                self._read_test(name, text)

    def _read_exam(self, system: str, text: str) -> None:
        self.beliefs.examined.add(system)
        if text.startswith("Not applicable") or text.startswith("Not a recognised"):
            return
        if system == "vitals":
            abnormal, normal = vital_findings(text, self.patient.age, self.patient.pregnant)
            self.beliefs.affirm(abnormal)
            self.beliefs.deny(normal)
        affirmed, negated = find_features(text, "exam")
        self.beliefs.affirm(affirmed)
        self.beliefs.deny(negated)
        # Signs this system would have shown, and did not, count as absent.
        self.beliefs.deny({k for k in _FEATURES_BY_SYSTEM.get(system, ()) if k not in affirmed})

    def _read_test(self, name: str, text: str) -> None:
        """A result the catalogue calls normal rules out this test's findings without reading it."""
        item = lookup(name)
        test = item.name if item is not None else name.lower()
        if text.startswith("Not available") or text.startswith("Not recognised"):
            return
        self.beliefs.tested.add(test)
        affirmed: set[str] = set()
        if item is None or not text.startswith(item.normal_result):
            affirmed, negated = find_features(text, f"test:{test}")
            abnormal, normal = numeric_findings(test, text, self.patient.age)
            affirmed |= abnormal
            self.beliefs.affirm(affirmed)
            self.beliefs.deny(negated | normal)
        self.beliefs.deny({k for k in _FEATURES_BY_TEST.get(test, ()) if k not in affirmed})

    # ---- ranking -------------------------------------------------------------------------------------

    def _top(self, n: int) -> list[int]:
        return self.beliefs.ranking()[:n]

    def differential(self, n: int = 3) -> list[str]:
        """The current top ``n`` condition names (for inspection and tests)."""
        return [self.conditions[i].name for i in self._top(n)]
