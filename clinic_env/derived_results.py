"""Results for tests a case does not list, fitted to the patient in front of the doctor.

A catalogue result is a healthy adult's. Given to every patient it contradicts the case: an ECG
"sinus rhythm 76/min" with a pulse of 140, a pO2 of 12.5 kPa with SpO2 91%, hCG negative at 30
weeks. ``patient_state`` reads what the case already says about the patient (age, sex, pregnancy,
vitals, exam, past history, medicines, values its listed tests report) and ``derive`` adjusts an
unlisted test's result to it by general physiological rules, never per case. A derived result
says only what that state implies: it never invents an infection, a thrombus or a diagnosis, and
where the state makes the healthy answer untrue but implies no finding (a swollen calf on Doppler)
it reports the test as indeterminate.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from clinic_env.cases.schema import Case
from clinic_env.investigations import Investigation, lookup
from clinic_rubrics.text import is_negated, sentences

Rule = Callable[[Investigation, "PatientState"], Investigation]

_HEART_RATE = re.compile(r"\b(?:apical rate|heart rate|pulse(?: rate)?|hr)\D{0,12}?(\d{2,3})\s*/\s*min", re.I)
_APICAL = re.compile(r"\bapical rate\D{0,5}(\d{2,3})", re.I)
_SPO2 = re.compile(r"\bspo2\D{0,5}(\d{2,3})\s*%", re.I)
_BLOOD_PRESSURE = re.compile(r"\bblood pressure\D{0,20}?(\d{2,3})/(\d{2,3})\s*mmHg", re.I)
_RESP_RATE = re.compile(r"\brespiratory rate\D{0,5}(\d{1,3})", re.I)
_TEMPERATURE = re.compile(r"\btemperature\D{0,5}(\d{2}(?:\.\d)?)\s*°?\s*C\b", re.I)
FEVER = 38.0  # °C: an acute-phase response raises CRP and ESR
# An abnormal result whose findings the case does not give: says no more than that.
FOLLOWED = "Abnormal; in keeping with the patient's presentation"
_IRREGULAR = re.compile(r"irregularly irregular|\batrial fibrillation\b|\bAF\b")
_DIABETES = re.compile(r"\b(?:diabetes|diabetic|t[12]dm|type [12] dm)\b", re.I)
_NOT_DIABETES = re.compile(r"\b(?:non-?diabetic|pre-?diabet\w*|impaired (?:fasting )?glucose|gestational diabetes)", re.I)
_PREDIABETES = re.compile(r"\b(?:non-?diabetic hyperglycaemia|pre-?diabet\w*|impaired (?:fasting )?glucose)", re.I)
_DIABETES_DRUGS = re.compile(r"\b(?:metformin|insulin\w*|gliclazide|glipizide|sitagliptin|linagliptin|alogliptin|"
                             r"pioglitazone|glimepiride)\b", re.I)
_RENAL = re.compile(r"\b(?:chronic kidney disease|ckd|chronic renal (?:failure|impairment|disease)|dialysis|"
                    r"renal (?:failure|impairment))\b", re.I)
_COPD = re.compile(r"\b(?:copd|chronic obstructive pulmonary disease|emphysema|chronic bronchitis)\b", re.I)
_WARFARIN = re.compile(r"\b(?:warfarin|acenocoumarol|phenindione)\b", re.I)
_LIMB = re.compile(r"\b(?:calf|calves|leg|thigh|lower limb)\b", re.I)
_LIMB_SIGN = re.compile(r"\b(?:swollen|swelling|tender\w*|oedema\w*|larger|circumference|distended)\b", re.I)
_CONFUSED = re.compile(r"\b(?:confused|confusion|disorientated|disoriented|inattentive|drowsy|gcs 1[0-4]|gcs [3-9])\b", re.I)
# An unsafe swallow as the examination words it: what a water test shows first, then the signs of one.
_UNSAFE_SWALLOW = (re.compile(r"\b(?:wet|gurgly|gurgling) voice|\bcough\w* (?:on|after|with) (?:\w+ ){0,3}"
                              r"(?:water|sips?|drinks?|fluids?)\b|\bunsafe swallow", re.I),
                   re.compile(r"\bdrool\w*|\babsent gag|\bdysphagia\b", re.I))
_BILATERAL = re.compile(r"\b(?:bilateral\w*|both)\b", re.I)
_NOT_BLOOD = re.compile(r"\b(?:csf|cerebrospinal|urine|urinary|dipstick|stool|synovial|pleural|ascitic)\b", re.I)
_HCG_TESTS = ("urine pregnancy test", "serum hcg")
_BLOOD_UNITS = r"mmol/mol|mmol/L|mmol|umol/L|µmol/L|μmol/L|U/L|IU/L|g/dL|g/L|mg/L|x ?10\^9/L|×10\^9/L"


def _analyte(labels: str, units: str = _BLOOD_UNITS, gap: int = 12) -> re.Pattern[str]:
    """An analyte's value and unit as a result states it ("ALP 148 U/L", "creatinine: 142 umol/L")."""
    value = r"(?P<value>\d{1,4}(?:\.\d+)?)"
    return re.compile(rf"\b(?:{labels})\b[^.;\d]{{0,{gap}}}?{value}\s*(?P<unit>{units})(?![\w/])", re.I)


# Values the case may already report (observations, listed results, past history), by analyte: a
# derived result states each one as the case does (``with_reported_values``).
REPORTED_ANALYTES = {
    "glucose": re.compile(r"\bglucose\b[^.;\d]{0,20}?(?:(?P<value>\d{1,2}(?:\.\d)?)\s*(?P<unit>mmol/L|mmol)|"
                          r"'?(?P<hi>(?-i:HI))\b)", re.I),
    "hba1c": _analyte("hba1c", "mmol/mol"),
    "bicarbonate": _analyte("bicarbonate|hco3", "mmol/L|mmol"),
    "potassium": _analyte("potassium|k", "mmol/L|mmol", gap=6),
    "sodium": _analyte("sodium|na", "mmol/L|mmol", gap=6),
    "urea": _analyte("urea", "mmol/L|mmol", gap=6),
    "creatinine": _analyte("creatinine", "umol/L|µmol/L|μmol/L"),
    "fev1": _analyte("fev1", "%"),
    "alt": _analyte("alt", "U/L|IU/L"), "ast": _analyte("ast", "U/L|IU/L"), "ggt": _analyte("ggt", "U/L|IU/L"),
    "alp": _analyte("alp|alkaline phosphatase", "U/L|IU/L"),
    "bilirubin": _analyte("bilirubin", "umol/L|µmol/L|μmol/L"), "albumin": _analyte("albumin", "g/L"),
    "calcium": _analyte("calcium", "mmol/L"), "phosphate": _analyte("phosphate", "mmol/L"),
    "magnesium": _analyte("magnesium|mg", "mmol/L"),
    "haemoglobin": _analyte("hb|haemoglobin|hemoglobin", "g/dL|g/L"),
    "platelets": _analyte("platelets|plt", r"x ?10\^9/L|×10\^9/L"),
    "crp": _analyte("crp|c-reactive protein", "mg/L"), "lactate": _analyte("lactate", "mmol/L|mmol"),
    "ck": _analyte("ck|creatine kinase", "U/L|IU/L"),
    "serum hcg": re.compile(r"\bserum (?:quantitative )?(?:beta-hcg|b-hcg|bhcg|hcg)\b[^.;\d]{0,12}?"
                            r"(?P<value>\d{1,3}(?:,\d{3})+|\d+)\s*(?P<unit>IU/L)", re.I),
}
_SERUM_NAMED = frozenset({"serum hcg"})  # analytes whose label names the sample, read even in a urine test's text


@dataclass(frozen=True)
class PatientState:
    """What a case says about the patient that physiology ties test results to."""

    age_years: float
    sex: str
    pregnant: bool
    gestation_weeks: int | None
    heart_rate: int | None
    irregular_rhythm: bool
    spo2: int | None
    resp_rate: int | None
    temperature: float | None
    blood_pressure: tuple[int, int] | None
    diabetic: bool
    prediabetic: bool
    renal_disease: bool
    on_warfarin: bool
    copd: bool
    limb_signs: bool
    confused: bool
    swallow_sign: str | None  # the examination's words for an unsafe swallow ("wet voice after a teaspoon of water")
    reported: dict[str, str]  # analyte: its value as the case states it ("148"; "HI" for a glucose over range)
    units: dict[str, str]  # analyte: the unit the case states it in


def _first(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def _blood_pressure(vitals: str) -> tuple[int, int] | None:
    match = _BLOOD_PRESSURE.search(vitals)
    return None if match is None else (int(match.group(1)), int(match.group(2)))


def _affirmed(pattern: re.Pattern[str], texts: Iterable[str]) -> bool:
    """Whether a text says the pattern's thing without denying it ("no known diabetes" is not)."""
    return any(not is_negated(s, m.start(), m.end()) for t in texts for s in sentences(t) for m in pattern.finditer(s))


def _limb_signs(texts: Iterable[str]) -> bool:
    """A swollen or tender calf or leg on one side (bilateral ankle oedema is not a limb finding)."""
    for sentence in (s for t in texts for s in sentences(t)):
        if _LIMB.search(sentence) and not _BILATERAL.search(sentence):
            if any(not is_negated(sentence, m.start(), m.end()) for m in _LIMB_SIGN.finditer(sentence)):
                return True
    return False


def _first_affirmed(pattern: re.Pattern[str], texts: Iterable[str]) -> str | None:
    """The clause (between commas or semicolons) that first says the pattern's thing without denying it."""
    for sentence in (s for t in texts for s in sentences(t)):
        for match in pattern.finditer(sentence):
            if not is_negated(sentence, match.start(), match.end()):
                start = max(sentence.rfind(",", 0, match.start()), sentence.rfind(";", 0, match.start())) + 1
                end = re.search(r"[,;]|$", sentence[match.end():])
                return sentence[start:match.end() + (end.start() if end else 0)].strip(" .")
    return None


def _pregnancy_shown(case: Case) -> bool:
    """A listed pregnancy test that is positive: the case shows a pregnancy its demographics may not."""
    for test in case.tests:
        item = lookup(test.name)
        if item is not None and item.name in _HCG_TESTS and re.search(r"\bpositive\b", test.result, re.I):
            return True
    return False


def _reported(case: Case) -> tuple[dict[str, str], dict[str, str]]:
    """Blood values the case already gives (observations, its listed results, past history) and
    their units: a derived test repeats them rather than contradict them. CSF, urine and other
    fluids do not count."""
    values: dict[str, str] = {}
    units: dict[str, str] = {}
    texts = (case.exam.get("vitals", ""), *(t.result for t in case.tests), *(i.text for i in case.past_history))
    for analyte, pattern in REPORTED_ANALYTES.items():
        blood = [t for t in texts if analyte in _SERUM_NAMED or not _NOT_BLOOD.search(t)]
        match = next((m for t in blood for m in [pattern.search(t)] if m), None)
        if match:
            values[analyte] = match["value"] or match.groupdict().get("hi")
            units[analyte] = match["unit"] or ""
    return values, units


@lru_cache(maxsize=1024)
def patient_state(case: Case) -> PatientState:
    """The case's patient as physiology sees it (worked out once per case)."""
    vitals = case.exam.get("vitals", "")
    history = [i.text for i in case.past_history] + [f"{m.name} {m.dose}" for m in case.medications]
    exam = [*case.exam.values(), *(h.text for h in case.history)]
    prediabetic = _affirmed(_PREDIABETES, history)
    diabetic = _affirmed(_DIABETES_DRUGS, history) or any(
        _DIABETES.search(t) and not _NOT_DIABETES.search(t) and _affirmed(_DIABETES, [t]) for t in history)
    demographics = case.demographics
    reported, units = _reported(case)
    return PatientState(
        age_years=demographics.age_years, sex=demographics.sex,
        pregnant=demographics.pregnant or _pregnancy_shown(case), gestation_weeks=demographics.gestation_weeks,
        heart_rate=_first(_APICAL, vitals) or _first(_HEART_RATE, vitals),
        irregular_rhythm=bool(_IRREGULAR.search(vitals)) or _affirmed(_IRREGULAR, history),
        spo2=_first(_SPO2, vitals), resp_rate=_first(_RESP_RATE, vitals),
        temperature=float(t[1]) if (t := _TEMPERATURE.search(vitals)) else None, blood_pressure=_blood_pressure(vitals),
        diabetic=diabetic, prediabetic=prediabetic and not diabetic,
        renal_disease=_affirmed(_RENAL, history), on_warfarin=_affirmed(_WARFARIN, history),
        copd=_affirmed(_COPD, history),
        limb_signs=_limb_signs(exam), confused=_affirmed(_CONFUSED, case.exam.values()),
        swallow_sign=next(filter(None, (_first_affirmed(p, exam) for p in _UNSAFE_SWALLOW)), None),
        reported=reported, units=units)


def heart_rate_band(age_years: float) -> tuple[int, int]:
    """The normal resting heart rate for an age (APLS bands), per minute."""
    for upper_age, band in ((1, (110, 160)), (2, (100, 150)), (5, (95, 140)), (12, (80, 120))):
        if age_years < upper_age:
            return band
    return (60, 100)


def haemoglobin_range(state: PatientState) -> tuple[float, float]:
    """The normal haemoglobin (g/dL) for the patient's age, sex and pregnancy."""
    if state.age_years < 0.5:
        return (9.5, 14.0)
    if state.age_years < 2:
        return (10.5, 13.5)
    if state.age_years < 12:
        return (11.0, 14.5)
    if state.pregnant:
        return (11.0, 14.0)
    return (13.0, 17.0) if state.sex == "male" and state.age_years >= 15 else (12.0, 15.5)


def creatinine_range(state: PatientState) -> tuple[int, int]:
    """The normal serum creatinine (umol/L) for the patient's age and sex."""
    for upper_age, band in ((1, (15, 35)), (5, (20, 40)), (12, (30, 60)), (15, (40, 80))):
        if state.age_years < upper_age:
            return band
    return (60, 110) if state.sex == "male" else (45, 90)


def expected_po2(spo2: int) -> float:
    """Arterial pO2 (kPa) for a saturation, read off the oxyhaemoglobin dissociation curve."""
    curve = ((98, 12.8), (97, 12.0), (96, 11.2), (95, 10.5), (94, 9.9), (93, 9.4), (92, 9.0), (91, 8.6),
             (90, 8.0), (89, 7.7), (88, 7.3), (87, 7.0), (86, 6.8), (85, 6.6))
    return next((po2 for sat, po2 in curve if spo2 >= sat), 6.0)


def _ecg(item: Investigation, state: PatientState) -> Investigation:
    rate = state.heart_rate or sum(heart_rate_band(state.age_years)) // 2
    low, high = heart_rate_band(state.age_years)
    if state.irregular_rhythm:
        rhythm = f"Atrial fibrillation, ventricular rate about {rate}/min"
    else:
        rhythm = ("Sinus tachycardia" if rate > high else "Sinus bradycardia" if rate < low else "Sinus rhythm") + f" {rate}/min"
    return dataclasses.replace(item, normal_result=f"{rhythm}, normal axis, normal intervals, no ST or T-wave changes",
                               reference_range=f"Sinus rhythm {low}-{high}/min for age")


def _holter(item: Investigation, state: PatientState) -> Investigation:
    if not state.irregular_rhythm:
        return item
    rate = state.heart_rate or 100
    return dataclasses.replace(item, normal_result=f"Atrial fibrillation throughout, mean ventricular rate {rate}/min; "
                                                   "no pauses over 2 seconds")


def _blood_gas(item: Investigation, state: PatientState) -> Investigation:
    """pO2 from SpO2 (arterial only); bicarbonate and potassium as the case reports them; pCO2 from
    the breathing rate or, with a reported acidosis or alkalosis, its expected compensation; pH
    from the two (Henderson-Hasselbalch), so the gas is one coherent sample. A venous sample reads
    pH 0.03 lower and pCO2 0.8 kPa higher."""
    fast = state.resp_rate is not None and state.resp_rate > 20
    reported = state.reported.get("bicarbonate")
    hco3 = float(reported) if reported else (22.0 if fast else 24.0)
    if hco3 < 22:
        pco2 = (1.5 * hco3 + 8) / 7.5  # Winter's formula, mmHg to kPa
    elif hco3 > 28:
        pco2 = (40 + 0.7 * (hco3 - 24)) / 7.5
    else:
        pco2 = 4.4 if fast else 5.3
    ph = 6.1 + math.log10(hco3 / (0.23 * pco2))
    venous = item.name == "venous blood gas"
    if venous:
        ph, pco2 = ph - 0.03, pco2 + 0.8
    parts = [f"pH {ph:.2f}", f"pCO2 {pco2:.1f} kPa"]
    if not venous and state.spo2 is not None:
        parts.append(f"pO2 {expected_po2(state.spo2)} kPa")
    parts += [f"HCO3 {hco3:.0f} mmol/L", f"K {state.reported.get('potassium', '4.2')} mmol/L", "lactate 1.0 mmol/L"]
    if not venous and state.spo2 is not None:
        parts[-1] += f" (SpO2 {state.spo2}% at sampling)"
    return dataclasses.replace(item, normal_result=", ".join(parts))


def _spirometry(item: Investigation, state: PatientState) -> Investigation:
    if not state.copd:
        return item
    fev1 = state.reported.get("fev1", "50")
    return dataclasses.replace(item, normal_result=f"FEV1/FVC 0.55, FEV1 {fev1}% predicted; obstructive pattern with "
                                                   "no significant reversibility")


def _oximetry(item: Investigation, state: PatientState) -> Investigation:
    return item if state.spo2 is None else dataclasses.replace(item, normal_result=f"SpO2 {state.spo2}%")


def _glucose(item: Investigation, state: PatientState) -> Investigation:
    value = state.reported.get("glucose")
    if value is not None:
        text = "Glucose above 33.3 mmol/L (meter reads HI)" if value.upper() == "HI" else f"Glucose {value} mmol/L"
        return dataclasses.replace(item, normal_result=text)
    return dataclasses.replace(item, normal_result="Glucose 9.6 mmol/L") if state.diabetic else item


def _hba1c(item: Investigation, state: PatientState) -> Investigation:
    value = state.reported.get("hba1c")
    if value is not None:
        return dataclasses.replace(item, normal_result=f"HbA1c {value} mmol/mol")
    if state.diabetic:
        return dataclasses.replace(item, normal_result="HbA1c 62 mmol/mol (7.8%)")
    if state.prediabetic:
        return dataclasses.replace(item, normal_result="HbA1c 44 mmol/mol (6.2%)")
    return item


def serum_hcg(weeks: int | None) -> int:
    """A typical serum beta-hCG (IU/L) at a gestation in weeks since the last period: it doubles
    every two days or so to a peak near 10 weeks, then falls to a plateau; an unknown gestation
    is taken as early (a pregnancy shown only by a test)."""
    for upper_weeks, level in ((4, 200), (5, 2_000), (6, 10_000), (8, 50_000), (12, 100_000), (16, 50_000)):
        if weeks is None or weeks < upper_weeks:
            return level
    return 20_000


def _pregnancy_test(item: Investigation, state: PatientState) -> Investigation:
    """A urine test is qualitative; a serum hCG is a number, positive in a pregnancy."""
    if not state.pregnant:
        return item
    if item.name != "serum hcg":
        return dataclasses.replace(item, normal_result="hCG positive")
    level = serum_hcg(state.gestation_weeks)
    return dataclasses.replace(item, normal_result=f"Serum beta-hCG {level:,} IU/L: positive",
                               reference_range="< 5 IU/L when not pregnant")


def _pelvic_ultrasound(item: Investigation, state: PatientState) -> Investigation:
    if not state.pregnant:
        return item
    weeks = state.gestation_weeks
    if weeks is not None and weeks >= 12:
        text = (f"Gravid uterus with a single fetus of a size consistent with about {weeks} weeks' gestation; "
                "no other pelvic abnormality reported on this limited scan")
    else:
        text = ("Gravid uterus: the site and viability of the pregnancy are not confirmed on this limited scan "
                "(formal transvaginal scan needed)")
    return dataclasses.replace(item, normal_result=text, reference_range="Pregnancy")


def _leg_doppler(item: Investigation, state: PatientState) -> Investigation:
    if not state.limb_signs:
        return item
    return dataclasses.replace(item, normal_result="Indeterminate: the deep veins of the symptomatic leg were not fully "
                                                   "visualised; DVT is not excluded (repeat or formal scan advised)")


def _blood_count(item: Investigation, state: PatientState) -> Investigation:
    low, high = haemoglobin_range(state)
    hb = round((low + high) / 2, 1)
    child = state.age_years < 12
    wcc, wcc_range = ("9.5", "5-15") if child else ("7.2", "4-11")
    return dataclasses.replace(item, normal_result=f"Hb {hb} g/dL, WCC {wcc} x10^9/L, platelets 250 x10^9/L",
                               reference_range=f"Hb {low}-{high} g/dL; WCC {wcc_range} x10^9/L; platelets 150-400 x10^9/L")


def _renal(item: Investigation, state: PatientState) -> Investigation:
    low, high = creatinine_range(state)
    if state.renal_disease:
        creatinine, urea = str(round(high * 1.8)), "11.5"
    else:
        creatinine, urea = str((low + high) // 2), "5.0" if state.age_years >= 12 else "3.5"
    return dataclasses.replace(item, normal_result=f"Na 139 mmol/L, K 4.2 mmol/L, urea {urea} mmol/L, creatinine {creatinine} umol/L",
                               reference_range=f"Na 135-145; K 3.5-5.0 mmol/L; creatinine {low}-{high} umol/L")


def _clotting(item: Investigation, state: PatientState) -> Investigation:
    if not state.on_warfarin:
        return item
    return dataclasses.replace(item, normal_result="INR 2.6, APTT 34 s",
                               reference_range="INR 0.8-1.2 (target 2.0-3.0 on warfarin); APTT 25-35 s")


def _d_dimer(item: Investigation, state: PatientState) -> Investigation:
    if not state.pregnant:
        return item
    return dataclasses.replace(item, normal_result="D-dimer 0.90 mg/L FEU",
                               reference_range="< 0.50 mg/L FEU outside pregnancy; D-dimer rises through normal pregnancy")


def _inflammatory_marker(item: Investigation, state: PatientState) -> Investigation:
    """CRP and ESR are raised in a febrile patient (how far, the fever alone does not say)."""
    if state.temperature is None or state.temperature < FEVER:
        return item
    return dataclasses.replace(item, normal_result=FOLLOWED)


def _only_in_pregnancy(item: Investigation, state: PatientState) -> Investigation:
    return item if state.pregnant else dataclasses.replace(item, normal_result="Not applicable: the patient is not pregnant.",
                                                            reference_range="")


def _male_only(item: Investigation, state: PatientState) -> Investigation:
    return item if state.sex == "male" else dataclasses.replace(item, normal_result="Not applicable for this patient.",
                                                                 reference_range="")


def _peak_flow(item: Investigation, state: PatientState) -> Investigation:
    predicted = 580 if state.sex == "male" else 440
    if state.age_years < 16:
        predicted = 300
    return dataclasses.replace(item, normal_result=f"Peak flow {predicted} L/min (100% predicted)")


def _ambulatory_pressure(item: Investigation, state: PatientState) -> Investigation:
    """A daytime average about 10/5 mmHg under the clinic reading (the white-coat difference)."""
    if state.blood_pressure is None:
        return item
    systolic, diastolic = state.blood_pressure
    return dataclasses.replace(item, normal_result=f"Daytime average {systolic - 10}/{diastolic - 5} mmHg")


def _osmolality(item: Investigation, state: PatientState) -> Investigation:
    """Calculated from the sodium, glucose and urea the case reports (2 Na + glucose + urea)."""
    values = [state.reported.get(k) for k in ("sodium", "glucose", "urea")]
    if any(v is None or not v.replace(".", "").isdigit() for v in values):
        return item
    sodium, glucose, urea = (float(v) for v in values)  # type: ignore[arg-type]
    return dataclasses.replace(item, normal_result=f"Osmolality {round(2 * sodium + glucose + urea)} mOsm/kg")


def _cognitive_screen(item: Investigation, state: PatientState) -> Investigation:
    """A confused patient does not score normally: the screen shows what the examination already found."""
    if not state.confused:
        return item
    text = ("4AT score 7: impaired attention and orientation" if item.name == "4at"
            else "Not completed reliably: the patient is confused and inattentive at the time of testing")
    return dataclasses.replace(item, normal_result=text)


def _swallow_screen(item: Investigation, state: PatientState) -> Investigation:
    """A bedside test reads the bedside: a swallow the examination found unsafe fails the screen."""
    if state.swallow_sign is None:
        return item
    return dataclasses.replace(item, normal_result=f"Failed: {state.swallow_sign} (as on examination); keep nil by "
                                                   "mouth until a speech and language therapy assessment",
                               reference_range="Pass")


RULES: dict[str, Rule] = {
    "ecg": _ecg, "24-hour holter monitor": _holter, "arterial blood gas": _blood_gas, "pulse oximetry": _oximetry,
    "blood glucose": _glucose, "hba1c": _hba1c, "urine pregnancy test": _pregnancy_test, "serum hcg": _pregnancy_test,
    "pelvic ultrasound": _pelvic_ultrasound, "doppler ultrasound of the leg": _leg_doppler,
    "complete blood count": _blood_count, "basic metabolic panel": _renal, "coagulation screen": _clotting,
    "d-dimer": _d_dimer, "cardiotocography": _only_in_pregnancy, "kleihauer test": _only_in_pregnancy,
    "prostate-specific antigen": _male_only, "peak flow": _peak_flow,
    "venous blood gas": _blood_gas, "spirometry": _spirometry, "4at": _cognitive_screen,
    "montreal cognitive assessment": _cognitive_screen, "ambulatory blood pressure monitoring": _ambulatory_pressure,
    "serum osmolality": _osmolality, "bedside swallow screen": _swallow_screen,
    "c-reactive protein": _inflammatory_marker, "erythrocyte sedimentation rate": _inflammatory_marker,
}


def with_reported_values(text: str, state: PatientState) -> str:
    """A result text with every analyte the case reports elsewhere stated as the case states it:
    a bone profile's ALP is the LFTs' ALP, a U&E's creatinine the renal profile's."""
    def restate(match: re.Match[str], analyte: str) -> str:
        if match["value"] is None:
            return match.group(0)
        unit = state.units[analyte]
        label = match.group(0)[:match.start("value") - match.start()]
        return label + state.reported[analyte] + (f" {unit}" if unit else "")

    for analyte, pattern in REPORTED_ANALYTES.items():
        if state.reported.get(analyte, "").replace(".", "").replace(",", "").isdigit():
            text = pattern.sub(lambda m, a=analyte: restate(m, a), text)
    return text


# A finding denied by the words after it ("Kernig's sign negative").
_DENIED_AFTER = re.compile(r"\W{0,3}(?:\w+\W+){0,2}(?:negative|absent|not (?:present|seen|elicited)|normal)\b", re.I)
# Where one finding of an examination text ends: a clause between semicolons, full stops or commas.
_CLAUSE = re.compile(r"[;.](?:\s+|$)|,\s+")


@lru_cache(maxsize=256)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    longest_first = sorted(words, key=len, reverse=True)  # "Kernig's sign" before "Kernig"
    return re.compile(r"\b(?:" + "|".join(map(re.escape, longest_first)) + r")\b", re.I)


def examined(item: Investigation, case: Case) -> str | None:
    """A bedside test's result as the examination already records it (its ``exam_words``: the
    lying and standing blood pressures of the vital signs are the postural blood pressure)."""
    if not item.exam_words:
        return None
    pattern = _words_pattern(item.exam_words)
    clauses = [c.strip(" .") for text in case.exam.values() for c in _CLAUSE.split(text) if pattern.search(c)]
    return "At examination: " + "; ".join(dict.fromkeys(clauses)) if clauses else None


def follows_abnormal(item: Investigation, case: Case) -> bool:
    """Whether the case lists an abnormal result of a test this one ``follows`` (a positive CTPA
    makes a V/Q scan abnormal): a healthy result would contradict the case's own."""
    return any(t.abnormal and getattr(lookup(t.name), "name", t.name) in item.follows for t in case.tests)


def shows_abnormal(item: Investigation, case: Case) -> bool:
    """Whether the case states, without denying it, a fact that makes this test abnormal (its
    ``abnormal_when``: a long lie raises the CK, known hepatitis C makes its serology positive)."""
    if not item.abnormal_when:
        return False
    texts = (*case.exam.values(), *(h.text for h in case.history), *(i.text for i in case.past_history),
             *(f"{m.name} {m.dose}" for m in case.medications))
    pattern = _words_pattern(item.abnormal_when)
    return any(not is_negated(s, m.start(), m.end()) and not _DENIED_AFTER.match(s, m.end())
               for t in texts for s in sentences(t) for m in pattern.finditer(s))


def derive(item: Investigation, case: Case) -> Investigation:
    """The catalogue entry with its result fitted to the case's patient: the examination's own
    finding for a bedside test, else abnormal when a listed result it follows is or the case
    states what makes it so, else its rule;
    then the values the case reports elsewhere (``with_reported_values``). An abnormal result
    says no more than that: it never hands over the followed test's findings."""
    state = patient_state(case)
    abnormal = follows_abnormal(item, case) or shows_abnormal(item, case)
    found = examined(item, case) or (FOLLOWED if abnormal else None)
    if found is not None:
        return dataclasses.replace(item, normal_result=found)
    rule = RULES.get(item.name)
    item = item if rule is None else rule(item, state)
    return dataclasses.replace(item, normal_result=with_reported_values(item.normal_result, state))
