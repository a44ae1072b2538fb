"""Issue 16: results for tests a case does not list fit the patient, and every case answers the same orders.

The rules live in ``clinic_env.derived_results``; the judge of a report is the automatic checker of
``clinic_env.bench.examiner_eval`` (physiological rules over the report text and the case state).
"""

from __future__ import annotations

import json
import re

import gymnasium as gym
import pytest

import clinic_env  # noqa: F401  (registers the env)
from cli.main import main
from clinic_env.bench.examiner_eval import DataError, inconsistencies, load_orders, run_examiner_eval
from clinic_env.cases.generator import CaseGenerator
from clinic_env.cases.library import builtin_cases, get_case
from clinic_env.cases.schema import Item, Medication
from clinic_env.derived_results import patient_state
from clinic_env.examiner import Examiner, KnownTests, Report
from clinic_env.investigations import CATALOG, lookup

ORDERS = "tests/data/examiner_orders"
CHECKED = ["ECG", "24 hour Holter", "ABG", "VBG", "HbA1c", "glucose", "urine hCG", "serum hCG", "leg Doppler", "FBC",
           "U&Es", "coag screen", "pelvic ultrasound", "pulse oximetry"]


def _variant(case_id: str, **update):
    """A builtin case with some fields replaced (a new id, so per-case caches keep them apart)."""
    case = get_case(case_id)
    return case.model_copy(update={"id": case.id + "_variant", **update})


def _without(case_id: str, test: str):
    """A builtin case that does not list ``test``."""
    return _variant(case_id, tests=[t for t in get_case(case_id).tests if t.name != test])


def _unlisted(case, order: str) -> str:
    report = Examiner(case).order(order)
    assert report.resolved is not None and not report.from_case, (case.id, order, report)
    return report.text


def test_ecg_rate_and_rhythm_follow_the_pulse():
    assert _unlisted(get_case("derm_stevens_johnson"), "ECG").startswith("Sinus tachycardia 114/min")
    assert _unlisted(get_case("paeds_bronchiolitis"), "ECG").startswith("Sinus tachycardia 168/min")  # > 160 at 4 months
    assert _unlisted(get_case("paeds_acute_otitis_media"), "ECG").startswith("Sinus rhythm 138/min")  # normal at 20 months
    vitals = "Temperature 36.8°C, heart rate 132/min irregularly irregular, blood pressure 126/80 mmHg."
    af = _variant("derm_stevens_johnson", exam={**get_case("derm_stevens_johnson").exam, "vitals": vitals})
    assert _unlisted(af, "ECG").startswith("Atrial fibrillation, ventricular rate about 132/min")
    assert _unlisted(af, "Holter").startswith("Atrial fibrillation throughout")


def test_blood_gas_po2_follows_the_saturation_and_a_venous_gas_reports_none():
    low = _unlisted(get_case("pulm_pulmonary_embolism"), "ABG")  # SpO2 93%, RR 24
    po2 = float(re.search(r"pO2 ([\d.]+) kPa", low).group(1))
    pco2 = float(re.search(r"pCO2 ([\d.]+) kPa", low).group(1))
    assert 8.5 <= po2 <= 10 and pco2 < 4.7
    assert float(re.search(r"pO2 ([\d.]+)", _unlisted(get_case("psych_panic_disorder"), "ABG")).group(1)) >= 12
    assert "pO2" not in _unlisted(get_case("psych_panic_disorder"), "VBG")


def test_a_reported_bicarbonate_and_potassium_carry_into_a_gas_with_its_ph():
    gas = _unlisted(get_case("psych_anorexia_nervosa"), "VBG")  # the case's chemistry: HCO3 32, K 2.9
    assert "HCO3 32" in gas and "K 2.9" in gas and float(re.search(r"pH ([\d.]+)", gas).group(1)) > 7.40


def test_diabetes_raises_glucose_and_hba1c_and_a_reported_value_is_kept():
    assert _unlisted(get_case("gi_colorectal_cancer"), "glucose").startswith("Glucose 9.6")  # type 2, metformin
    assert _unlisted(get_case("endo_dka"), "HbA1c").startswith("HbA1c 71 mmol/mol")  # "last HbA1c 71"
    assert _unlisted(get_case("rheum_polymyalgia_rheumatica"), "HbA1c").startswith("HbA1c 44")  # non-diabetic hyperglycaemia
    assert _unlisted(get_case("derm_stevens_johnson"), "glucose").startswith("Glucose 6.9")  # its BMP's glucose
    assert _unlisted(get_case("derm_scabies"), "HbA1c").startswith("HbA1c 36")


def test_a_csf_glucose_is_not_a_blood_glucose():
    meningitis = CaseGenerator().generate(220).case  # CSF glucose 1.4 in a type 2 diabetic
    assert "1.4" not in _unlisted(meningitis, "glucose")


def test_pregnancy_makes_hcg_positive_and_the_pelvic_scan_show_it():
    pregnant = _without("obgyn_placental_abruption", "pelvic ultrasound")  # 33 weeks
    assert "positive" in _unlisted(pregnant, "serum hCG")
    scan = _unlisted(pregnant, "pelvic ultrasound")
    assert "Gravid uterus" in scan and "33 weeks" in scan and "Normal uterus" not in scan
    early = _unlisted(_without("obgyn_hyperemesis_gravidarum", "pelvic ultrasound"), "pelvic ultrasound")  # 9 weeks: where is not known
    assert "not confirmed" in early and "intrauterine" not in early
    assert "negative" in _unlisted(get_case("derm_scabies"), "urine hCG")


def test_a_positive_listed_pregnancy_test_counts_as_pregnancy():
    """The ectopic case's demographics say nothing of a pregnancy its urine test shows."""
    case = get_case("obgyn_ectopic_pregnancy")
    assert not case.demographics.pregnant
    assert "positive" in Examiner(case).order("serum hCG").text.lower()


def test_a_swollen_tender_calf_makes_a_doppler_indeterminate_never_clear():
    doppler = _unlisted(get_case("pulm_pulmonary_embolism"), "Doppler USS left leg")
    assert "not excluded" in doppler and "no thrombus" not in doppler.lower()
    assert "no thrombus" in _unlisted(get_case("psych_panic_disorder"), "leg doppler")


def test_haemoglobin_and_creatinine_ranges_follow_age_and_sex():
    man, woman, infant = (_unlisted(_without(c, "complete blood count"), "FBC")
                          for c in ("eye_retinal_detachment", "cardio_atypical_nstemi", "paeds_acute_otitis_media"))
    assert "Hb 13.0-17.0" in man and "Hb 12.0-15.5" in woman and "Hb 10.5-13.5" in infant
    assert "creatinine 30 umol/L" in _unlisted(get_case("paeds_acute_otitis_media"), "U&Es")
    assert "creatinine 85 umol/L" in _unlisted(get_case("psych_panic_disorder"), "U&Es")


def test_kidney_disease_raises_creatinine_and_warfarin_the_inr():
    base = get_case("psych_panic_disorder")
    ckd = _variant("psych_panic_disorder", past_history=[
        *base.past_history, Item(text="Chronic kidney disease stage 3b", lay="My kidneys don't work properly.")])
    assert int(re.search(r"creatinine (\d+)", _unlisted(ckd, "U&Es")).group(1)) > 110
    warfarin = _variant("psych_panic_disorder", medications=[
        Medication(name="warfarin", dose="3 mg daily", lay="a blood thinner, warfarin")])
    assert float(re.search(r"INR ([\d.]+)", _unlisted(warfarin, "coag screen")).group(1)) >= 2
    assert _unlisted(base, "coag screen").startswith("INR 1.0")


def test_known_copd_makes_spirometry_obstructive():
    assert "obstructive" in _unlisted(get_case("pulm_copd_exacerbation"), "spirometry")
    assert "FEV1/FVC 0.80" in _unlisted(get_case("psych_panic_disorder"), "spirometry")


def test_unlisted_results_fit_every_patient_builtin_and_generated():
    """The checker over every builtin case and 200 generated ones: no derived result contradicts the patient."""
    cases = [*builtin_cases(), *(CaseGenerator().generate(seed).case for seed in range(200))]
    problems = []
    for case in cases:
        examiner = Examiner(case)
        for order in CHECKED:
            report = examiner.order(order)
            if not report.from_case:
                problems += [f"{case.id} {order}: {p}" for p in inconsistencies(report, case)[1]]
    assert not problems, problems[:10]


def test_no_derived_result_names_the_diagnosis():
    """Except what the patient's state already shows: AF on a rhythm strip with an irregularly irregular pulse."""
    for case in builtin_cases():
        shown = "fibrillation" if patient_state(case).irregular_rhythm else None
        names = [n.lower() for n in case.diagnosis_names if len(n) > 4 and (shown is None or shown not in n.lower())]
        examiner = Examiner(case)
        for item in CATALOG:
            report = examiner.order(item.name)
            if not report.from_case:
                text = report.text.lower()
                assert not any(re.search(rf"\b{re.escape(n)}\b", text) for n in names), (case.id, item.name, text)


def test_every_builtin_test_ordered_in_every_builtin_case_is_answered():
    """Ordering a test reveals nothing: what one case lists, every other answers too."""
    cases = builtin_cases()
    names = sorted({test.name for case in cases for test in case.tests})
    missing = [(case.id, name) for case in cases for name in names if Examiner(case).order(name).resolved is None]
    assert not missing, missing[:10]


def test_a_pool_case_test_outside_the_catalogue_is_answered_in_every_case_of_the_pool():
    base = get_case("derm_scabies")
    extra = base.tests[0].model_copy(update={"name": "zebra antibody", "aliases": ["zab"], "result": "Zebra antibody 40 U/mL",
                                             "abnormal": True})
    odd = _variant("derm_scabies", tests=[*base.tests, extra])
    other = get_case("psych_panic_disorder")
    assert Examiner(other).order("zebra antibody").resolved is None  # unknown to a one-case pool
    pooled = Examiner(other, known=KnownTests([odd, other])).order("ZAB")
    assert pooled.resolved == "zebra antibody" and not pooled.from_case and "40" not in pooled.text
    env = gym.make("clinic_env/Consultation-v0", cases=[odd, other])
    env.reset(seed=0, options={"case_id": other.id})
    obs, *_ = env.step("ORDER: zebra antibody")
    assert "No abnormality detected" in obs


def test_the_order_set_floors(tmp_path):
    """tests/data/examiner_orders: recognition 228/228 and consistency 126/126 when measured (173/228
    and 67/78 before the catalogue grew and results were derived); the floors sit just under."""
    summary = run_examiner_eval(ORDERS, list(builtin_cases()))
    assert summary["recognition"] >= 0.99 and summary["consistency"] >= 0.98
    assert all(target["met"] for target in summary["targets"])


def test_the_blind_order_sets_floors():
    """tests/data/examiner_orders_blind: 2,149 orders by nine more clinicians over all 105 cases,
    each set written without sight of the examiner. First runs, each after rules written from the
    sets before it: D 76.9%, E 87.2%, F 87.4%, G 89.3%, H 94.7%, I 89.8% and J 92.8% (orders as an
    LLM doctor writes them: "Could you send a kidney profile as well?"), K 89.5% (reasons after a
    comma: "CK, given the chest pain"), L 95.4%: issue 16's 97% is not met on orders never seen.
    After rules and catalogue entries written from all nine: 99.5% recognised, every rule-checked
    result consistent. The floors sit just under."""
    summary = run_examiner_eval(ORDERS + "_blind", list(builtin_cases()))
    assert summary["n_orders"] == 2149
    assert summary["recognition"] >= 0.99 and summary["consistency"] >= 0.98


def test_patient_eval_measures_the_examiner_on_a_folder_of_orders(tmp_path, capsys):
    assert main(["patient-eval", "--data", ORDERS, "--out", str(tmp_path / "pe")]) == 0
    out = capsys.readouterr().out
    assert "examiner recognition (228 orders)" in out and "[met] examiner consistency >= 95%" in out
    summary = json.loads((tmp_path / "pe" / "summary.json").read_text())
    assert summary["examiner"]["n_orders"] == 228


@pytest.mark.parametrize("line, message", [
    ('{"case_id": "nope", "order": "FBC", "listed": null, "must": [], "must_not": []}', "unknown case 'nope'"),
    ('{"case_id": "derm_scabies", "order": "FBC", "listed": "unicorn scan", "must": [], "must_not": []}',
     "'unicorn scan' is not a test of case derm_scabies"),
    ('{"case_id": "derm_scabies", "order": "FBC", "listed": null, "must": []}', "field must_not"),
    ("not json", "not valid JSON"),
])
def test_a_bad_order_line_is_named_by_file_and_line(tmp_path, line, message):
    (tmp_path / "orders_x.jsonl").write_text('{"case_id": "derm_scabies", "order": "FBC", "listed": null, '
                                             '"must": [], "must_not": []}\n' + line + "\n")
    with pytest.raises(DataError, match=re.escape("orders_x.jsonl:2: ") + ".*" + re.escape(message)):
        load_orders(tmp_path, {case.id: case for case in builtin_cases()})


def test_every_builtin_case_test_is_a_catalogue_entry_or_an_alias_of_one():
    missing = sorted({t.name for case in builtin_cases() for t in case.tests if lookup(t.name) is None})
    assert not missing, missing


def test_osmolality_is_calculated_from_the_case_chemistry_and_abpm_from_the_clinic_pressure():
    assert _unlisted(get_case("endo_dka"), "serum osmolality").startswith("Osmolality 305")  # 2 x 131 + 31.4 + 11.8
    assert _unlisted(get_case("psych_panic_disorder"), "serum osmolality").startswith("Osmolality 288")
    assert _unlisted(get_case("cardio_stable_angina"), "ABPM").startswith("Daytime average 142/85")  # clinic 152/90


def test_a_confused_patient_does_not_score_normally_on_a_cognitive_screen():
    """The examination's own 4AT is the result; a confused patient it does not score scores 7."""
    delirium = get_case("geri_delirium_uti")
    assert _unlisted(delirium, "4AT").startswith("At examination: 4AT score 11/12")
    unscored = _variant("geri_delirium_uti", exam={k: re.sub(r"4AT score \d+/12[;,.]?", "", v, flags=re.I)
                                                   for k, v in delirium.exam.items()})
    assert _unlisted(unscored, "4AT").startswith("4AT score 7")
    assert _unlisted(get_case("psych_panic_disorder"), "4AT").startswith("4AT score 0")


def test_a_derived_panel_states_the_values_the_case_reports_in_another_test():
    """The bone profile shares ALP and albumin with the listed LFTs (a clinician judge flagged ALP 80
    beside the case's ALP 148); a U&E shares the creatinine of a panel the catalogue does not know."""
    bone = _unlisted(get_case("rheum_polymyalgia_rheumatica"), "bone profile")
    assert "ALP 148 U/L" in bone and "albumin 36 g/L" in bone and "ALP 80" not in bone
    listed = get_case("psych_panic_disorder").tests[0]
    panel = listed.model_copy(update={"name": "renal and electrolyte chemistry", "aliases": [],
                                      "result": "Na 133 mmol/L, creatinine 182 umol/L"})
    case = _variant("psych_panic_disorder", tests=[panel])
    assert "creatinine 182 umol/L" in _unlisted(case, "U&E") and "Na 133 mmol/L" in _unlisted(case, "U&E")
    old = Report("test", "bone profile", "bone profile", "Adjusted calcium 2.35 mmol/L, ALP 80 U/L, albumin 42 g/L")
    applies, found = inconsistencies(old, get_case("rheum_polymyalgia_rheumatica"))
    assert applies and found == ["alp 80 where the case reports 148", "albumin 42 where the case reports 36"]


def test_serum_hcg_is_a_level_and_never_the_urine_test():
    """Specimen matters: the ectopic case lists a urine test; a serum hCG order gets a serum level
    (the case's own 3,200 IU/L), not the qualitative urine result."""
    report = Examiner(get_case("obgyn_ectopic_pregnancy")).order("serum hCG")
    assert report.resolved == "serum hcg" and not report.from_case
    assert report.text.startswith("Serum beta-hCG 3,200 IU/L: positive")
    assert re.search(r"Serum beta-hCG [\d,]+ IU/L: positive", _unlisted(_without("obgyn_placental_abruption", "pelvic ultrasound"), "serum hCG"))
    qualitative = Report("test", "serum hCG", "serum hcg", "hCG positive")
    assert inconsistencies(qualitative, get_case("obgyn_ectopic_pregnancy"))[1] == ["a serum hCG without a level in IU/L"]


def test_a_bedside_swallow_screen_follows_the_examination():
    stroke = _unlisted(get_case("neuro_ischaemic_stroke"), "swallow screen")  # HEENT: wet voice after water
    assert stroke.startswith("Failed: wet voice after a teaspoon of water")
    assert _unlisted(get_case("psych_panic_disorder"), "swallow screen").startswith("Safe swallow")
    passed = Report("test", "swallow screen", "bedside swallow screen", "Safe swallow on the water swallow test")
    assert inconsistencies(passed, get_case("neuro_ischaemic_stroke"))[1]


def test_an_order_of_several_tests_is_split_as_the_env_splits_it(tmp_path):
    """"FBC, CRP, ESR" is three ORDER items in the env; the eval counts the listed one among them,
    and an unlisted order only when every part is answered."""
    rows = [{"case_id": "cardio_acute_pericarditis", "order": "FBC, CRP, ESR", "listed": "complete blood count"},
            {"case_id": "derm_scabies", "order": "troponin, CXR", "listed": None},
            {"case_id": "derm_scabies", "order": "troponin; zebra antibody", "listed": None}]
    (tmp_path / "orders_x.jsonl").write_text("".join(json.dumps({**r, "must": [], "must_not": []}) + "\n" for r in rows))
    summary = run_examiner_eval(tmp_path, list(builtin_cases()))
    assert summary["listed_with_case_result"] == 1 and summary["unlisted_answered"] == 1
    assert [u["order"] for u in summary["unanswered"]] == ["troponin; zebra antibody"]


def test_a_test_that_follows_an_abnormal_listed_result_is_abnormal_and_hands_over_nothing():
    """A positive CTPA makes a V/Q scan abnormal (a healthy scan would contradict the case); the
    report says only that, never the CTPA's findings, so ordering the cheaper test reveals nothing."""
    pe = get_case("pulm_pulmonary_embolism")
    ctpa = next(t for t in pe.tests if t.name == "ct pulmonary angiogram")
    vq = _unlisted(pe, "V/Q scan")
    assert vq.startswith("Abnormal") and ctpa.abnormal
    assert not set(re.findall(r"[a-z]{6,}", ctpa.result.lower())) & set(re.findall(r"[a-z]{6,}", vq.lower()))
    assert _unlisted(get_case("psych_panic_disorder"), "V/Q scan").startswith(lookup("ventilation-perfusion scan").normal_result)
    assert _unlisted(get_case("id_bacterial_meningitis"), "procalcitonin").startswith("Abnormal")  # cultures grew
    assert not _unlisted(get_case("pulm_cap_adult"), "blood film").startswith("Abnormal")  # a raised WCC is no film


def test_a_bedside_test_reports_what_the_examination_recorded():
    addison = _unlisted(get_case("endo_addisons_disease"), "lying and standing BP")
    assert addison.startswith("At examination:") and "80/52" in addison
    assert _unlisted(get_case("psych_panic_disorder"), "postural BP").startswith("No postural drop")
    hints = _unlisted(get_case("ent_bppv"), "HINTS exam")
    assert "head impulse test normal" in hints and "tremor" not in hints


def test_inflammatory_markers_are_raised_in_a_febrile_patient():
    """A clinician judge found CRP 3 and ESR 8 in febrile PID and HIV seroconversion (38.2-38.4 °C)."""
    assert patient_state(get_case("id_acute_hiv")).temperature == 38.4
    assert _unlisted(get_case("id_acute_hiv"), "CRP").startswith("Abnormal")
    assert _unlisted(get_case("obgyn_pelvic_inflammatory_disease"), "ESR").startswith("Abnormal")
    assert _unlisted(get_case("psych_panic_disorder"), "CRP").startswith("CRP 3")


def test_a_fact_the_case_states_makes_a_test_abnormal_unless_denied():
    """abnormal_when (phrases set by a clinician): known hepatitis C makes its serology positive, a
    goitre the neck ultrasound abnormal; "Kernig's sign negative" makes no lumbar puncture abnormal."""
    assert _unlisted(get_case("cardio_infective_endocarditis"), "hep C serology").startswith("Abnormal")
    assert _unlisted(get_case("endo_graves"), "thyroid ultrasound").startswith("Abnormal")
    assert not _unlisted(get_case("id_falciparum_malaria"), "LP").startswith("Abnormal")
    assert not _unlisted(get_case("psych_panic_disorder"), "hep C serology").startswith("Abnormal")
