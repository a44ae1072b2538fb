"""A seeded generator of complete cases from the condition knowledge base: endless training episodes.

    from clinic_env.cases.generator import CaseGenerator
    generated = CaseGenerator().generate(seed=7)          # same seed, same case and persona
    generated.case, generated.persona
    env = gym.make("clinic_env/Consultation-v0", cases="generated")   # a new case every reset

A case is built from one condition (``clinic_env.cases.conditions``): demographics within
the condition's ages and sexes (pregnancy where the condition allows it); features,
negatives, risk factors and exam findings drawn by how often they occur; comorbidities
with their usual medications, and allergies, from the shared background (an allergy that
rules out the usual first-line treatment swaps in the condition's alternative and records
the contraindication); an occupation, habits and a persona.

The difficulty changes how typical the presentation is. Easy: the common features, no
atypical ones, the typical opening. Medium: features as often as they occur, atypical
ones now and then. Hard: fewer typical features (the key ones kept, so the case stays
solvable), atypical features and findings, an atypical opening, an age at the edge of the
condition's range. Every case is validated by the case schema and scanned for diagnosis
leaks; a knowledge-base entry that would leak raises ``CaseError``.

Generated cases are training material: their split is "train", and the generator never
reads the case library, so the test split is never a template.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from clinic_env.cases.conditions import Background, Condition, load_background, load_conditions
from clinic_env.cases.library import CaseError, parse_case
from clinic_env.cases.schema import Case, Demographics
from clinic_env.cases.validator import ADULT_PROTOCOL_FROM_AGE, unfit_advice
from clinic_env.leaks import case_leaks, find_leaks
from clinic_env.persona import Persona

Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
DIFFICULTY_WEIGHTS = (0.3, 0.4, 0.3)
MAX_COMORBIDITIES = 3
_FEMALE = {"he": "she", "him": "her", "his": "her", "himself": "herself", "boy": "girl"}
_PRONOUN = re.compile(r"\{(he|him|his|himself|boy)\}", re.IGNORECASE)


@dataclass(frozen=True)
class GeneratedCase:
    case: Case
    persona: Persona
    condition_id: str
    seed: int


class CaseGenerator:
    """Samples cases from ``conditions`` (default: the whole knowledge base).

    - ``specialty``: only conditions of this specialty.
    - ``difficulty``: always this difficulty; ``None`` draws easy / medium / hard (30/40/30).
    """

    def __init__(self, conditions: Sequence[Condition] | None = None, specialty: str | None = None,
                 difficulty: Difficulty | None = None, background: Background | None = None) -> None:
        pool = list(load_conditions() if conditions is None else conditions)
        if specialty is not None:
            pool = [c for c in pool if c.specialty == specialty]
        if not pool:
            raise ValueError(f"no condition to generate from (specialty={specialty!r})")
        if difficulty is not None and difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {DIFFICULTIES} or None, got {difficulty!r}")
        self.conditions = pool
        self.difficulty = difficulty
        self.background = background or load_background()

    def generate(self, seed: int, condition: str | Condition | None = None) -> GeneratedCase:
        """The case of ``seed`` (of ``condition`` when given, else of a condition drawn by the seed)."""
        rng = random.Random(f"clinic-env-generator/{seed}")
        chosen = self._condition(condition) if condition is not None else rng.choice(self.conditions)
        difficulty = self.difficulty or rng.choices(DIFFICULTIES, DIFFICULTY_WEIGHTS)[0]
        record = _build(chosen, difficulty, self.background, rng, f"gen_{chosen.id}_{seed}")
        case = parse_case(record, source=f"generated from condition {chosen.id!r} (seed {seed})")
        leaks = case_leaks(case)
        if leaks:
            where = ", ".join(f"{field} names {name!r}" for field, name in leaks[:3])
            raise CaseError(f"condition {chosen.id!r} (seed {seed}) gives its diagnosis away: {where}")
        return GeneratedCase(case, Persona.sample(rng.randrange(2**31)), chosen.id, seed)

    def cases(self, n: int, seed: int = 0) -> list[Case]:
        """``n`` cases, of seeds ``seed``, ``seed + 1``, ...: a fixed set for a benchmark."""
        return [self.generate(seed + i).case for i in range(n)]

    def _condition(self, condition: str | Condition) -> Condition:
        if isinstance(condition, Condition):
            return condition
        for known in self.conditions:
            if known.id == condition:
                return known
        raise KeyError(f"unknown condition {condition!r}; known: {[c.id for c in self.conditions]}")


# ---- building one case ---------------------------------------------------------------------------

def _build(c: Condition, difficulty: Difficulty, bg: Background, rng: random.Random, case_id: str) -> dict[str, Any]:
    sex = "female" if c.pregnancy == "always" else rng.choice(c.sexes)
    age = _age(c, difficulty, rng)
    pregnant = sex == "female" and (c.pregnancy == "always" or (c.pregnancy == "possible" and 18 <= age <= 42
                                                                and rng.random() < 0.15))
    demographics: dict[str, Any] = {"age_years": age, "sex": sex}
    if pregnant:
        demographics.update(pregnant=True, gestation_weeks=rng.randint(*c.gestation_weeks))
    occupation = _occupation(age, bg, rng)
    if occupation:
        demographics["occupation"] = occupation
    record: dict[str, Any] = {
        "id": case_id, "title": f"{_sentence(c.chief_complaint)} in {Demographics(age_years=age, sex=sex).describe()}",
        "specialty": c.specialty,
        "split": "train", "difficulty": difficulty,
        "informant": "parent" if age < c.informant_below_age else c.informant, "demographics": demographics,
        "chief_complaint": c.chief_complaint,
        "opening_statement": rng.choice(c.atypical_openings if difficulty == "hard" and c.atypical_openings
                                        else c.openings),
        "history": _features(c, difficulty, rng),
        "pertinent_negatives": [_plain(n, "frequency") for n in c.negatives if rng.random() < n.frequency]
                               or [_plain(c.negatives[0], "frequency")],
        "review_of_systems": dict(c.review_of_systems),
        "exam": _exam(c, difficulty, rng),
        "tests": [t.model_dump() for t in c.tests],
        "diagnosis": c.diagnosis.model_dump(),
        "differential": [d.model_dump() for d in c.differential],
        "red_flags": [f.model_dump() for f in c.red_flags],
    }
    risk_medications: list[dict[str, Any]] = []
    for section in ("past_history", "social_history", "family_history", "sexual_history", "travel_history"):
        drawn = [r for r in c.risks if r.section == section and r.ages[0] <= age <= r.ages[1]
                 and rng.random() < r.frequency]
        record[section] = [_plain(r, "section", "frequency", "ages", "medications") for r in drawn]
        risk_medications += [m.model_dump() for r in drawn for m in r.medications]
    told = record["informant"] != "patient"  # a relative tells the background, a parent none (a child has none)
    comorbidities = [] if record["informant"] == "parent" else _comorbidities(age, c, bg, rng, told)
    record["past_history"] += [{"text": m.text, "lay": m.lay_told if told else m.lay, "keywords": m.keywords}
                               for m in comorbidities]
    record["medications"] = risk_medications + [{**m.model_dump(exclude={"lay_told"}), "lay": m.lay_told if told else m.lay}
                                                for co in comorbidities for m in co.medications]
    known = {k.lower() for item in record["social_history"] + record["past_history"] for k in item["keywords"]}
    record["social_history"] += [_plain(h, "ages", "frequency", "group") for h in ([] if told else _habits(age, bg, rng))
                                 if not known & {k.lower() for k in h.keywords}]  # the condition's own habits win
    if pregnant:
        record["obstetric_history"] = [{"text": f"Currently pregnant, {demographics['gestation_weeks']} weeks",
                                        "lay": f"I'm {demographics['gestation_weeks']} weeks pregnant.",
                                        "keywords": ["pregnant", "pregnancy", "weeks"], "key": True}]
    management = (c.child_management if age < ADULT_PROTOCOL_FROM_AGE and c.child_management else c.management).model_dump()
    drawn = {h["text"] for h in record["history"]}
    for escalation in (e for e in c.escalations if drawn & set(e.features)):
        management["first_line"] = [item.model_dump() for item in escalation.first_line]
        management["disposition"] = escalation.disposition or management["disposition"]
        management["disposition_text"] = escalation.disposition_text or management["disposition_text"]
        record["red_flags"] += [f.model_dump() for f in escalation.red_flags]
    contraindications = [x.model_dump() for x in c.contraindications]
    contraindications += [x.model_dump() for co in comorbidities for x in co.contraindications]
    allergy = _allergy(bg, rng)
    if allergy is not None and told and allergy.lay_parent is None:
        allergy = None
    record["allergies"] = []
    if allergy is not None:
        entry = _plain(allergy, "id", "frequency", "lay_parent", "names", "classes")
        if told:
            entry["lay"] = allergy.lay_parent
        record["allergies"] = [entry]
        if allergy.id in c.if_allergic:
            management["first_line"] = [item.model_dump() for item in c.if_allergic[allergy.id]]
            contraindications.append({"treatment": allergy.substance, "names": allergy.names, "classes": allergy.classes,
                                      "reason": f"allergic to {allergy.substance} ({allergy.reaction})"})
    patient = Demographics(**demographics)
    management["other"] = [text for text in management["other"] if not unfit_advice(text, patient)]
    record["management"] = management
    record["contraindications"] = _unique_by(contraindications, "treatment")
    return _voiced(record, sex)


def _age(c: Condition, difficulty: Difficulty, rng: random.Random) -> float:
    """Uniform in the condition's ages; a hard case sits in the youngest or oldest fifth."""
    low, high = c.ages
    if difficulty == "hard" and high - low >= 5:
        span = (high - low) / 5
        low, high = (low, low + span) if rng.random() < 0.5 else (high - span, high)
    age = rng.uniform(low, high)
    return round(age, 1) if age < 2 else float(int(age))


def _occupation(age: float, bg: Background, rng: random.Random) -> str | None:
    if age < 5:
        return None
    if age < 18:
        return "school pupil"
    return "retired" if age >= 67 else rng.choice(bg.occupations)


def _features(c: Condition, difficulty: Difficulty, rng: random.Random) -> list[dict[str, Any]]:
    """Typical features by frequency (key ones always, but for hard cases only some of them),
    atypical ones by difficulty."""
    typical = [f for f in c.features if not f.atypical]
    keys = [f for f in typical if f.key]
    kept_keys = keys if difficulty != "hard" else rng.sample(keys, max(2, (len(keys) + 1) // 2))
    chosen = []
    for feature in c.features:
        if feature.atypical:
            chance = {"easy": 0.0, "medium": 0.3 * feature.frequency, "hard": min(1.0, 1.5 * feature.frequency)}
        elif feature.key:
            chance = {"easy": 1.0, "medium": 1.0, "hard": 1.0 if feature in kept_keys else 0.0}
        else:
            chance = {"easy": 1.0 if feature.frequency >= 0.5 else 0.5 * feature.frequency,
                      "medium": feature.frequency, "hard": 0.6 * feature.frequency}
        if rng.random() < chance[difficulty]:
            chosen.append(feature)
    for feature in typical:  # the schema wants three facts at least
        if len(chosen) >= 3:
            break
        if feature not in chosen:
            chosen.append(feature)
    return [_plain(f, "frequency", "atypical") for f in chosen]


def _exam(c: Condition, difficulty: Difficulty, rng: random.Random) -> dict[str, str]:
    """Findings joined per system; vitals and key findings always, and the most frequent other
    finding when none was drawn (else the examiner would report every system normal); a hard
    case shows the atypical wording."""
    drawn = [f for f in c.exam if f.system == "vitals" or f.key or rng.random() < f.frequency]
    if all(f.system == "vitals" for f in drawn):
        drawn.append(max((f for f in c.exam if f.system != "vitals"), key=lambda f: f.frequency))
    found: dict[str, list[str]] = {}
    for finding in c.exam:
        if finding in drawn:
            text = finding.atypical_text if difficulty == "hard" and finding.atypical_text else finding.text
            found.setdefault(finding.system, []).append(text)
    return {system: " ".join(_sentence(t, end=True) for t in texts) for system, texts in found.items()}


def _comorbidities(age: float, c: Condition, bg: Background, rng: random.Random, told: bool) -> list[Any]:
    """Background conditions by frequency: never the condition itself (a known atrial
    fibrillation in a case of atrial fibrillation would name it) nor one it excludes; when a
    relative tells the history, only those a relative can tell."""
    names = [c.diagnosis.name, *c.diagnosis.synonyms]
    eligible = [m for m in bg.comorbidities if m.ages[0] <= age <= m.ages[1] and m.id not in c.exclude_comorbidities
                and (m.told() or not told)
                and m.id != c.id and not find_leaks(f"{m.text} {m.lay}", names)]
    return [m for m in eligible if rng.random() < m.frequency][:MAX_COMORBIDITIES]


def _habits(age: float, bg: Background, rng: random.Random) -> list[Any]:
    """Habits drawn by frequency, at most one per group (never a smoker and an ex-smoker)."""
    taken: dict[str, Any] = {}
    for habit in bg.habits:
        if habit.group not in taken and habit.ages[0] <= age <= habit.ages[1] and rng.random() < habit.frequency:
            taken[habit.group] = habit
    return list(taken.values())


def _allergy(bg: Background, rng: random.Random) -> Any:
    for option in bg.allergies:
        if rng.random() < option.frequency:
            return option
    return None


def _plain(model: Any, *drop: str) -> dict[str, Any]:
    """A knowledge-base entry as a case record: without the generator's own fields."""
    return model.model_dump(exclude=set(drop))


def _unique_by(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    return [i for i in items if not (i[key].lower() in seen or seen.add(i[key].lower()))]


def _voiced(record: dict[str, Any], sex: str) -> dict[str, Any]:
    """The record with a relative's {he}, {him}, {his}, {himself}, {boy} (any capitalised) filled by the patient's sex."""
    words = _FEMALE if sex == "female" else {w: w for w in _FEMALE}

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return _PRONOUN.sub(lambda m: _capitalised(words[m.group(1).lower()], m.group(1)[0].isupper()), value)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return fill(record)


def _capitalised(word: str, upper: bool) -> str:
    return word[:1].upper() + word[1:] if upper else word


def _sentence(text: str, end: bool = False) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if not end or text.endswith((".", "!", "?")) else text + "."
