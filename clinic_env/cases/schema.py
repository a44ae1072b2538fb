"""The validated case schema, and the patient's and examiner's restricted views of a case.

A case holds everything the clinic knows about one patient. Nothing outside the
examiner and the graders ever sees the whole case: the patient simulator gets a
``PatientProfile`` (no diagnosis, differential or management), so a leak of the
diagnosis through the patient is impossible by construction rather than by care.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clinic_env.drug_lexicon import class_names, expand_names, name_key
from clinic_env.exam_systems import ExamSystem
from clinic_env.history_topics import GENERIC_KEYWORDS, PresentingTopic, RosSystem

Specialty = Literal[
    "cardiology",
    "pulmonology",
    "gastroenterology",
    "neurology",
    "endocrinology",
    "infectious_disease",
    "paediatrics",
    "obstetrics_gynaecology",
    "psychiatry",
    "dermatology",
    "emergency",
    "nephrology_urology",
    "rheumatology",
    "haematology",
    "ent",
    "ophthalmology",
    "geriatrics",
    "general_practice",
]

Disposition = Literal["discharge_home", "follow_up", "refer_specialist", "same_day", "admit", "emergency"]
# What a first-line item asks for: give/continue/refer a named treatment, stop/avoid one
# (met by withholding it, never by naming it), or advise/monitor (names optional).
Act = Literal["give", "continue", "stop", "avoid", "refer", "advise", "monitor"]
WITHHOLD_ACTS = ("stop", "avoid")
# Words that name no treatment: a name made of them would match any plan.
NON_SPECIFIC_NAMES = frozenset(
    "treatment treatments medication medications medicine medicines drug drugs therapy therapies tablet tablets "
    "pill pills management care".split())


class Strict(BaseModel):
    """Base model: unknown fields are errors, so a typo in a case file is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Demographics(Strict):
    age_years: float = Field(ge=0, le=120, description="Age; fractions for infants (0.5 = six months).")
    sex: Literal["female", "male"]
    pregnant: bool = False
    gestation_weeks: int | None = Field(default=None, ge=1, le=44)
    occupation: str | None = None

    @model_validator(mode="after")
    def _pregnancy_consistent(self) -> Demographics:
        if self.pregnant and self.sex != "female":
            raise ValueError("pregnant is true but sex is not female")
        if self.gestation_weeks is not None and not self.pregnant:
            raise ValueError("gestation_weeks given but pregnant is false")
        return self

    def describe(self) -> str:
        """'a 54-year-old woman', 'an 8-month-old boy': for neutral case titles."""
        female = self.sex == "female"
        if self.age_years < 2:
            phrase = f"{max(1, round(self.age_years * 12))}-month-old {'girl' if female else 'boy'}"
        else:
            adult = self.age_years >= 18
            phrase = f"{int(self.age_years)}-year-old " + (("woman" if female else "man") if adult
                                                            else ("girl" if female else "boy"))
        return ("an " if phrase[0] == "8" or phrase.startswith(("11-", "18-")) else "a ") + phrase


def _specific_keywords(keywords: list[str]) -> list[str]:
    generic = sorted({k for k in keywords if k.strip().lower() in GENERIC_KEYWORDS})
    if generic:
        raise ValueError(f"keywords must name what a question is about, not how it is asked; remove {generic}")
    return keywords


class HistoryFact(Strict):
    """One positive fact of the presenting complaint, in clinical and lay wording."""

    topic: PresentingTopic
    text: str = Field(min_length=3, description="Clinical wording, for graders and the doctor's notes.")
    lay: str = Field(min_length=3, description="What the patient says, first person, in everyday words.")
    keywords: list[str] = Field(default_factory=list, description=(
        "Words a question may use for this specific fact. The last word of a keyword is a prefix when "
        "longer than four letters or ending in * (a stem: urin*); a shorter one is a whole word with its "
        "inflections (wee: weeing, not week)."))
    key: bool = Field(default=False, description="A history item a good doctor must elicit.")

    _keywords = field_validator("keywords")(_specific_keywords)


class PertinentNegative(Strict):
    """A symptom the patient does not have, and the patient's denial of it."""

    symptom: str = Field(min_length=2)
    keywords: list[str] = Field(min_length=1)
    lay: str = Field(min_length=3)
    key: bool = False

    _keywords = field_validator("keywords")(_specific_keywords)


class Item(Strict):
    """A fact of the wider history (past, social, family, ...) in clinical and lay wording."""

    text: str = Field(min_length=2)
    lay: str = Field(min_length=3)
    keywords: list[str] = Field(default_factory=list)
    key: bool = False

    _keywords = field_validator("keywords")(_specific_keywords)


class Medication(Strict):
    name: str = Field(min_length=2)
    dose: str = ""
    lay: str = Field(min_length=3)


class Allergy(Strict):
    substance: str = Field(min_length=2)
    reaction: str = Field(min_length=2)
    lay: str = Field(min_length=3)


class TestResult(Strict):
    name: str = Field(min_length=2, description="Canonical catalogue name where the catalogue has the test.")
    aliases: list[str] = Field(default_factory=list)
    result: str = Field(min_length=1)
    reference_range: str = ""
    abnormal: bool = False
    key: bool = Field(default=False, description="A test a good doctor should order for this case.")
    cost: float = Field(ge=0, description="US dollars.")
    turnaround_hours: float = Field(ge=0)


class Diagnosis(Strict):
    name: str = Field(min_length=2)
    synonyms: list[str] = Field(default_factory=list)
    icd10: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$",
                              description="Every builtin case has one; imported cases may not.")


class DifferentialItem(Strict):
    name: str = Field(min_length=2)
    synonyms: list[str] = Field(default_factory=list)
    why_not: str = Field(default="", description="What in the case argues against it.")


def _concrete_names(names: list[str]) -> list[str]:
    vague = sorted({n for n in names if n.strip().lower() in NON_SPECIFIC_NAMES})
    if vague:
        raise ValueError(f"names must be concrete drugs, procedures or referrals, not {vague}")
    return names


def _known_classes(classes: list[str]) -> list[str]:
    class_names(classes)  # raises on an unknown class, naming the known ones
    return classes


class Named(Strict):
    """Clinical content a doctor's words can be matched against: concrete names (drugs,
    procedures, referrals) and drug-class keys of ``clinic_env/drug_classes.json``, whose members
    count as named too; ``clinic_env.drug_lexicon`` adds every other name of each drug."""

    names: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list)

    _names = field_validator("names")(_concrete_names)
    _classes = field_validator("classes")(_known_classes)

    def all_names(self) -> list[str]:
        """The names, every member of the classes, and the lexicon's other names of each drug and
        of the products containing it, each once."""
        return expand_names([*self.names, *class_names(self.classes)])


class FirstLineItem(Named):
    """One first-line step: display text (also the LLM judge's criterion) and what it asks."""

    text: str = Field(min_length=3)
    act: Act

    @model_validator(mode="after")
    def _named_unless_advice(self) -> FirstLineItem:
        if self.act not in ("advise", "monitor") and not (self.names or self.classes):
            raise ValueError(f"first-line item {self.text!r} ({self.act}) names no drug, procedure or referral")
        return self


class Management(Strict):
    first_line: list[FirstLineItem] = Field(min_length=1, description="First-line steps.")
    disposition: Disposition
    disposition_text: str = Field(min_length=3)
    other: list[str] = Field(default_factory=list, description="Advice, safety-netting, follow-up.")


class Contraindication(Named):
    """A treatment this patient must not get now: what it is, why, and how to tell its use from a
    mere mention."""

    treatment: str = Field(min_length=2)
    reason: str = Field(min_length=3)
    near: list[str] = Field(default_factory=list, description=(
        "When only one use of the drug is wrong (a timing, a form, a route): words of which one must "
        "stand within four words of its name ('first litre' for potassium in DKA, 'bolus' for insulin "
        "in HHS). Empty: every use is wrong."))
    critical: bool = Field(default=True, description=(
        "False for low-value care (no benefit for this patient, some cost or harm: antibiotics for a "
        "viral cold): penalised, but it does not cap the reward as dangerous care does."))
    spares: list[str] = Field(default_factory=list, description=(
        "Products the drug lexicon reaches from the names that are safe here because a partner drug "
        "removes the harm: co-amoxiclav for an isolate resistant to amoxicillin but not to co-amoxiclav."))
    without: list[str] = Field(default_factory=list, description=(
        "Harmful only as the whole treatment: given without any of these treatments that do treat "
        "the condition (folic acid without B12, azithromycin without ceftriaxone or doxycycline). "
        "Names, expanded like any other; ``near`` is then not used."))

    @model_validator(mode="after")
    def _named(self) -> Contraindication:
        if not (self.names or self.classes):
            raise ValueError(f"contraindication {self.treatment!r} names no concrete drug, procedure or class")
        if any(not n.strip() for n in self.near):
            raise ValueError(f"contraindication {self.treatment!r}: near words must not be empty")
        if self.without and self.near:
            raise ValueError(f"contraindication {self.treatment!r}: 'without' reads every use, so it takes no near words")
        if any(not n.strip() for n in self.without):
            raise ValueError(f"contraindication {self.treatment!r}: 'without' names must not be empty")
        reached = {name_key(n) for n in super().all_names()}
        unreached = [n for n in self.spares if name_key(n) not in reached]
        if unreached:
            raise ValueError(f"contraindication {self.treatment!r} spares {unreached}, which it does not name")
        return self

    def all_names(self) -> list[str]:
        """Every name of the contraindicated drugs and of the products containing them, less the
        products it spares (under any of their names)."""
        spared = {name_key(n) for n in expand_names(self.spares)}
        return [n for n in super().all_names() if name_key(n) not in spared]


class RedFlag(Strict):
    """A danger feature present in the case, and the words that name it."""

    text: str = Field(min_length=3)
    names: list[str] = Field(min_length=1)


class Case(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    title: str = Field(min_length=3, description="A neutral title that does not name the diagnosis.")
    specialty: Specialty
    split: Literal["train", "test"]
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    informant: Literal["patient", "parent", "partner", "carer"] = "patient"
    demographics: Demographics
    chief_complaint: str = Field(min_length=3)
    opening_statement: str = Field(min_length=5, description="The patient's first words, lay wording.")
    history: list[HistoryFact] = Field(min_length=3)
    pertinent_negatives: list[PertinentNegative] = Field(default_factory=list)
    past_history: list[Item] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    allergies: list[Allergy] = Field(default_factory=list)
    social_history: list[Item] = Field(default_factory=list)
    family_history: list[Item] = Field(default_factory=list)
    sexual_history: list[Item] = Field(default_factory=list)
    travel_history: list[Item] = Field(default_factory=list)
    obstetric_history: list[Item] = Field(default_factory=list)
    review_of_systems: dict[RosSystem, str] = Field(
        default_factory=dict, description="Body system -> the patient's lay answer when asked about it."
    )
    exam: dict[ExamSystem, str] = Field(min_length=1, description="Findings by system; unlisted systems are normal.")
    tests: list[TestResult] = Field(min_length=1)
    diagnosis: Diagnosis
    differential: list[DifferentialItem] = Field(default_factory=list, description="Builtin cases have 3+.")
    management: Management | None = Field(default=None, description="Builtin cases have it; imported ones may "
                                          "not (AgentClinic's have none): their rubric has no treatment criteria.")
    red_flags: list[RedFlag] = Field(default_factory=list, description="Danger features present in this case.")
    contraindications: list[Contraindication] = Field(default_factory=list)

    @model_validator(mode="after")
    def _withheld_is_contraindicated(self) -> Case:
        """Naming what a stop/avoid item withholds is harm, so a contraindication must cover it."""
        covered = {n.lower() for c in self.contraindications for n in c.all_names()}
        for item in self.management.first_line if self.management else []:
            missing = [n for n in item.all_names() if item.act in WITHHOLD_ACTS and n.lower() not in covered]
            if missing:
                raise ValueError(f"first-line item {item.text!r} ({item.act}) withholds {missing}, "
                                 "which no contraindication names")
        return self

    @field_validator("tests")
    @classmethod
    def _unique_test_names(cls, tests: list[TestResult]) -> list[TestResult]:
        names = [t.name.lower() for t in tests]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"test names must be unique, repeated: {duplicated}")
        return tests

    def __hash__(self) -> int:
        """By id, so per-case work (examiner tables, rubrics) can be cached; equality still compares fields."""
        return hash(self.id)

    @property
    def diagnosis_names(self) -> list[str]:
        """The diagnosis and all its synonyms: what a correct answer may be called."""
        return [self.diagnosis.name, *self.diagnosis.synonyms]

    def patient_view(self) -> PatientProfile:
        """What the patient knows: the history, never the diagnosis or the plan."""
        return PatientProfile(
            case_id=self.id,
            informant=self.informant,
            demographics=self.demographics,
            chief_complaint=self.chief_complaint,
            opening_statement=self.opening_statement,
            history=self.history,
            pertinent_negatives=self.pertinent_negatives,
            past_history=self.past_history,
            medications=self.medications,
            allergies=self.allergies,
            social_history=self.social_history,
            family_history=self.family_history,
            sexual_history=self.sexual_history,
            travel_history=self.travel_history,
            obstetric_history=self.obstetric_history,
            review_of_systems=self.review_of_systems,
        )


class PatientProfile(Strict):
    """The patient-side facts of a case. It has no field that could hold the diagnosis."""

    case_id: str
    informant: Literal["patient", "parent", "partner", "carer"]
    demographics: Demographics
    chief_complaint: str
    opening_statement: str
    history: list[HistoryFact]
    pertinent_negatives: list[PertinentNegative]
    past_history: list[Item]
    medications: list[Medication]
    allergies: list[Allergy]
    social_history: list[Item]
    family_history: list[Item]
    sexual_history: list[Item]
    travel_history: list[Item]
    obstetric_history: list[Item]
    review_of_systems: dict[RosSystem, str]
