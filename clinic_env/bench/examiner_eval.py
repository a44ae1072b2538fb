"""Measuring the examiner on clinicians' orders (issue 16): the examiner half of ``clinic-env patient-eval``.

A data folder's ``orders*.jsonl`` hold test orders as clinicians type them, each on a builtin
case: the case's test it means (``listed``) or null for a test the case does not list, and what a
result consistent with the patient must and must not say, in the clinician's words (kept for
reading; the judge here is automatic). Every order is put to the examiner the env builds (the
same catalogue and case pool), and two things are measured:

- recognition: a listed order gets the case's own result; an unlisted one gets an answer. An order
  naming several tests ("FBC, CRP, ESR") is split exactly as the env's ORDER action splits it: a
  listed one is recognised when one of its parts gets the case's result, an unlisted one when every
  part is answered;
- consistency: an answer the examiner made up (an unlisted test) agrees with the patient by the
  physiological rules of ``inconsistencies``: ECG rate and rhythm against the pulse, pO2
  against SpO2, HbA1c and glucose against diabetes and the case's capillary glucose, hCG and
  pelvic ultrasound against pregnancy (a serum hCG states a level), a leg Doppler against a swollen
  or tender leg, Hb and creatinine against age, sex and kidney disease, INR against warfarin, a
  swallow screen against the examination, and any analyte the case reports in another test
  against that value. A listed result is the
  case's own truth and is not judged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clinic_env.actions import OrderTests, parse_action
from clinic_env.bench.grader_eval import read_rows
from clinic_env.cases.schema import Case
from clinic_env.derived_results import (
    REPORTED_ANALYTES,
    PatientState,
    creatinine_range,
    haemoglobin_range,
    heart_rate_band,
    patient_state,
)
from clinic_env.examiner import Examiner, KnownTests, Report
from clinic_env.investigations import lookup

RECOGNITION_TARGET = 0.97  # issue 16
CONSISTENCY_TARGET = 0.95
MAX_LINE_BYTES = 100_000
_Text = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]

_RATE = re.compile(r"(\d{2,3})\s*/\s*min|\brate (?:of )?(?:about )?(\d{2,3})\b", re.I)
_IRREGULAR = re.compile(r"fibrillation|\bAF\b|irregular|flutter", re.I)
_PO2 = re.compile(r"\bp[aO]?O2\s*(?:of\s*)?(\d+(?:\.\d+)?)\s*(kPa|mmHg)", re.I)
_HBA1C = re.compile(r"\bhba1c\D{0,10}?(\d{2,3})\s*mmol/mol", re.I)
_GLUCOSE = re.compile(r"\bglucose\D{0,10}?(\d{1,2}(?:\.\d+)?)\s*mmol", re.I)
_POSITIVE = re.compile(r"\bpositive\b", re.I)
_NEGATIVE = re.compile(r"\bnegative\b|not detected|< ?5 IU/L", re.I)
_NO_CLOT = re.compile(r"\bno (?:evidence of )?(?:deep vein |venous )?thromb|fully compressible|\bno dvt\b", re.I)
_HB = re.compile(r"\bHb\s*(\d{1,3}(?:\.\d+)?)\s*(g/dL|g/L)", re.I)
_INR = re.compile(r"\bINR\s*(\d(?:\.\d+)?)")
_CREATININE = re.compile(r"\bcreatinine\s*(\d{2,4})", re.I)
_PREGNANCY = re.compile(r"pregnan|gravid|gestation|fetus|fetal", re.I)
_SPO2 = re.compile(r"\bSpO2\s*(\d{2,3})\s*%", re.I)
_CAPILLARY_IN_VITALS = re.compile(r"\bcapillary glucose\D{0,10}?(\d{1,2}(?:\.\d+)?)\s*mmol", re.I)


class DataError(ValueError):
    """An order file or line that cannot be used; the message names file:line and field."""


class Order(BaseModel):
    """One clinician's order of the set."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    case_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    order: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    listed: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None
    must: list[_Text] = Field(max_length=20)
    must_not: list[_Text] = Field(max_length=20)


def order_files(folder: str | Path) -> list[Path]:
    """The order files of a data folder (none: the folder has no examiner half)."""
    folder = Path(folder)
    return sorted(folder.glob("orders*.jsonl")) if folder.is_dir() else []


def load_orders(folder: str | Path, cases: dict[str, Case]) -> list[tuple[str, Order]]:
    """Every order of ``folder`` with its file:line, each checked against its case."""
    rows: list[tuple[str, Order]] = []
    for path in order_files(folder):
        for where, row in read_rows(path, Order, DataError, MAX_LINE_BYTES):
            case = cases.get(row.case_id)
            if case is None:
                raise DataError(f"{where}: field case_id: unknown case {row.case_id!r}")
            if row.listed is not None and row.listed not in {t.name for t in case.tests}:
                raise DataError(f"{where}: field listed: {row.listed!r} is not a test of case {case.id}")
            rows.append((where, row))
    if not rows:
        raise DataError(f"{folder}: no orders in orders*.jsonl")
    return rows


def _number(pattern: re.Pattern[str], text: str) -> float | None:
    match = pattern.search(text)
    return None if match is None else float(next(g for g in match.groups() if g is not None))


def _ecg(text: str, state: PatientState) -> list[str]:
    found = []
    rate = _number(_RATE, text)
    if state.heart_rate is not None and rate is not None and abs(rate - state.heart_rate) > max(15, 0.2 * state.heart_rate):
        found.append(f"rate {rate:g}/min with a pulse of {state.heart_rate}/min")
    if state.heart_rate is None and rate is not None and not heart_rate_band(state.age_years)[0] <= rate <= heart_rate_band(state.age_years)[1]:
        found.append(f"rate {rate:g}/min outside the normal range for age {state.age_years:g}")
    return found + _rhythm(text, state)


def _rhythm(text: str, state: PatientState) -> list[str]:
    irregular = state.irregular_rhythm and not _IRREGULAR.search(text)
    return ["a regular rhythm with an irregularly irregular pulse or known AF"] if irregular else []


def _blood_gas(text: str, state: PatientState) -> list[str]:
    match = _PO2.search(text)
    if match is None or state.spo2 is None or re.search(r"\bvenous\b", text, re.I):
        return []
    po2 = float(match.group(1)) / (7.5 if match.group(2).lower() == "mmhg" else 1)
    if state.spo2 <= 94 and po2 >= 11:
        return [f"pO2 {po2:g} kPa with SpO2 {state.spo2}%"]
    if state.spo2 >= 97 and po2 < 8:
        return [f"pO2 {po2:g} kPa with SpO2 {state.spo2}%"]
    return []


def _hba1c(text: str, state: PatientState) -> list[str]:
    value = _number(_HBA1C, text)
    return [f"HbA1c {value:g} mmol/mol in a known diabetic"] if state.diabetic and value is not None and value < 48 else []


def _glucose(text: str, state: PatientState, case: Case) -> list[str]:
    value, bedside = _number(_GLUCOSE, text), _number(_CAPILLARY_IN_VITALS, case.exam.get("vitals", ""))
    if value is None:
        return []
    if bedside is not None and abs(value - bedside) > max(3.0, 0.3 * bedside):
        return [f"glucose {value:g} mmol/L with a capillary glucose of {bedside:g}"]
    if state.diabetic and value < 4:
        return [f"glucose {value:g} mmol/L in a diabetic on no hypoglycaemic cause"]
    return []


def _hcg(text: str, state: PatientState) -> list[str]:
    positive, negative = bool(_POSITIVE.search(text)), bool(_NEGATIVE.search(text))
    if state.pregnant and (negative or not positive):
        return ["hCG not positive in a pregnant patient"]
    if not state.pregnant and positive and not negative:
        return ["hCG positive in a patient not known to be pregnant"]
    return []


def _doppler(text: str, state: PatientState) -> list[str]:
    return ["no thrombus reported with a swollen or tender leg"] if state.limb_signs and _NO_CLOT.search(text) else []


def _blood_count(text: str, state: PatientState) -> list[str]:
    match = _HB.search(text)
    if match is None:
        return []
    hb = float(match.group(1)) / (10 if match.group(2).lower() == "g/l" else 1)
    low, high = haemoglobin_range(state)
    return [] if low <= hb <= high else [f"Hb {hb:g} g/dL outside {low}-{high} for this patient's age and sex"]


def _renal(text: str, state: PatientState) -> list[str]:
    value = _number(_CREATININE, text)
    if value is None:
        return []
    low, high = creatinine_range(state)
    if state.renal_disease and value <= high:
        return [f"creatinine {value:g} umol/L in known kidney disease"]
    if not state.renal_disease and not low * 0.8 <= value <= high * 1.1:
        return [f"creatinine {value:g} umol/L outside {low}-{high} for this patient's age and sex"]
    return []


def _clotting(text: str, state: PatientState) -> list[str]:
    inr = _number(_INR, text)
    if inr is None:
        return []
    if state.on_warfarin and inr < 1.5:
        return [f"INR {inr:g} on warfarin"]
    if not state.on_warfarin and inr > 1.5:
        return [f"INR {inr:g} without an anticoagulant"]
    return []


def _pelvic_ultrasound(text: str, state: PatientState) -> list[str]:
    return ["a pelvic ultrasound that does not show the pregnancy"] if state.pregnant and not _PREGNANCY.search(text) else []


def _oximetry(text: str, state: PatientState) -> list[str]:
    value = _number(_SPO2, text)
    if value is None or state.spo2 is None or abs(value - state.spo2) <= 2:
        return []
    return [f"SpO2 {value:g}% against {state.spo2}% in the observations"]


def _serum_hcg(text: str, state: PatientState) -> list[str]:
    quantitative = [] if re.search(r"\d\s*IU/L", text) else ["a serum hCG without a level in IU/L"]
    return quantitative + _hcg(text, state)


def _swallow(text: str, state: PatientState) -> list[str]:
    passed = state.swallow_sign is not None and re.search(r"\bsafe swallow|\bpass", text, re.I)
    return [f"a passed swallow screen with '{state.swallow_sign}' on examination"] if passed else []


def _shared_analytes(text: str, state: PatientState) -> tuple[bool, list[str]]:
    """Whether the text states an analyte the case reports elsewhere, and each it states otherwise."""
    stated, found = False, []
    for analyte, pattern in REPORTED_ANALYTES.items():
        case_value = state.reported.get(analyte, "").replace(",", "")
        for match in pattern.finditer(text) if case_value.replace(".", "").isdigit() else ():
            stated = True
            if match["value"] is not None and float(match["value"].replace(",", "")) != float(case_value):
                found.append(f"{analyte} {match['value']} where the case reports {case_value}")
    return stated, found


def inconsistencies(report: Report, case: Case) -> tuple[bool, list[str]]:
    """Whether a rule applies to the report's test, and what in its text contradicts the patient:
    the test's own physiological rule, and any analyte the case reports elsewhere stated otherwise.
    A result the case itself lists is the case's (its author's and the case validator's concern)."""
    if report.from_case:
        return False, []
    item = lookup(report.resolved or "")
    name = item.name if item is not None else report.resolved
    state, text = patient_state(case), report.text.split(" [reference:")[0]
    shared, found = _shared_analytes(text, state)
    checks = {
        "ecg": lambda: _ecg(text, state), "24-hour holter monitor": lambda: _rhythm(text, state),
        "arterial blood gas": lambda: _blood_gas(text, state), "hba1c": lambda: _hba1c(text, state),
        "blood glucose": lambda: _glucose(text, state, case), "urine pregnancy test": lambda: _hcg(text, state),
        "serum hcg": lambda: _serum_hcg(text, state), "bedside swallow screen": lambda: _swallow(text, state),
        "doppler ultrasound of the leg": lambda: _doppler(text, state),
        "complete blood count": lambda: _blood_count(text, state), "basic metabolic panel": lambda: _renal(text, state),
        "coagulation screen": lambda: _clotting(text, state), "pelvic ultrasound": lambda: _pelvic_ultrasound(text, state),
        "pulse oximetry": lambda: _oximetry(text, state),
    }
    check = checks.get(name or "")
    return (check is not None or shared, found + (check() if check is not None else []))


def order_parts(order: str) -> tuple[str, ...]:
    """The tests of an order as the env's ORDER action splits them ("FBC, CRP, ESR" is three)."""
    action = parse_action(f"ORDER: {order}")
    return action.tests if isinstance(action, OrderTests) else ()


def run_examiner_eval(folder: str | Path, cases: list[Case]) -> dict[str, Any]:
    """Recognition and consistency over the folder's orders, with the failures and issue 16's targets."""
    rows = load_orders(folder, {case.id: case for case in cases})
    known = KnownTests(cases)
    by_case = {case.id: case for case in cases}
    missed, unanswered, inconsistent = [], [], []
    answered = checked = 0
    for where, row in rows:
        case = by_case[row.case_id]
        examiner = Examiner(case, known=known)
        reports = examiner.answer(order_parts(row.order))
        if row.listed is not None:
            if not any(r.from_case and r.resolved == row.listed for r in reports):
                missed.append({"where": where, "order": row.order, "listed": row.listed,
                               "resolved": [r.resolved for r in reports]})
            continue
        if not reports or any(r.resolved is None for r in reports):
            unanswered.append({"where": where, "order": row.order})
            continue
        answered += 1
        found = []
        for report in reports:
            applies, problems = inconsistencies(report, case)
            checked += applies
            found += problems
        if found:
            inconsistent.append({"where": where, "order": row.order, "report": [r.text for r in reports],
                                 "problems": found})
    n_listed = sum(row.listed is not None for _, row in rows)
    recognition = (len(rows) - len(missed) - len(unanswered)) / len(rows)
    consistency = (answered - len(inconsistent)) / answered if answered else None
    return {
        "n_orders": len(rows), "n_listed": n_listed, "n_unlisted": len(rows) - n_listed,
        "recognition": recognition,
        "listed_with_case_result": n_listed - len(missed), "unlisted_answered": answered,
        "consistency": consistency, "n_checked_by_a_rule": checked,
        "missed": missed, "unanswered": unanswered, "inconsistent": inconsistent,
        "targets": [{"name": f"examiner recognition >= {RECOGNITION_TARGET:.0%}", "value": recognition,
                     "met": recognition >= RECOGNITION_TARGET},
                    {"name": f"examiner consistency >= {CONSISTENCY_TARGET:.0%}", "value": consistency,
                     "met": consistency is not None and consistency >= CONSISTENCY_TARGET}],
    }


def format_examiner_report(summary: dict[str, Any]) -> list[str]:
    """The examiner half's lines of the patient-eval table."""
    pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    return [f"  examiner recognition ({summary['n_orders']} orders)".ljust(40) + pct(summary["recognition"]),
            "    listed -> the case's result".ljust(40) + f"{summary['listed_with_case_result']} of {summary['n_listed']}",
            "    unlisted -> an answer".ljust(40) + f"{summary['unlisted_answered']} of {summary['n_unlisted']}",
            f"  examiner consistency ({summary['n_checked_by_a_rule']} checked)".ljust(40) + pct(summary["consistency"])]
