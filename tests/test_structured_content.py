"""Structured clinical content: first-line items with an act, named contraindications, the drug
classes behind them, and the rubric criteria they become, read as an LLM doctor writes."""

import json
import re

import pytest

from clinic_env.case_rubric import build_case_rubric
from clinic_env.cases.library import CaseError, get_case, parse_case
from clinic_env.drug_lexicon import class_names, drug_classes
from clinic_rubrics.offline_grader import OfflineGrader


def met(case_id: str, plan: str) -> set[str]:
    rubric = build_case_rubric(get_case(case_id))
    conversation = [{"role": "doctor", "content": f"DIAGNOSE: x\nPLAN: {plan}"}]
    return {v.criterion_id for v in OfflineGrader().grade(conversation, rubric) if v.met}


def criterion(case_id: str, prefix: str, words: str) -> str:
    """The id of the case's criterion of this kind whose text contains ``words``."""
    rubric = build_case_rubric(get_case(case_id))
    return next(c.id for c in rubric.criteria if c.id.startswith(prefix) and words in c.text)


# ---- stop / avoid items are met by withholding, never by naming ---------------------------------

@pytest.mark.parametrize("plan, stopped", [
    ("Stop the lamotrigine now and never restart it.", True),
    ("Lamotrigine is contraindicated from now on.", True),
    ("Hold the lamotrigine.", True),
    ("Continue lamotrigine at the same dose.", False),
    ("Increase the lamotrigine to 100 mg.", False),
])
def test_a_stop_item_is_met_only_by_stopping(plan, stopped):
    stop = criterion("derm_stevens_johnson", "treatment_", "stop lamotrigine")
    assert (stop in met("derm_stevens_johnson", plan)) is stopped


def test_continuing_what_should_be_stopped_is_harm():
    harm = criterion("derm_stevens_johnson", "contraindicated_", "lamotrigine")
    assert harm in met("derm_stevens_johnson", "Continue lamotrigine and add an antihistamine.")
    assert harm not in met("derm_stevens_johnson", "Stop lamotrigine; it caused this reaction.")
    assert harm not in met("derm_stevens_johnson", "This is SJS, most likely caused by lamotrigine.")


def test_every_withheld_name_is_covered_by_a_contraindication(cases):
    for case in cases:
        covered = {n.lower() for c in case.contraindications for n in c.all_names()}
        for item in case.management.first_line:
            if item.act in ("stop", "avoid"):
                assert {n.lower() for n in item.all_names()} <= covered, (case.id, item.text)


@pytest.mark.parametrize("plan, harmful", [
    # naming a medicine the patient takes explains; going on with it is the harm
    ("Your kidneys have been strained by the dehydration, together with the ibuprofen and ramipril.", False),
    ("Stop the ibuprofen for good and hold the ramipril.", False),
    ("Restart the ramipril once your kidney function is back to normal.", False),
    ("Keep taking the ibuprofen for your knees.", True),
    ("Ibuprofen 400 mg three times a day for the knees.", True),
    ("Carry on with the ibuprofen.", True),
    ("The ibuprofen can continue.", True),
    ("Naproxen for the knee pain instead.", True),  # a new NSAID is harm whenever it is given
    ("Continue atorvastatin, paracetamol and ibuprofen as before.", True),  # a list after the cue
    ("Ibuprofen: continue for the knees.", True),
    ("Leave the ibuprofen as it is for now.", True),
    ("Continue the atorvastatin, but stop the ibuprofen.", False),
    ("The Advil you bought has strained your kidneys.", False),  # her ibuprofen under another name
    ("Keep taking the Nurofen for your knees.", True),
    ("Admit; Nurofen for the knee pain.", True),  # an indication makes it a prescription
    ("Paracetamol is not enough, so ibuprofen instead.", True),
    ("Ibuprofen continued.", True),
])
def test_a_contraindicated_current_medicine_counts_when_continued(plan, harmful):
    nsaid = criterion("uro_acute_kidney_injury", "contraindicated_", "NSAIDs")
    assert (nsaid in met("uro_acute_kidney_injury", plan)) is harmful


@pytest.mark.parametrize("case_id, words, plan, harmful", [
    ("endo_dka", "potassium", "1 L 0.9% saline with 40 mmol potassium chloride over the first hour.", True),
    ("endo_dka", "potassium", "Add KCl to the first bag.", True),
    ("endo_dka", "potassium", "No potassium in the first litre because his potassium is 5.9.", False),
    ("endo_dka", "potassium", "1 L saline over the first hour. Add potassium once it is below 5.5.", False),
    ("endo_hhs", "insulin bolus", "10 units of Actrapid IV as a bolus now.", True),
    ("endo_hhs", "insulin bolus", "Fixed-rate insulin at 0.05 units/kg/h once glucose stops falling.", False),
    ("endo_hhs", "insulin bolus", "A 1 L saline bolus; fixed-rate insulin later.", False),
])
def test_a_contraindication_of_one_use_needs_its_near_words(case_id, words, plan, harmful):
    harm = criterion(case_id, "contraindicated_", words)
    assert (harm in met(case_id, plan)) is harmful


def test_low_value_care_is_penalised_without_the_harm_gate():
    data = _record(**{"contraindications.0.critical": False})
    rubric = build_case_rubric(parse_case(data))
    harm = next(c for c in rubric.criteria if c.id == "contraindicated_0")
    assert (harm.points, harm.critical, "of no benefit here" in harm.text) == (-5, False, True)
    gated = next(c for c in build_case_rubric(parse_case(_record())).criteria if c.id == "contraindicated_0")
    assert (gated.points, gated.critical) == (-10, True)


# ---- give items are met by the drug, a synonym, a brand or a class member ----------------------

@pytest.mark.parametrize("plan, given", [
    ("Give IV alteplase now, 0.9 mg/kg.", True),
    ("She needs clot-busting treatment straight away.", True),
    ("I'll thrombolyse her with tenecteplase.", True),
    ("Thrombolysis is contraindicated here.", False),
    ("We'll check her blood pressure and prevent another stroke.", False),
])
def test_a_give_item_is_met_by_an_affirmed_name(plan, given):
    lysis = criterion("neuro_ischaemic_stroke", "treatment_", "thrombolysis")
    assert (lysis in met("neuro_ischaemic_stroke", plan)) is given


# ---- contraindications fire on names and class members, affirmed and not asked ------------------

@pytest.mark.parametrize("plan, harmful", [
    ("Start enoxaparin and ticagrelor, then the cath lab.", True),
    ("Give Clexane 1 mg/kg now.", True),
    ("Thrombolysis is contraindicated here, and no heparin.", False),
    ("No heparin, no clopidogrel, no cath lab: she needs the surgeons.", False),
    ("Should we give heparin?", False),
])
def test_an_anticoagulant_contraindication(plan, harmful):
    anticoagulation = criterion("cardio_aortic_dissection", "contraindicated_", "heparin")
    assert (anticoagulation in met("cardio_aortic_dissection", plan)) is harmful


@pytest.mark.parametrize("plan, harmful", [
    ("Start the pill again next month, Microgynon is fine.", True),
    ("Stop the combined pill now and use a copper coil.", False),
    ("You need non-oestrogen contraception, such as a copper coil.", False),
    ("The clot was provoked by the combined pill and the flight.", False),
])
def test_an_oestrogen_contraindication(plan, harmful):
    oestrogen = criterion("haem_deep_vein_thrombosis", "contraindicated_", "oestrogen")
    assert (oestrogen in met("haem_deep_vein_thrombosis", plan)) is harmful


def test_an_allergy_or_a_cause_names_a_drug_without_recommending_it():
    amoxicillin = criterion("derm_cellulitis", "contraindicated_", "amoxicillin")
    assert amoxicillin in met("derm_cellulitis", "Give amoxicillin 500 mg three times a day.")
    for plan in ("Because he had anaphylaxis to amoxicillin, give clarithromycin.",
                 "Amoxicillin caused anaphylaxis, so clarithromycin instead.",
                 "With his amoxicillin allergy, clarithromycin it is."):
        assert amoxicillin not in met("derm_cellulitis", plan), plan


# ---- every name of a drug: brands, US names and the products that contain it --------------------

@pytest.mark.parametrize("case_id, words, plan", [
    ("uro_acute_kidney_injury", "NSAIDs", "For the knee pain, Motrin 600 mg three times a day."),
    ("uro_acute_kidney_injury", "NSAIDs", "Toradol 30 mg IM for the pain."),
    ("geri_delirium_uti", "trimethoprim", "Start Bactrim DS one tablet twice daily for the UTI."),
    ("geri_delirium_uti", "trimethoprim", "Treat with trimethoprim-sulfamethoxazole for five days."),
    ("cardio_atypical_nstemi", "heparin", "Give Lovenox 1 mg/kg subcutaneously now."),
    ("pulm_tuberculosis", "fluoroquinolone", "Start Levaquin 750 mg daily for the pneumonia."),
    ("psych_panic_disorder", "benzodiazepines", "Ativan 1 mg as needed for the attacks."),
    ("gi_cholecystitis", "ceftriaxone", "Rocephin 2 g IV once daily."),
    ("endo_primary_hyperparathyroidism", "calcium supplements", "Start Adcal-D3 one tablet twice a day."),
])
def test_a_contraindicated_drug_is_harm_under_any_name_and_inside_a_product(case_id, words, plan):
    assert criterion(case_id, "contraindicated_", words) in met(case_id, plan)


@pytest.mark.parametrize("case_id, words, plan", [
    ("geri_delirium_uti", "ceftriaxone", "Start Keflex 500 mg twice daily."),
    ("geri_delirium_uti", "ceftriaxone", "Give cephalexin 500 mg twice daily."),
    ("em_anaphylaxis", "adrenaline", "Give IM epinephrine 0.5 mg now."),
    ("pulm_asthma_exacerbation", "salbutamol", "Albuterol 5 mg nebulised back to back."),
    ("cardio_stable_angina", "GTN", "Nitrostat spray under the tongue for any chest pain."),
    ("cardio_heart_failure", "furosemide", "Lasix 40 mg IV now."),
])
def test_a_first_line_drug_is_met_by_its_other_names(case_id, words, plan):
    assert criterion(case_id, "treatment_", words) in met(case_id, plan)


def test_a_contraindication_spares_a_product_whose_partner_removes_the_harm():
    """The isolate resists amoxicillin, not co-amoxiclav: clavulanate blocks its beta-lactamase."""
    resisted = criterion("paeds_febrile_uti_infant", "contraindicated_", "amoxicillin")
    assert resisted in met("paeds_febrile_uti_infant", "Oral amoxicillin 125 mg three times a day.")
    assert resisted not in met("paeds_febrile_uti_infant", "Oral co-amoxiclav 125/31 three times a day.")
    assert resisted not in met("paeds_febrile_uti_infant", "Oral Augmentin three times a day.")


def test_a_product_named_harmful_does_not_make_its_ingredients_harmful():
    codeine = criterion("uro_acute_kidney_injury", "contraindicated_", "codeine")
    assert codeine in met("uro_acute_kidney_injury", "Co-codamol 30/500 two tablets four times a day.")
    assert codeine not in met("uro_acute_kidney_injury", "Paracetamol 1 g four times a day for the knees.")
    opioids = criterion("psych_major_depression", "contraindicated_", "co-codamol")
    assert opioids not in met("psych_major_depression", "Paracetamol 1 g as needed for the headaches.")


# ---- the drug-class table and the schema's checks ---------------------------------------------

def test_drug_classes_hold_generics_and_brands():
    assert {"enoxaparin", "Clexane", "apixaban"} <= set(class_names(["anticoagulant"]))
    # low-dose aspirin is an antiplatelet: a case that means aspirin under "NSAIDs" names it
    assert "aspirin" not in class_names(["nsaid"]) and "aspirin" in class_names(["antiplatelet"])
    nsaid = criterion("cardio_heart_failure", "contraindicated_", "NSAIDs")
    assert nsaid not in met("cardio_heart_failure", "Aspirin: continue. Furosemide 80 mg IV twice daily.")
    assert nsaid in met("cardio_heart_failure", "Naproxen 250 mg twice daily for the knee.")
    assert all(names for names in drug_classes().values())
    with pytest.raises(ValueError, match="unknown drug classes"):
        class_names(["anticoagulants"])


def _record(**changes):
    data = json.loads(get_case("cardio_acute_pericarditis").model_dump_json())
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize("changes, message", [
    ({"contraindications.0.names": [], "contraindications.0.classes": []}, "names no concrete drug"),
    ({"contraindications.0.names": ["medication"]}, "not ['medication']"),
    ({"contraindications.0.classes": ["steroids"]}, "unknown drug classes"),
    ({"contraindications.0.near": [" "]}, "near words must not be empty"),
    ({"contraindications.0.near": ["alone"], "contraindications.0.without": ["colchicine"]}, "'without' reads every use"),
    ({"contraindications.0.spares": ["co-codamol"]}, "spares ['co-codamol'], which it does not name"),
    ({"management.first_line.1.names": [], "management.first_line.1.classes": []}, "names no drug, procedure"),
    ({"management.first_line.1.act": "stop"}, "which no contraindication names"),
])
def test_vague_or_uncovered_content_is_a_clear_error(changes, message):
    with pytest.raises(CaseError, match=re.escape(message)) as err:
        parse_case(_record(**changes), "pericarditis.json")
    assert str(err.value).startswith("pericarditis.json: case cardio_acute_pericarditis:")


def test_advice_may_name_nothing():
    data = _record(**{"management.first_line.1.act": "advise", "management.first_line.1.names": [],
                      "management.first_line.1.classes": []})
    assert parse_case(data).management.first_line[1].act == "advise"
