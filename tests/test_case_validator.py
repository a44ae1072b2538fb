"""The clinical-coherence validator: each rule over case fields, and the builtin library through it."""

from __future__ import annotations

from typing import Any

import pytest

from clinic_env.cases.library import load_cases
from clinic_env.cases.schema import Allergy, Case, FirstLineItem, Item, Medication
from clinic_env.cases.validator import KINDS, case_conflicts, count_conflicts, news2

# Builtin cases whose one conflict a clinician may defend; each says why it is kept.
REVIEWED = {
    # NEWS2 6 (RR 24, SpO2 93% on air, 38.9°C, HR 104) managed at home: the case argues from
    # CURB-65 0 and the 92% saturation level of the GP guidance; NEWS2 asks for same-day review.
    "pulm_cap_adult": ["disposition"],
}


@pytest.fixture(scope="module")
def gout() -> Case:
    """A clean adult case: naproxen or colchicine first line, vitals normal, the patient speaks."""
    case = next(c for c in load_cases() if c.id == "rheum_acute_gout")
    assert case_conflicts(case) == []
    return case


def changed(case: Case, **fields: Any) -> Case:
    demographics = fields.pop("demographics", None)
    if demographics:
        fields["demographics"] = case.demographics.model_copy(update=demographics)
    return case.model_copy(update=fields)


def kinds(case: Case) -> list[str]:
    return sorted(c.kind for c in case_conflicts(case))


def history(*texts: str) -> list[Item]:
    return [Item(text=t, lay="As the doctor said.") for t in texts]


def test_a_child_or_a_patient_without_capacity_does_not_tell_their_own_history(gout):
    child = {"age_years": 9, "occupation": "school pupil"}
    assert kinds(changed(gout, demographics=child, social_history=[])) == ["informant"]
    assert kinds(changed(gout, demographics=child, social_history=[], informant="parent")) == []
    admitted = changed(gout, management=gout.management.model_copy(update={"disposition": "admit"}))
    for sign in ("Disorientated in time and place", "GCS 13", "GCS 14 (E4 V4 M6)", "Expressive dysphasia"):
        assert kinds(changed(admitted, exam={**gout.exam, "neurological": sign})) == ["informant"], sign
    assert kinds(changed(admitted, exam={**gout.exam, "neurological": "Disorientated"}, informant="carer")) == []
    for fine in ("Not confused; GCS 15", "Drowsy but oriented, GCS 14 (E3 V5 M6)", "No dysphasia"):
        assert kinds(changed(gout, exam={**gout.exam, "neurological": fine})) == [], fine
    # new confusion is also a NEWS2 parameter in the red: not a case for GP follow-up
    assert kinds(changed(gout, exam={**gout.exam, "neurological": "Disorientated"}, informant="carer")) \
        == ["disposition"]


def test_a_first_line_drug_the_patient_must_not_get_is_a_conflict(gout):
    assert kinds(changed(gout, past_history=history("Chronic kidney disease stage 3b"))) == ["first_line"]
    assert kinds(changed(gout, past_history=history("Obesity; no kidney disease or ulcers"))) == []
    assert kinds(changed(gout, past_history=history("Peptic ulcer in 2019"))) == ["first_line"]
    on_apixaban = [*gout.medications, Medication(name="apixaban", dose="5 mg twice daily", lay="A blood thinner.")]
    assert kinds(changed(gout, medications=on_apixaban)) == ["first_line"]  # NSAIDs on an anticoagulant
    allergic = [Allergy(substance="NSAIDs", reaction="wheeze", lay="Ibuprofen makes me wheezy.")]
    assert kinds(changed(gout, allergies=allergic)) == ["first_line"]  # the class, through the lexicon


def test_beta_blockers_in_asthma_anticoagulants_twice_teratogens_and_restarts(gout):
    def first_line(*items: FirstLineItem) -> Any:
        return gout.management.model_copy(update={"first_line": list(items)})

    timolol = FirstLineItem(text="timolol 0.5% eye drops", act="give", names=["timolol"])
    bisoprolol = FirstLineItem(text="bisoprolol 2.5 mg", act="give", names=["bisoprolol"])
    asthma = history("Asthma since childhood")
    assert kinds(changed(gout, management=first_line(timolol), past_history=asthma)) == ["first_line"]
    assert kinds(changed(gout, management=first_line(bisoprolol), past_history=asthma)) == []  # cardioselective
    on_apixaban = [Medication(name="apixaban", dose="5 mg twice daily", lay="A blood thinner.")]
    alteplase = FirstLineItem(text="IV thrombolysis", act="give", classes=["thrombolytic"])
    enoxaparin = FirstLineItem(text="treatment-dose enoxaparin", act="give", names=["enoxaparin"])
    for item in (alteplase, enoxaparin):
        assert kinds(changed(gout, management=first_line(item), medications=on_apixaban)) == ["first_line"]
    ramipril = FirstLineItem(text="ramipril 2.5 mg daily", act="give", names=["ramipril"])
    pregnant = {"sex": "female", "pregnant": True, "gestation_weeks": 12}
    assert kinds(changed(gout, management=first_line(ramipril), demographics=pregnant)) == ["first_line"]
    assert kinds(changed(gout, management=first_line(ramipril))) == []
    start = FirstLineItem(text="start atorvastatin 20 mg at night", act="give", names=["atorvastatin"])
    keep = FirstLineItem(text="atorvastatin 20 mg at night", act="continue", names=["atorvastatin"])
    assert kinds(changed(gout, management=first_line(start))) == ["first_line"]  # already on it
    assert kinds(changed(gout, management=first_line(keep))) == []


def test_an_adult_protocol_for_a_child_is_a_conflict(gout):
    adult = FirstLineItem(text="0.9% sodium chloride 1 litre over the first hour", act="give", names=["saline"])
    weighed = FirstLineItem(text="0.9% sodium chloride 10 mL/kg, or 1 litre in an adult", act="give", names=["saline"])
    for item, expected in ((adult, ["child_protocol"]), (weighed, [])):
        case = changed(gout, management=gout.management.model_copy(update={"first_line": [item]}),
                       demographics={"age_years": 15, "occupation": "school pupil"}, informant="parent")
        assert kinds(case) == expected
        assert kinds(changed(case, demographics={"age_years": 18, "occupation": None}, informant="patient")) == []


def test_social_facts_fit_the_age(gout):
    grandson = [Item(text="Grandson staying last week", lay="My grandson was staying with us.")]
    assert kinds(changed(gout, social_history=grandson, demographics={"age_years": 28})) == ["social_age"] * 2
    assert kinds(changed(gout, social_history=grandson)) == []
    assert kinds(changed(gout, demographics={"age_years": 12, "occupation": "electrician"}, informant="parent")) \
        == ["social_age"]
    mother = [Item(text="Mother has thyroid disease", lay="My mum takes tablets for her thyroid.")]
    assert kinds(changed(gout, family_history=mother, demographics={"age_years": 83})) == ["social_age"]


def test_home_despite_severity_is_a_conflict(gout):
    sick = "Temperature 38.7°C, heart rate 108/min, blood pressure 118/72 mmHg, respiratory rate 24/min, SpO2 92% on air"
    case = changed(gout, exam={**gout.exam, "vitals": sick})
    assert news2(case) == (6, 2) and kinds(case) == ["disposition"]
    admitted = gout.management.model_copy(update={"disposition": "admit"})
    assert kinds(changed(case, management=admitted)) == []
    low_bp = changed(gout, exam={**gout.exam, "vitals": "heart rate 84/min, blood pressure 86/50 mmHg"})
    assert news2(low_bp) == (3, 3) and kinds(low_bp) == ["disposition"]  # one parameter in the red


def test_an_exam_of_vitals_only_is_a_conflict(gout):
    assert kinds(changed(gout, exam={"vitals": gout.exam["vitals"]})) == ["exam"]


def test_every_builtin_case_is_coherent_but_the_reviewed_ones():
    found = {case.id: kinds(case) for case in load_cases()}
    assert {case_id: k for case_id, k in found.items() if k} == REVIEWED
    assert set(count_conflicts([])) == set(KINDS)


def test_a_treatment_the_history_tells_of_is_on_the_medication_list(gout):
    insulin = [Item(text="Type 1 diabetes", lay="I've had type 1 diabetes since I was nine; I inject insulin four times a day.")]
    assert kinds(changed(gout, past_history=insulin)) == ["medications"]
    glargine = [*gout.medications, Medication(name="insulin glargine", dose="20 units at night", lay="Lantus at night.")]
    assert kinds(changed(gout, past_history=insulin, medications=glargine)) == []
    for past in ("I had asthma as a kid but haven't needed an inhaler for years.", "I was on a statin but stopped it."):
        assert kinds(changed(gout, past_history=[Item(text="History", lay=past)])) == [], past


def test_advice_fits_the_patient(gout):
    advice = ["avoid oestrogen-containing contraception if attacks come with aura", "stay off work for a week"]
    case = changed(gout, management=gout.management.model_copy(update={"other": advice}))
    assert kinds(case) == ["advice"]  # a man
    assert kinds(changed(case, demographics={"sex": "female", "age_years": 35})) == []
    assert kinds(changed(case, demographics={"sex": "female", "age_years": 70, "occupation": "retired"})) \
        == ["advice", "advice"]
