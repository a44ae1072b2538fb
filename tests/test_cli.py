import json

import pytest

from clinic_env.cli import main
from clinic_env.registry import load_entry_point, make


def test_cases_lists_the_library(capsys, cases):
    assert main(["cases"]) == 0
    out = capsys.readouterr().out
    assert all(c.id in out for c in cases)
    assert f"{len(cases)} cases" in out


def test_cases_json_filters(capsys):
    assert main(["cases", "--split", "test", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed and all(item["split"] == "test" for item in listed)


def test_cases_validates_a_file(tmp_path, capsys, pneumonia_case):
    data = json.loads(pneumonia_case.model_dump_json())
    data["exam"]["aura"] = "glowing"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    assert main(["cases", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "mine.json" in err and "pulm_cap_adult" in err and "exam.aura" in err


def test_run_prints_transcript_and_score(capsys):
    assert main(["run", "--case", "pulm_cap_adult", "--doctor", "scripted", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "Case pulm_cap_adult" in out and "Patient:" in out and "Doctor:" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["case_id"] == "pulm_cap_adult" and 0.0 <= summary["score"] <= 1.0
    assert summary["terminated"] or summary["truncated"]


def test_run_writes_html(tmp_path, capsys):
    out = tmp_path / "t.html"
    assert main(["run", "--case", "pulm_cap_adult", "--seed", "1", "--html", str(out)]) == 0
    assert out.read_text().startswith('<div class="clinic-env-transcript"')


def test_run_reports_bad_input(capsys):
    assert main(["run", "--case", "no_such_case"]) == 2
    assert "unknown case id(s) ['no_such_case']" in capsys.readouterr().err
    assert main(["run", "--case", "pulm_cap_adult", "--doctor", "oracle"]) == 2
    assert "unknown doctor 'oracle'" in capsys.readouterr().err
    assert main(["run", "--case", "pulm_cap_adult", "--persona", "grumpy"]) == 2
    assert "unknown persona preset 'grumpy'" in capsys.readouterr().err


def test_registry_entry_points():
    assert load_entry_point("clinic_env.patient:OfflinePatient").__name__ == "OfflinePatient"
    assert type(make("patient", "clinic_env.patient:OfflinePatient")).__name__ == "OfflinePatient"
    with pytest.raises(ValueError, match="must look like"):
        load_entry_point("clinic_env.patient")
    with pytest.raises(ImportError, match="has no attribute 'Nope'"):
        load_entry_point("clinic_env.patient:Nope")
    with pytest.raises(ImportError, match="cannot import 'no_such_pkg.mod'"):
        load_entry_point("no_such_pkg.mod:X")
