"""The condition knowledge base behind the case generator: how each condition presents.

One JSON file per condition in ``clinic_env/cases/condition_templates/``, written for this project.
A condition lists its features with how often they occur (typical ones, and atypical ones
that mostly appear in hard presentations), pertinent negatives, exam findings, test
results, the differential, first-line management (with replacements when the patient is
allergic), red flags and contraindications, and who gets it (ages, sexes, pregnancy).
``background.json`` holds what any patient may bring along: comorbidities with their
usual medications and the treatments they rule out, allergies, occupations and habits.

The generator (``clinic_env.cases.generator``) samples from these; the case schema
validates what it builds, so the knowledge base only has to be right, not complete.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from clinic_env.cases.library import CaseError
from clinic_env.cases.schema import (
    Allergy,
    Contraindication,
    Diagnosis,
    DifferentialItem,
    Disposition,
    FirstLineItem,
    Item,
    Management,
    Medication,
    Named,
    PertinentNegative,
    RedFlag,
    Specialty,
    Strict,
    TestResult,
    _specific_keywords,
)
from clinic_env.cases.validator import INFORMANT_BELOW_AGE
from clinic_env.exam_systems import ExamSystem
from clinic_env.history_topics import PresentingTopic, RosSystem

CONDITIONS_DIR = Path(__file__).parent / "condition_templates"
BACKGROUND_FILE = CONDITIONS_DIR / "background.json"

Frequency = float  # the share of patients with the condition who have the feature, in (0, 1]


class Feature(Strict):
    """A positive history fact of the condition and how often patients have it."""

    topic: PresentingTopic
    text: str = Field(min_length=3)
    lay: str = Field(min_length=3)
    keywords: list[str] = Field(default_factory=list)
    frequency: Frequency = Field(gt=0, le=1)
    key: bool = False
    atypical: bool = Field(default=False, description="Mostly seen in atypical presentations (hard cases).")

    _keywords = field_validator("keywords")(_specific_keywords)


class Negative(PertinentNegative):
    """A pertinent negative, with how often it is absent in the condition."""

    frequency: Frequency = Field(default=1.0, gt=0, le=1)


class Risk(Item):
    """A past, social or family history item that raises the suspicion, and how often it is there."""

    section: Literal["past_history", "social_history", "family_history", "sexual_history", "travel_history"]
    frequency: Frequency = Field(gt=0, le=1)
    ages: tuple[float, float] = Field(default=(0, 120), description="Ages the fact fits (grandchildren from 45).")
    medications: list[Medication] = Field(default_factory=list, description="What the patient takes for it "
                                          "(a diabetic's insulin): listed whenever the fact is drawn.")


class Finding(Strict):
    """An exam finding by system; several findings of one system are joined."""

    system: ExamSystem
    text: str = Field(min_length=3)
    frequency: Frequency = Field(default=1.0, gt=0, le=1)
    key: bool = Field(default=False, description="A finding that makes the diagnosis: always shown, whatever "
                      "its frequency (the examiner would otherwise report the system normal).")
    atypical_text: str | None = Field(default=None, description="The finding in an atypical presentation.")


class Escalation(Strict):
    """Care that changes when a feature is present (visual loss in giant cell arteritis): the
    first line, and the disposition when given, replace the usual ones; its red flags join."""

    features: list[str] = Field(min_length=1, description="Texts of the condition's features; any one drawn applies it.")
    first_line: list[FirstLineItem] = Field(min_length=1)
    disposition: Disposition | None = None
    disposition_text: str | None = None
    red_flags: list[RedFlag] = Field(default_factory=list)


class Condition(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    specialty: Specialty
    diagnosis: Diagnosis
    ages: tuple[float, float] = Field(description="Youngest and oldest age in years (fractions for infants).")
    sexes: list[Literal["female", "male"]] = Field(min_length=1)
    pregnancy: Literal["never", "possible", "always"] = "never"
    gestation_weeks: tuple[int, int] = Field(default=(8, 38), description="Weeks of a pregnancy this condition "
                                             "occurs in, e.g. (5, 10) for an ectopic pregnancy.")
    exclude_comorbidities: list[str] = Field(default_factory=list, description="Background comorbidity ids that "
                                             "do not go with this condition (already anticoagulated for a clot...).")
    informant_below_age: float = Field(default=INFORMANT_BELOW_AGE, description="Younger patients are described by a parent.")
    informant: Literal["patient", "partner", "carer"] = Field(default="patient", description=(
        "Who tells an adult's history when the condition takes away the capacity to (delirium). Its lay "
        "texts are then in that person's voice, as a parent's are for a child: naming the patient {he}, {him}, "
        "{his}, {himself}, {boy}, filled by sex."))
    chief_complaint: str = Field(min_length=3, description="Neutral: symptoms, never the diagnosis.")
    openings: list[str] = Field(min_length=1, description="Opening statements of a typical presentation.")
    atypical_openings: list[str] = Field(default_factory=list)
    features: list[Feature] = Field(min_length=6)
    negatives: list[Negative] = Field(min_length=3)
    risks: list[Risk] = Field(default_factory=list)
    review_of_systems: dict[RosSystem, str] = Field(default_factory=dict)
    exam: list[Finding] = Field(min_length=2)
    tests: list[TestResult] = Field(min_length=3)
    differential: list[DifferentialItem] = Field(min_length=3)
    management: Management
    child_management: Management | None = Field(default=None, description=(
        "Management for patients under 18 where the paediatric protocol differs (DKA: BSPED fluids and insulin)."))
    if_allergic: dict[str, list[FirstLineItem]] = Field(
        default_factory=dict, description="Allergy id (background.json) -> first-line list replacing the usual one.")
    red_flags: list[RedFlag] = Field(default_factory=list)
    contraindications: list[Contraindication] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Condition:
        low, high = self.ages
        if not 0 <= low <= high <= 110:
            raise ValueError(f"ages must be (youngest, oldest) within 0-110, got {self.ages}")
        if self.pregnancy != "never" and "female" not in self.sexes:
            raise ValueError("a condition of pregnancy needs 'female' in sexes")
        if not 1 <= self.gestation_weeks[0] <= self.gestation_weeks[1] <= 44:
            raise ValueError(f"gestation_weeks must be (earliest, latest) within 1-44, got {self.gestation_weeks}")
        if not any(f.system == "vitals" for f in self.exam):
            raise ValueError("exam needs a 'vitals' finding")
        if sum(f.key for f in self.features if not f.atypical) < 2:
            raise ValueError("at least two typical features must be key (a hard case keeps them)")
        texts = {f.text for f in self.features}
        unknown = sorted({t for e in self.escalations for t in e.features} - texts)
        if unknown:
            raise ValueError(f"escalations name features the condition does not have: {unknown}")
        return self


class ToldMedication(Medication):
    lay_told: str | None = Field(default=None, description="A relative telling it, naming the patient {he}, {his}...")


class Comorbidity(Strict):
    id: str
    text: str
    lay: str
    lay_told: str | None = Field(default=None, description="A relative telling it (a delirious patient's carer), "
                                 "naming the patient {he}, {his}...; without it, such patients never get it.")
    keywords: list[str] = Field(default_factory=list)
    ages: tuple[float, float] = (18, 110)
    frequency: Frequency = Field(gt=0, le=1, description="How often a patient of a suitable age has it.")
    medications: list[ToldMedication] = Field(default_factory=list)

    def told(self) -> bool:
        """A relative can tell it: the comorbidity and each of its medications have a told wording."""
        return self.lay_told is not None and all(m.lay_told is not None for m in self.medications)
    contraindications: list[Contraindication] = Field(default_factory=list)


class AllergyOption(Allergy, Named):
    """An allergy a patient may have; its names and classes become the case's contraindication."""

    id: str
    frequency: Frequency = Field(gt=0, le=1)
    lay_parent: str | None = Field(default=None, description="A parent telling it of a child; without it, "
                                   "children never get this allergy.")


class Habit(Item):
    ages: tuple[float, float] = (16, 110)
    frequency: Frequency = Field(gt=0, le=1)
    group: str = Field(description="At most one habit of a group per patient (smoking, alcohol...).")


class Background(Strict):
    comorbidities: list[Comorbidity] = Field(min_length=1)
    allergies: list[AllergyOption] = Field(min_length=1)
    occupations: list[str] = Field(min_length=1)
    habits: list[Habit] = Field(default_factory=list)


def _load(path: Path, model: type[Strict]) -> Strict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise CaseError(f"{path}: cannot read: {err}") from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"field {'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
                             for e in err.errors())
        raise CaseError(f"{path}: {problems}") from None


@lru_cache(maxsize=1)
def load_conditions() -> tuple[Condition, ...]:
    """Every condition of the knowledge base, validated, sorted by id."""
    conditions = [_load(p, Condition) for p in sorted(CONDITIONS_DIR.glob("*.json")) if p != BACKGROUND_FILE]
    ids = [c.id for c in conditions]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise CaseError(f"{CONDITIONS_DIR}: condition ids repeated: {repeated}")
    background = load_background()
    known = {a.id for a in background.allergies}
    comorbidities = {m.id for m in background.comorbidities}
    for condition in conditions:
        unknown = sorted(set(condition.if_allergic) - known)
        if unknown:
            raise CaseError(f"{CONDITIONS_DIR / (condition.id + '.json')}: if_allergic names unknown allergies "
                            f"{unknown}; known: {sorted(known)}")
        unknown = sorted(set(condition.exclude_comorbidities) - comorbidities)
        if unknown:
            raise CaseError(f"{CONDITIONS_DIR / (condition.id + '.json')}: exclude_comorbidities names unknown "
                            f"comorbidities {unknown}; known: {sorted(comorbidities)}")
    return tuple(sorted(conditions, key=lambda c: c.id))  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def load_background() -> Background:
    """Comorbidities, allergies, occupations and habits any generated patient may have."""
    return _load(BACKGROUND_FILE, Background)  # type: ignore[return-value]
