import json
from collections import Counter

import pytest

from clinic_env.cases.library import CaseError, load_case_file, load_cases, parse_case
from clinic_env.cases.schema import Case, PatientProfile
from clinic_env.investigations import lookup
from clinic_env.leaks import case_leaks, find_leaks


def test_library_size_and_breadth(cases):
    assert len(cases) >= 100
    specialties = Counter(c.specialty for c in cases)
    assert len(specialties) >= 12 and min(specialties.most_common(12), key=lambda kv: kv[1])[1] >= 3, specialties
    splits = Counter(c.split for c in cases)
    assert splits["train"] >= 40 and splits["test"] >= 40, splits
    assert len({c.id for c in cases}) == len(cases)
    ages = [c.demographics.age_years for c in cases]
    assert sum(a < 16 for a in ages) >= 10 and sum(a >= 65 for a in ages) >= 15  # children and older adults
    assert sum(c.demographics.pregnant for c in cases) >= 5
    sexes = Counter(c.demographics.sex for c in cases)
    assert min(sexes.values()) >= 35, sexes
    difficulty = Counter(c.difficulty for c in cases)
    assert min(difficulty[d] for d in ("easy", "medium", "hard")) >= 20, difficulty
    assert sum(c.management.disposition in ("emergency", "admit") for c in cases) >= 25  # can't-miss conditions


def test_test_split_covers_several_specialties(cases):
    assert len({c.specialty for c in cases if c.split == "test"}) >= 5


@pytest.mark.parametrize("field", ["history", "pertinent_negatives", "exam", "tests", "differential"])
def test_every_case_is_complete(cases, field):
    for case in cases:
        assert getattr(case, field), f"{case.id} has no {field}"
        assert case.management.first_line and case.diagnosis.icd10


def test_no_case_leaks_its_diagnosis(cases):
    leaks = {c.id: case_leaks(c) for c in cases}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_case_tests_resolve_in_the_catalogue_or_carry_aliases(cases):
    for case in cases:
        for test in case.tests:
            assert lookup(test.name) is not None or test.aliases, f"{case.id}: {test.name} is unreachable by alias"


def test_patient_view_has_no_diagnosis_fields(pneumonia_case):
    view = pneumonia_case.patient_view()
    assert isinstance(view, PatientProfile)
    forbidden = {"diagnosis", "differential", "management", "red_flags", "contraindications", "tests", "exam"}
    assert forbidden.isdisjoint(PatientProfile.model_fields)
    assert not find_leaks(view.model_dump_json(), pneumonia_case.diagnosis_names)


def test_load_by_id_specialty_split(cases):
    assert [c.id for c in load_cases(ids=["pulm_cap_adult"])] == ["pulm_cap_adult"]
    assert all(c.specialty == "pulmonology" for c in load_cases(specialty="pulmonology"))
    test = load_cases(split="test")
    assert test and all(c.split == "test" for c in test)
    assert len(test) + len(load_cases(split="train")) == len(cases)
    with pytest.raises(KeyError, match="no_such_case"):
        load_cases(ids=["no_such_case"])
    with pytest.raises(ValueError, match="split"):
        load_cases(split="validation")


def _exemplar_dict(case: Case) -> dict:
    return json.loads(case.model_dump_json())


def test_malformed_case_names_file_case_and_field(tmp_path, pneumonia_case):
    data = _exemplar_dict(pneumonia_case)
    data["id"] = "broken_case"
    data["history"][2]["topic"] = "favourite_colour"
    data["diagnosis"]["icd10"] = "not-a-code"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CaseError) as err:
        load_case_file(path)
    message = str(err.value)
    assert str(path) in message and "broken_case" in message
    assert "history[2].topic" in message and "diagnosis.icd10" in message


def test_unknown_field_and_bad_json_are_reported(tmp_path, pneumonia_case):
    data = _exemplar_dict(pneumonia_case)
    data["diagnosys"] = "typo"
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CaseError, match=r"pulm_cap_adult: field diagnosys"):
        load_case_file(path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", ')
    with pytest.raises(CaseError, match=r"bad.json.*invalid JSON at line 1"):
        load_case_file(bad)


def test_jsonl_errors_name_the_line(tmp_path, pneumonia_case):
    good = json.dumps(_exemplar_dict(pneumonia_case))
    bad = _exemplar_dict(pneumonia_case)
    bad["id"], bad["demographics"]["age_years"] = "second", -3
    path = tmp_path / "cases.jsonl"
    path.write_text(good + "\n\n" + json.dumps(bad) + "\n")
    with pytest.raises(CaseError, match=r"cases.jsonl:3: case second: field demographics.age_years"):
        load_case_file(path)


def test_consistency_rules():
    with pytest.raises(CaseError, match="pregnant is true but sex is not female"):
        parse_case({"id": "x", "demographics": {"age_years": 30, "sex": "male", "pregnant": True}})
    with pytest.raises(CaseError, match="expected a JSON object"):
        parse_case(["not", "a", "case"])


def test_duplicate_test_names_rejected(pneumonia_case):
    data = _exemplar_dict(pneumonia_case)
    data["tests"].append(dict(data["tests"][0]))
    with pytest.raises(CaseError, match="test names must be unique"):
        parse_case(data)


def test_titles_do_not_name_the_diagnosis(cases):
    assert [c.id for c in cases if find_leaks(c.title, c.diagnosis_names)] == []


def test_generic_question_words_are_not_keywords(pneumonia_case):
    data = _exemplar_dict(pneumonia_case)
    data["history"][0]["keywords"] = ["cold", "when", "How long"]
    with pytest.raises(CaseError, match=r"field history\[0\].keywords: .*remove \['How long', 'when'\]"):
        parse_case(data)
