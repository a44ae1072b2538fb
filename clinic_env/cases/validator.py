"""Clinical coherence of a case: the conflicts a clinician reading it would not believe.

Any case (builtin, imported or generated) is checked by general rules over its own fields:

- ``informant``: a child, or a patient who cannot give a history (confused, disorientated,
  aphasic, GCS 13 or less, or a verbal score below 5), tells their own story.
- ``first_line``: a first-line item gives a drug this patient must not get: one the case's own
  contraindications name, one the patient is allergic to, one a comorbidity rules out
  (beta-blockers in asthma; NSAIDs in kidney disease, peptic ulcer or on an anticoagulant),
  thrombolysis or a second anticoagulant on an anticoagulant, a regular medication started
  again, a teratogen in a continuing pregnancy. Drugs are compared through the drug lexicon
  and its classes, never as strings.
- ``medications``: the past history says the patient is on a treatment (insulin, inhalers, a
  blood thinner, a statin...) that the medication list lacks.
- ``child_protocol``: an adult protocol (the word, or fluids in litres) for a patient under 18.
- ``advice``: advice that does not fit the patient (contraception for a man, time off work for
  the retired).
- ``social_age``: a social fact the patient's age makes implausible (grandchildren at 23, an
  occupation at 10, a school pupil at 30).
- ``disposition``: no assessment today despite severity: NEWS2 of 5 or more for any routine
  disposition, a single parameter scoring 3 for home or GP review (adults); saturations below
  92% or a patient who cannot give a history (children).
- ``exam``: no finding beyond the vitals, so the examiner reports every system normal; for a
  generated case, a key finding of its condition is missing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from clinic_env.cases.schema import Case, Demographics, FirstLineItem
from clinic_env.drug_lexicon import NAMES_FILE, class_names, drug_classes, expand_names, name_key
from clinic_rubrics.text import is_negated

if TYPE_CHECKING:
    from clinic_env.cases.conditions import Condition

KINDS = ("informant", "first_line", "medications", "child_protocol", "advice", "social_age", "disposition", "exam")
INFORMANT_BELOW_AGE = 14
ADULT_PROTOCOL_FROM_AGE = 18
NEWS2_FROM_AGE = 16
# No assessment today: not for NEWS2 of 5 or more; home or GP review not for a single parameter of 3.
ROUTINE_DISPOSITIONS = ("discharge_home", "follow_up", "refer_specialist")
HOME_DISPOSITIONS = ("discharge_home", "follow_up")
GIVING_ACTS = ("give", "continue")

# Signs that the patient cannot give a reliable history. Drowsiness alone is not one.
_NO_CAPACITY = re.compile(r"\b(confus\w*|disorientat\w*|delirious|delirium|aphasi\w*|dysphasi\w*|unresponsive|"
                          r"obtunded|talking gibberish)", re.IGNORECASE)
_GCS = re.compile(r"\bGCS\s*(?:of\s*)?(\d{1,2})(?:\s*/\s*15)?(?:\s*\(E\d\s*V(\d))?", re.IGNORECASE)

# Cardioselective ones (bisoprolol, atenolol) are accepted with caution in asthma; these are not.
_NON_SELECTIVE_BETA_BLOCKERS = ("propranolol", "sotalol", "nadolol", "timolol", "carvedilol", "labetalol")
# Past-history conditions and the drug classes or drugs they rule out.
_COMORBIDITY_RULES: tuple[tuple[re.Pattern[str], str, tuple[str, ...], tuple[str, ...]], ...] = (
    (re.compile(r"\basthma", re.I), "asthma (bronchospasm)", (), _NON_SELECTIVE_BETA_BLOCKERS),
    (re.compile(r"chronic kidney disease|\bCKD\b|renal (impairment|failure)|kidney disease", re.I),
     "chronic kidney disease", ("nsaid",), ()),
    (re.compile(r"peptic ulcer|duodenal ulcer|gastric ulcer|\bGI bleed|gastrointestinal bleed", re.I),
     "peptic ulcer or GI bleeding", ("nsaid",), ()),
)
# Harm to a continuing pregnancy, any trimester; NSAIDs from 20 weeks.
_TERATOGENS = (("ace_inhibitor", "arb", "statin", "tetracycline"),
               ("warfarin", "methotrexate", "sodium valproate", "valproate", "isotretinoin", "mycophenolate"))
_NSAID_FROM_WEEK = 20
_PREGNANCY_ENDED = re.compile(r"ectopic|miscarriage|termination", re.IGNORECASE)

# (pattern, youngest, oldest) ages a social fact fits.
_SOCIAL_AGES: tuple[tuple[re.Pattern[str], float, float], ...] = (
    (re.compile(r"\bgrand(child|children|son|daughter|kids?)\b", re.I), 36, 120),
    (re.compile(r"\bretired\b", re.I), 50, 120),
    (re.compile(r"\bwidow(ed|er)?\b", re.I), 20, 120),
    (re.compile(r"\b(husband|wife|married)\b", re.I), 16, 120),
    (re.compile(r"^smokes\b|^ex-smoker\b|\bunits of alcohol\b|\bdrinks alcohol\b", re.I), 14, 120),
    (re.compile(r"\blives alone\b", re.I), 16, 120),
    (re.compile(r"\bmy (mum|mother|dad|father)('s| is| has| takes| gets)\b", re.I), 0, 75),
    (re.compile(r"\bschool pupil\b", re.I), 4, 19),
)
# Facts of the speaker's own life: a parent telling a child's history has a husband or a wife.
_SPEAKERS_OWN = re.compile(r"husband|wife|married|widow|grand", re.IGNORECASE)
_MINOR_OCCUPATION = re.compile(r"school|student|pupil|unemployed", re.IGNORECASE)
_OCCUPATION_FROM_AGE = 16

_START = re.compile(r"\b(start|starting|commence|initiate|begin)\w*\b", re.IGNORECASE)
_OWN_PREGNANCY = re.compile(r"pregnancy test|contracepti|oestrogen|hormone replacement", re.IGNORECASE)
_OFF_WORK = re.compile(r"\boff (school or )?work\b", re.IGNORECASE)
_PER_KG = re.compile(r"/\s*kg\b", re.IGNORECASE)  # a weight-based dose covers the child
_ADULT_PROTOCOL = re.compile(r"\badults?\b|\b\d+(\.\d+)?\s*(litres?|liters?|L)\b|\b1000\s*mL\b", re.IGNORECASE)


@dataclass(frozen=True)
class Conflict:
    kind: str
    detail: str


def case_conflicts(case: Case, condition: Condition | None = None) -> list[Conflict]:
    """Every conflict of ``case``; with the ``condition`` it was generated from, its missing key findings too."""
    found = [*_informant(case), *_first_line(case), *_medications(case), *_child_protocol(case), *_advice(case),
             *_social_age(case), *_disposition(case), *_exam(case)]
    if condition is not None:
        found += _key_findings(case, condition)
    return found


def count_conflicts(conflicts: Iterable[Conflict]) -> Counter[str]:
    """Conflicts per kind, every kind present (zero when none)."""
    counts = Counter({kind: 0 for kind in KINDS})
    counts.update(c.kind for c in conflicts)
    return counts


# ---- informant ---------------------------------------------------------------------------------

def _informant(case: Case) -> list[Conflict]:
    if case.informant != "patient":
        return []
    age = case.demographics.age_years
    if age < INFORMANT_BELOW_AGE:
        return [Conflict("informant", f"a {age:g}-year-old tells their own history")]
    sign = cannot_give_history(case)
    return [Conflict("informant", f"the patient tells their own history despite {sign!r}")] if sign else []


def cannot_give_history(case: Case) -> str | None:
    """The first sign on examination that the patient cannot give a history now, or None (the
    history may tell of confusion that has passed: a seizure's post-ictal phase)."""
    for text in case.exam.values():
        for match in _NO_CAPACITY.finditer(text):
            if not is_negated(text, match.start(), match.end()):
                return match.group(0)
        for match in _GCS.finditer(text):
            score, verbal = int(match.group(1)), match.group(2)
            if score <= 13 or (verbal is not None and int(verbal) < 5):
                return match.group(0)
    return None


# ---- first-line treatment ----------------------------------------------------------------------

@cache
def _class_keys(key: str) -> frozenset[str]:
    return frozenset(name_key(n) for n in class_names([key]))


def _keys(names: Iterable[str]) -> frozenset[str]:
    """Every name of these drugs and of the products containing them: what must not be given."""
    return frozenset(name_key(n) for n in expand_names(list(names)))


@lru_cache(maxsize=1)
def _drug_groups() -> dict[str, frozenset[str]]:
    groups = json.loads(NAMES_FILE.read_text(encoding="utf-8"))["drugs"]
    return {name_key(n): frozenset(name_key(m) for m in group) for group in groups for n in group}


def given_keys(item: FirstLineItem) -> frozenset[str]:
    """The names of the drugs a first-line item gives, without the products containing them
    (giving paracetamol is not giving co-codamol)."""
    names = [*item.names, *(n for c in item.classes for n in drug_classes()[c])]
    groups = _drug_groups()
    return frozenset().union(*(groups.get(name_key(n), frozenset({name_key(n)})) for n in names))


def drug_keys(name: str) -> frozenset[str]:
    """The names of a drug written as a case writes it ("salbutamol inhaler", "NSAIDs",
    "sulfonamide antibiotics"): a class when it names one, else the drug and its products."""
    key = name_key(name)
    spellings = {key, re.sub(r"s\b", "", key)}
    for cls, words in drug_classes().items():  # a class's first word is its own name
        if spellings & {name_key(words[0]), name_key(cls.replace("_", " "))}:
            return _class_keys(cls)
    for words in (key, key.split(" ")[0]):
        reached = _keys([words])
        if len(reached) > 1:
            return reached
    return frozenset({key})


def _first_line(case: Case) -> list[Conflict]:
    if case.management is None:
        return []
    ruled_out = _ruled_out(case)
    found = []
    for item in case.management.first_line:
        if item.act not in GIVING_ACTS:
            continue
        if item.act == "give" and _START.search(item.text):
            found += [Conflict("first_line", f"{item.text!r} starts {m.name!r}, which the patient already takes")
                      for m in case.medications if given_keys(item) & drug_keys(m.name)]
        given = given_keys(item)
        for reason, keys in ruled_out:
            clash = given & keys
            if clash and (item.act == "give" or not reason.startswith("already on")):
                found.append(Conflict("first_line", f"{item.text!r} gives {sorted(clash)[0]!r}: {reason}"))
    return found


def _affirmed(pattern: re.Pattern[str], text: str) -> bool:
    """``pattern`` occurs in ``text`` and is not denied ("no kidney disease")."""
    return any(not is_negated(text, m.start(), m.end()) for m in pattern.finditer(text))


def _ruled_out(case: Case) -> list[tuple[str, frozenset[str]]]:
    """(why, drug-name keys) the patient must not be given."""
    out = [(f"contraindicated ({c.reason})", frozenset(name_key(n) for n in c.all_names()))
           for c in case.contraindications if not c.near and not c.without]
    out += [(f"allergic to {a.substance}", drug_keys(a.substance)) for a in case.allergies]
    for pattern, why, classes, names in _COMORBIDITY_RULES:
        if any(_affirmed(pattern, p.text) for p in case.past_history):
            out.append((why, frozenset().union(*(_class_keys(c) for c in classes), _keys(names))))
    anticoagulants = _class_keys("anticoagulant")
    if any(drug_keys(m.name) & anticoagulants for m in case.medications):
        out.append(("on an anticoagulant", _class_keys("nsaid") | _class_keys("thrombolytic")))
        out.append(("already on an anticoagulant", anticoagulants))
    demographics = case.demographics
    if demographics.pregnant and not _PREGNANCY_ENDED.search(" ".join(case.diagnosis_names)):
        classes, names = _TERATOGENS
        harmful = frozenset().union(*(_class_keys(c) for c in classes), _keys(names))
        if (demographics.gestation_weeks or 0) >= _NSAID_FROM_WEEK:
            harmful |= _class_keys("nsaid")
        out.append(("harmful in pregnancy", harmful))
    return out


# ---- medications -------------------------------------------------------------------------------

# Words of the past history that tell of a current treatment, and the drug class or drug that
# the medication list must then hold. An inhaler is any medication whose name says so.
_TREATMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\binsulin\b", re.I), "insulin"),
    (re.compile(r"\b(inhalers?|puffers?)\b", re.I), "inhaler"),
    (re.compile(r"\b(blood thinners?|anticoagula\w*)\b", re.I), "anticoagulant"),
    (re.compile(r"\bantidepressants?\b", re.I), "antidepressant"),
    (re.compile(r"\bstatins?\b", re.I), "statin"),
    (re.compile(r"\b(levo)?thyroxine\b", re.I), "levothyroxine"),
)
# A treatment told of in the past, refused or given up is not taken now.
_NOT_NOW = re.compile(r"\b(was|were|used to|stopped|refused|declined|didn't|did not|haven't|have not|since (I was|age) \d+|"
                      r"as a (kid|child)|years ago|treated with)\b", re.IGNORECASE)


def _medications(case: Case) -> list[Conflict]:
    """A treatment the past history says the patient is on, missing from the medication list."""
    found = []
    for item in case.past_history:
        for pattern, treatment in _TREATMENTS:
            told = [t for t in (item.text, item.lay) if _current_use(pattern, t)]
            if told and not any(_is(m.name, treatment) for m in case.medications):
                found.append(Conflict("medications", f"{told[0]!r} but no {treatment} among the medications"))
    return found


def _current_use(pattern: re.Pattern[str], text: str) -> bool:
    return any(_affirmed(pattern, sentence) and not _NOT_NOW.search(sentence) for sentence in re.split(r"[.;]", text))


def _is(medication: str, treatment: str) -> bool:
    if treatment == "inhaler":
        return "inhaler" in medication.lower()
    keys = _class_keys(treatment) if treatment in drug_classes() else _keys([treatment])
    return bool(drug_keys(medication) & keys)


# ---- protocols, social facts -------------------------------------------------------------------

def _child_protocol(case: Case) -> list[Conflict]:
    if case.management is None or case.demographics.age_years >= ADULT_PROTOCOL_FROM_AGE:
        return []
    texts = [*(i.text for i in case.management.first_line), *case.management.other, case.management.disposition_text]
    return [Conflict("child_protocol", f"{case.demographics.age_years:g}-year-old: {text!r}")
            for text in texts if _ADULT_PROTOCOL.search(text) and not _PER_KG.search(text)]


def unfit_advice(text: str, patient: Demographics) -> bool:
    """Advice that does not fit the patient it is given to: contraception or a pregnancy test for
    a man or a woman past 55, time off work for the retired."""
    if _OWN_PREGNANCY.search(text) and (patient.sex == "male" or patient.age_years > 55):
        return True
    return bool(_OFF_WORK.search(text)) and (patient.occupation == "retired")


def _advice(case: Case) -> list[Conflict]:
    if case.management is None:
        return []
    return [Conflict("advice", f"{case.demographics.describe()}: {text!r}")
            for text in case.management.other if unfit_advice(text, case.demographics)]


def _social_age(case: Case) -> list[Conflict]:
    age = case.demographics.age_years
    facts = [text for item in [*case.social_history, *case.family_history, *case.past_history]
             for text in (item.text, item.lay)]
    rules = [(p, low, high) for p, low, high in _SOCIAL_AGES
             if case.informant != "parent" or not _SPEAKERS_OWN.search(p.pattern)]
    found = [Conflict("social_age", f"age {age:g}: {text!r}") for text in facts
             for pattern, low, high in rules if pattern.search(text) and not low <= age <= high]
    occupation = case.demographics.occupation
    if occupation and age < _OCCUPATION_FROM_AGE and not _MINOR_OCCUPATION.search(occupation):
        found.append(Conflict("social_age", f"age {age:g}: works as {occupation!r}"))
    if occupation:
        found += [Conflict("social_age", f"age {age:g}: occupation {occupation!r}")
                  for pattern, low, high in _SOCIAL_AGES if pattern.search(occupation) and not low <= age <= high]
    return found


# ---- disposition -------------------------------------------------------------------------------

_VITAL = {
    "rr": re.compile(r"respiratory rate\s*(?:of\s*)?(\d+)|\bRR\s*(\d+)", re.I),
    "spo2": re.compile(r"(?:SpO2|saturations?|sats)\s*(?:of\s*)?(\d+)\s*%", re.I),
    "sbp": re.compile(r"blood pressure\s*(?:of\s*)?(\d+)\s*/|\bBP\s*(\d+)\s*/", re.I),
    "hr": re.compile(r"heart rate\s*(?:of\s*)?(\d+)|\bpulse\s*(?:of\s*)?(\d+)|\bHR\s*(\d+)", re.I),
    "temp": re.compile(r"temperature\s*(?:of\s*)?(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*°C", re.I),
}
_ON_OXYGEN = re.compile(r"\bon\s+(\d+\s*(L|litres?)|oxygen|O2|\d+%\s*(oxygen|O2|Venturi))", re.I)
_HYPERCAPNIC = re.compile(r"\bCOPD\b|chronic obstructive|hypercapni", re.I)
# NEWS2 bands: (upper bound inclusive, points), checked in order.
_BANDS = {
    "rr": ((8, 3), (11, 1), (20, 0), (24, 2), (999, 3)),
    "spo2": ((91, 3), (93, 2), (95, 1), (100, 0)),
    "spo2_scale2": ((83, 3), (85, 2), (87, 1), (100, 0)),
    "sbp": ((90, 3), (100, 2), (110, 1), (219, 0), (999, 3)),
    "hr": ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (999, 3)),
    "temp": ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (99, 2)),
}


def vitals(text: str) -> dict[str, float]:
    """The vital signs a vitals line states (first of each)."""
    found = {}
    for name, pattern in _VITAL.items():
        match = pattern.search(text)
        if match:
            found[name] = float(next(g for g in match.groups() if g is not None))
    return found


def news2(case: Case) -> tuple[int, int]:
    """(NEWS2 total, highest single-parameter score) from the case's vitals and consciousness."""
    line = case.exam.get("vitals", "")
    values = vitals(line)
    scale2 = bool(_HYPERCAPNIC.search(" ".join([*case.diagnosis_names, *(p.text for p in case.past_history)])))
    points = [_band("spo2_scale2" if name == "spo2" and scale2 else name, value) for name, value in values.items()]
    if _ON_OXYGEN.search(line):
        points.append(2)
    if cannot_give_history(case):
        points.append(3)
    return sum(points), max(points, default=0)


def _band(name: str, value: float) -> int:
    return next(points for upper, points in _BANDS[name] if value <= upper)


def _disposition(case: Case) -> list[Conflict]:
    if case.management is None or case.management.disposition not in ROUTINE_DISPOSITIONS:
        return []
    where = case.management.disposition
    if case.demographics.age_years < NEWS2_FROM_AGE:
        spo2 = vitals(case.exam.get("vitals", "")).get("spo2")
        sign = cannot_give_history(case)
        if spo2 is not None and spo2 < 92:
            return [Conflict("disposition", f"{where} for a child with SpO2 {spo2:g}%")]
        return [Conflict("disposition", f"{where} for a child with {sign!r}")] if sign else []
    total, single = news2(case)
    if total >= 5 or (single >= 3 and where in HOME_DISPOSITIONS):
        return [Conflict("disposition", f"{where} with NEWS2 {total} (highest single parameter {single})")]
    return []


# ---- exam --------------------------------------------------------------------------------------

def _exam(case: Case) -> list[Conflict]:
    if set(case.exam) <= {"vitals"}:
        return [Conflict("exam", "no finding beyond the vitals: every system would be reported normal")]
    return []


def _key_findings(case: Case, condition: Condition) -> list[Conflict]:
    shown = " ".join(case.exam.values())
    return [Conflict("exam", f"key finding missing: {f.text!r}") for f in condition.exam
            if f.key and f.text not in shown and (f.atypical_text or f.text) not in shown]
