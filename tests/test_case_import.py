"""AgentClinic import, the leak scanner (`clinic-env cases check`) and redaction."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest
from hypothesis import given
from hypothesis import strategies as st

import clinic_env  # noqa: F401  (registers the env)
from clinic_agents.scripted_doctor import ScriptedDoctor
from clinic_cli.main import main
from clinic_env.cases.agentclinic import SkipRecord, convert_record, import_agentclinic
from clinic_env.cases.library import CaseError, check_case_file, load_case_file
from clinic_env.leaks import WITHHELD, case_leaks, name_variants, redact_case
from clinic_env.rollout import run_consultation

SAMPLE = Path(__file__).parent / "data" / "agentclinic_sample.jsonl"  # invented records in AgentClinic's shape


@pytest.fixture(scope="module")
def report():
    return import_agentclinic(SAMPLE, on_leak="keep")


def by_id(report, case_id):
    return next(c for c in report.cases if c.id == case_id)


def test_records_map_onto_the_case_schema(report):
    assert [c.id for c in report.cases] == ["agentclinic_0001", "agentclinic_0002", "agentclinic_0003",
                                            "agentclinic_0007"]
    uti = by_id(report, "agentclinic_0001")
    assert (uti.demographics.age_years, uti.demographics.sex, uti.split) == (27, "female", "test")
    assert uti.chief_complaint == "Burning on urination" and uti.title == "Burning on urination in a 27-year-old woman"
    assert uti.history[1].lay == "I report burning when passing urine for 3 days."  # told in the first person
    assert [n.symptom for n in uti.pertinent_negatives] == ["any vaginal discharge", "fever", "back pain", "vomiting"]
    assert set(uti.exam) == {"vitals", "abdominal"} and "suprapubic tenderness" in uti.exam["abdominal"]
    assert [(t.name, t.aliases) for t in uti.tests] == [("urinalysis", ["Urine Dipstick"]),
                                                        ("urine pregnancy test", ["Pregnancy Test"])]
    assert uti.diagnosis.name == "Acute cystitis" and uti.management is None and uti.diagnosis.icd10 is None
    mi = by_id(report, "agentclinic_0002")  # "45M", lists, nested groups, medications, an extra top-level key
    assert (mi.demographics.age_years, mi.demographics.sex) == (45, "male")
    assert [t.name for t in mi.tests] == ["troponin", "complete blood count", "ecg"]
    assert mi.tests[1].result == "WBC: 9.1; Hemoglobin: 14.2 g/dL" and all(t.key for t in mi.tests)
    assert [m.name for m in mi.medications] == ["Lisinopril 10 mg daily"] and mi.allergies == []  # NKDA
    assert mi.history[2].topic == "radiation" and mi.family_history[0].text == "Father: Heart attack at 52"
    pregnant = by_id(report, "agentclinic_0007")
    assert pregnant.demographics.pregnant and pregnant.demographics.gestation_weeks == 30
    assert "obstetric" in pregnant.exam and [a.substance for a in pregnant.allergies] == ["Penicillin"]


def test_odd_records_are_skipped_with_their_reason(report):
    assert len(report.skipped) == 3
    assert report.skipped[0].endswith(":4: no Correct_Diagnosis")
    assert ":5: not JSON" in report.skipped[1] and ":6: expected a JSON object, got list" in report.skipped[2]


def test_a_diagnosis_in_the_results_is_flagged_and_each_policy_applies(report):
    assert report.flagged == [("agentclinic_0003", "tests[0].result", "acute appendicitis")]
    assert by_id(report, "agentclinic_0003").tests[0].result.endswith("consistent with acute appendicitis")
    dropped = import_agentclinic(SAMPLE, on_leak="drop")
    assert dropped.dropped == ["agentclinic_0003"] and "agentclinic_0003" not in [c.id for c in dropped.cases]
    redacted = import_agentclinic(SAMPLE, on_leak="redact")
    case = by_id(redacted, "agentclinic_0003")
    assert redacted.redacted == ["agentclinic_0003"] and case_leaks(case) == []
    assert case.tests[0].result.endswith(f"consistent with {WITHHELD}") and case.diagnosis.name == "Acute appendicitis"


def test_imported_cases_play_in_the_env(report):
    env = gym.make("clinic_env/Consultation-v0", cases=report.cases)
    for seed, case in enumerate(report.cases):
        result = run_consultation(env, ScriptedDoctor(), seed=seed, case_id=case.id)
        assert result.case_id == case.id and 0.0 <= result.score <= 1.0 and result.doctor_turns > 3


def test_import_and_check_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "cases.jsonl"
    assert main(["cases", "import", "agentclinic", str(SAMPLE), "--out", str(out), "--leaks", "drop"]) == 0
    printed = capsys.readouterr().out
    assert "3 case(s) written" in printed and "3 record(s) skipped" in printed and "1 dropped" in printed
    assert [c.id for c in load_case_file(out)] == ["agentclinic_0001", "agentclinic_0002", "agentclinic_0007"]
    assert main(["cases", "check", str(out)]) == 0 and "3 valid case(s) in 1 file(s); 0 problem(s)" in capsys.readouterr().out
    assert main(["cases", "import", "agentclinic", str(SAMPLE), "--out", str(out)]) == 2  # no silent overwrite
    assert "pass --force" in capsys.readouterr().err
    kept = tmp_path / "kept.jsonl"
    main(["cases", "import", "agentclinic", str(SAMPLE), "--out", str(kept), "--leaks", "keep"])
    capsys.readouterr()
    assert main(["cases", "check", str(kept), str(SAMPLE)]) == 1
    printed = capsys.readouterr().out
    assert f"LEAK {kept}: case agentclinic_0003: field tests[0].result: gives away 'acute appendicitis'" in printed
    assert f"INVALID {SAMPLE}:5: case <unreadable>: invalid JSON" in printed  # every bad record, not just the first


def test_the_scanner_finds_abbreviations_and_bare_names_of_an_imported_diagnosis(pneumonia_case):
    assert name_variants("Deep vein thrombosis") == ["Deep vein thrombosis", "DVT"]
    assert name_variants("Acute appendicitis") == ["Acute appendicitis", "appendicitis"]
    assert "COPD" in name_variants("Chronic obstructive pulmonary disease (COPD)")
    assert name_variants("Pneumonia, right lower lobe")[1] == "Pneumonia"
    data = json.loads(pneumonia_case.model_dump_json())
    data["diagnosis"] = {"name": "Deep vein thrombosis"}
    data["exam"]["general"] = "Swollen left calf; DVT suspected"
    data["history"][0]["lay"] = "The doctor thought it was a deep-vein thrombosis last time."
    case = type(pneumonia_case).model_validate(data)
    assert set(case_leaks(case)) == {("exam.general", "DVT"), ("history[0].lay", "deep-vein thrombosis")}
    clean = redact_case(case)
    assert case_leaks(clean) == [] and clean.exam["general"] == f"Swollen left calf; {WITHHELD} suspected"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=25)
KEYS = st.sampled_from(["Demographics", "History", "Symptoms", "Primary_Symptom", "Secondary_Symptoms",
                        "Review_of_Systems", "Current_Medications", "Allergies", "Past_Medical_History",
                        "Vital_Signs", "Imaging", "Blood_Tests", "Correct_Diagnosis", "Patient_Actor"])


@given(st.fixed_dictionaries({
    "Patient_Actor": st.dictionaries(KEYS, JSON | st.sampled_from(["52-year-old male", "3 month old girl", "45F"]),
                                     max_size=8),
    "Physical_Examination_Findings": JSON, "Test_Results": JSON,
    "Correct_Diagnosis": JSON | st.text(max_size=40)}))
def test_fuzzed_records_become_cases_or_are_skipped_never_a_crash(osce):
    try:
        case = convert_record({"OSCE_Examination": osce}, "fuzz_0001")
    except (SkipRecord, CaseError):
        return
    assert case.id == "fuzz_0001" and case.history and case.exam and case.tests


@given(st.lists(JSON | st.text(max_size=80), max_size=6))
def test_fuzzed_files_import_without_raising(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("fuzz") / "cases.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records), encoding="utf-8")
    report = import_agentclinic(path)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(report.cases) + len(report.skipped) + len(report.dropped) == len(lines)  # one outcome per record


@pytest.mark.parametrize("name, text, message", [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("big.json", '{"id": ' + "9" * 5_000 + "}", "more digits than a case can hold"),
    ("lines.jsonl", "{\"a\": 1}\n" + "[" * 100_000, "lines.jsonl:2: case <unreadable>: JSON nested too deeply"),
])
def test_cases_check_names_unusable_json_without_a_traceback(tmp_path, capsys, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert main(["cases", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert message in out and str(path) in out and "Traceback" not in out


def test_a_byte_order_mark_is_read_and_a_repeated_id_is_a_problem(tmp_path, pneumonia_case):
    record = pneumonia_case.model_dump_json()
    bom = tmp_path / "bom.json"
    bom.write_text(record, encoding="utf-8-sig")
    assert [c.id for c in load_case_file(bom)] == [pneumonia_case.id]
    twice = tmp_path / "twice.jsonl"
    twice.write_text(f"{record}\n{record}\n", encoding="utf-8")
    cases, problems = check_case_file(twice)
    assert len(cases) == 1 and problems == [f"{twice}:2: case {pneumonia_case.id}: id already used at {twice}:1"]


@given(st.lists(JSON | st.text(max_size=80), max_size=6))
def test_fuzzed_case_files_are_checked_without_raising(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("fuzz") / "cases.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records), encoding="utf-8")
    cases, problems = check_case_file(path)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(cases) + len(problems) == len(lines)  # one outcome per record
