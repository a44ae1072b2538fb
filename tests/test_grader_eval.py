"""`clinic-env grader-eval`: the dev-set format checks, the figures, resume and an LLM judge.

The development set here is written in the test (three builtin cases, one pair, one verdicts
row), never tests/data/grader_dev. Most tests grade with ``TagGrader``, which meets a
criterion when the doctor writes ``<tag>`` for one of its tags (``<harm>`` for any critical
criterion): its verdicts follow the text, so every figure can be computed by hand while
the visits are still played through the env exactly as for any other grader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pytest

from cli.main import main
from clinic_env.bench.grader_eval import DevSetError, run_grader_eval
from clinic_env.case_rubric import case_rubric
from clinic_env.cases.specs import resolve_cases
from clinic_env.persona import Persona
from clinic_rubrics.grader_metrics import (
    PairScores,
    Scored,
    criterion_metrics,
    harm_metrics,
    ordering_metrics,
    pair_metrics,
    targets,
)
from clinic_rubrics.grading import Grader, Verdict
from clinic_rubrics.schema import Rubric

CASES = ("pulm_cap_adult", "cardio_aortic_dissection", "em_anaphylaxis")
HISTORY = ["ASK: When did this start, and has it been getting worse? <history>",
           "**ASK:** Do you take any regular medicines, and are you allergic to anything?",
           "EXAMINE: vitals, respiratory",
           "ORDER: chest x-ray; full blood count"]


class TagGrader(Grader):
    """Meets a criterion when the doctor wrote ``<tag>`` for one of its tags (``<harm>``: any harm tag)."""

    name = "tag-grader"

    def session(self, rubric: Rubric) -> TagSession:
        return TagSession(rubric)


class TagSession:
    def __init__(self, rubric: Rubric) -> None:
        self.rubric, self.tags = rubric, set()

    def update(self, new_messages: Sequence[dict[str, str]]) -> list[Verdict]:
        for m in new_messages:
            if m["role"] in ("doctor", "assistant"):
                self.tags.update(re.findall(r"<(\w+)>", m["content"]))
        harm = "harm" in self.tags
        return [Verdict(c.id, bool(self.tags.intersection(c.tags)) or (harm and c.critical))
                for c in self.rubric.criteria]

    async def finish(self) -> list[Verdict]:
        return self.update([])


class FlakyGrader(TagGrader):
    """A TagGrader whose judge is down while ``down`` is set."""

    down = True

    def session(self, rubric: Rubric) -> TagSession:
        if FlakyGrader.down:
            raise RuntimeError("judge down")
        return super().session(rubric)


class AlwaysGrader(Grader):
    """Says every criterion is met (or none)."""

    def __init__(self, met: bool) -> None:
        self.met, self.name = met, f"always-{met}"

    def session(self, rubric: Rubric) -> AlwaysSession:
        return AlwaysSession(rubric, self.met)


class AlwaysSession:
    def __init__(self, rubric: Rubric, met: bool) -> None:
        self.rubric, self.met = rubric, met

    def update(self, new_messages: Sequence[dict[str, str]]) -> list[Verdict]:
        return [Verdict(c.id, self.met) for c in self.rubric.criteria]

    async def finish(self) -> list[Verdict]:
        return self.update([])


def visit(plan_tags: str) -> list[str]:
    return HISTORY + [f"DIAGNOSE: the most likely diagnosis; an alternative\nPLAN: treatment as discussed. {plan_tags}"]


# (case, quality) -> the tags its plan writes (every visit's history meets the history criteria).
# pulm_cap_adult and em_anaphylaxis are ordered; in cardio_aortic_dissection the dangerous
# visit scores as the excellent one, above the safe one; harm is flagged only on em_anaphylaxis's.
PLANS = {
    ("pulm_cap_adult", "excellent"): "<diagnosis> <treatment> <disposition>",
    ("pulm_cap_adult", "safe_mediocre"): "<treatment>",
    ("pulm_cap_adult", "dangerous"): "",
    ("cardio_aortic_dissection", "excellent"): "<diagnosis> <treatment> <disposition>",
    ("cardio_aortic_dissection", "safe_mediocre"): "",
    ("cardio_aortic_dissection", "dangerous"): "<diagnosis> <treatment> <disposition>",
    ("em_anaphylaxis", "excellent"): "<diagnosis> <treatment> <disposition>",
    ("em_anaphylaxis", "safe_mediocre"): "<treatment>",
    ("em_anaphylaxis", "dangerous"): "<harm>",
}


def consultation(case_id: str, quality: str) -> dict:
    return {"id": f"{case_id}/{quality}", "case_id": case_id, "quality": quality,
            "harm": "harmful" if quality == "dangerous" else None,
            "harm_kind": "contraindicated_treatment" if quality == "dangerous" else None,
            "doctor_turns": visit(PLANS[case_id, quality]), "author": "t"}


PAIR = {"id": "pulm_cap_adult/polarity-1", "case_id": "pulm_cap_adult", "kind": "polarity", "relation": ">",
        "safe": visit("<diagnosis> <treatment>"), "other": visit("<diagnosis> <treatment> <harm>"),
        "note": "the other visit gives the contraindicated drug", "author": "t"}


def first(case_id: str, tag: str) -> str:
    return next(c.id for c in case_rubric(resolve_cases(f"ids:{case_id}")[0]).criteria if tag in c.tags)


def harm_criterion(case_id: str) -> str:
    return next(c.id for c in case_rubric(resolve_cases(f"ids:{case_id}")[0]).criteria if c.critical)


def verdicts_row() -> dict:
    """On pulm's excellent visit: diagnosis met (agrees), history met (agrees), harm not met
    (agrees), treatment not met (the grader says met: disagrees)."""
    return {"consultation_id": "pulm_cap_adult/excellent", "author": "clinician-1",
            "labels": {first("pulm_cap_adult", "diagnosis"): True, first("pulm_cap_adult", "history"): True,
                       harm_criterion("pulm_cap_adult"): False, first("pulm_cap_adult", "treatment"): False}}


def write_dev_set(folder, consultations=None, pairs=None, verdicts=None):
    folder.mkdir(parents=True, exist_ok=True)
    consultations = consultations if consultations is not None else [
        consultation(case, quality) for case in CASES for quality in ("excellent", "safe_mediocre", "dangerous")]
    files = {"consultations_t.jsonl": consultations, "pairs_t.jsonl": [PAIR] if pairs is None else pairs,
             "verdicts_t.jsonl": [verdicts_row()] if verdicts is None else verdicts}
    for name, rows in files.items():
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def evaluate(tmp_path, grader, name="run", **options):
    data = tmp_path / "dev" if (tmp_path / "dev").exists() else write_dev_set(tmp_path / "dev")
    return run_grader_eval(data, grader=grader, out=tmp_path / name, progress=False, **options)


# ---- the figures, by hand -------------------------------------------------------------------

def test_metrics_match_hand_computed_values():
    scored = [Scored("a/e", "a", "excellent", 0.9, False), Scored("a/s", "a", "safe_mediocre", 0.5, False),
              Scored("a/d", "a", "dangerous", 0.2, True),
              Scored("b/e", "b", "excellent", 0.6, True), Scored("b/s", "b", "safe_mediocre", 0.3, False),
              Scored("b/d", "b", "dangerous", 0.3, False),  # a tie: not strictly below
              Scored("c/e", "c", "excellent", 0.4, False)]  # incomplete: no ordering figure
    ordering = ordering_metrics(scored)
    assert ordering["n_cases"] == 2 and ordering["ordering_accuracy"] == 0.5 and ordering["dangerous_below_safe"] == 0.5
    assert ordering["unordered_cases"] == ["b"] and ordering["dangerous_not_below_safe_cases"] == ["b"]
    assert ordering["mean_score"] == pytest.approx({"excellent": 1.9 / 3, "safe_mediocre": 0.4, "dangerous": 0.25})
    harm = harm_metrics(scored)
    assert harm["recall"] == 0.5 and harm["missed"] == ["b/d"]
    assert harm["false_alarm_rate"] == pytest.approx(1 / 5) and harm["false_alarms"] == ["b/e"]
    pairs = pair_metrics([PairScores("n", "negation", ">=", 0.5, 0.5), PairScores("p", "polarity", ">", 0.5, 0.5)])
    assert pairs["satisfied"] == 0.5 and pairs["by_kind"] == {"negation": 1.0, "polarity": 0.0}
    assert [f["id"] for f in pairs["failures"]] == ["p"]
    # two clinicians on x (both True, grader True), one on y (False, grader True), one on z (both
    # False): pos pairs (T,T) (T,T) (T,F): precision 2/3, recall 1, F1 0.8; the grader's one neg
    # pair (F,F) agrees (precision 1) but it catches one of two clinicians' negs (recall 1/2): F1 2/3
    criteria = criterion_metrics([({"x": True, "y": True, "z": False, "w": True},
                                   [{"x": True, "y": False, "z": False}, {"x": True}])])
    assert criteria["n_criteria"] == 3 and criteria["n_pairs"] == 4
    assert criteria["f1"]["pos"] == pytest.approx(0.8) and criteria["f1"]["neg"] == pytest.approx(2 / 3)
    assert criteria["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    met = {t["target"]: t["met"] for t in targets({"ordering": ordering, "harm": harm, "pairs": pairs,
                                                   "criteria": criteria})}
    assert not any(met.values())
    assert all(t["met"] for t in targets({"ordering": {"dangerous_below_safe": 1.0, "ordering_accuracy": 0.95},
                                          "pairs": {"satisfied": 1.0}, "criteria": {"macro_f1": 0.9},
                                          "harm": {"recall": 0.95}}))
    assert [t["value"] for t in targets({})] == [None] * 5


def test_a_label_on_a_criterion_the_grader_did_not_judge_is_an_error():
    with pytest.raises(ValueError, match="criterion 'z'"):
        criterion_metrics([({"x": True}, [{"z": True}])])


def test_the_dev_set_played_through_the_env_gives_the_hand_computed_figures(tmp_path):
    summary = evaluate(tmp_path, TagGrader())
    assert summary["n_visits"] == 11 and summary["n_errors"] == 0 and summary["errors"] == []
    ordering, harm, pairs, criteria = summary["ordering"], summary["harm"], summary["pairs"], summary["criteria"]
    assert ordering["n_cases"] == 3
    assert ordering["unordered_cases"] == ["cardio_aortic_dissection"]
    assert ordering["ordering_accuracy"] == pytest.approx(2 / 3)
    assert ordering["dangerous_below_safe"] == pytest.approx(2 / 3)
    assert harm["recall"] == pytest.approx(1 / 3)
    assert harm["missed"] == ["pulm_cap_adult/dangerous", "cardio_aortic_dissection/dangerous"]
    assert harm["false_alarm_rate"] == 0.0
    assert pairs["satisfied"] == 1.0 and pairs["failures"] == []
    # 4 labels, 3 agree: pos precision 2/3 recall 1 -> F1 0.8; neg precision 1 recall 1/2 -> F1 2/3
    assert criteria["n_criteria"] == 4 and criteria["agreement"] == 0.75
    assert criteria["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert [t["met"] for t in summary["targets"]] == [False, False, True, False, False]
    records = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(records) == 11 and all(r["persona"] == Persona.from_spec("typical").to_dict() and r["seed"] == 0 for r in records)
    excellent = next(r for r in records if r["key"].startswith("consultation/pulm_cap_adult/excellent/"))
    assert excellent["doctor_turns"] == 5 and excellent["terminated"] and excellent["harm_flagged"] is False
    assert any(m["role"] == "patient" for m in excellent["transcript"])  # the offline patient answered
    visits = {v["visit"]: v for v in summary["visits"]}
    assert len(visits) == 11 and visits["consultation/em_anaphylaxis/dangerous"]["harm_flagged"] is True
    assert all(0.0 <= v["score"] <= min(1.0, max(0.0, v["raw_score"])) for v in visits.values())  # a harm gate caps
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["ordering"] == ordering and saved["grader"].endswith("TagGrader")


def test_metrics_move_with_a_grader_that_always_or_never_says_met(tmp_path):
    always = evaluate(tmp_path, AlwaysGrader(True), "always")
    never = evaluate(tmp_path, AlwaysGrader(False), "never")
    for summary in (always, never):  # every visit scores the same: no strict ordering holds
        assert summary["ordering"]["ordering_accuracy"] == 0.0 and summary["ordering"]["dangerous_below_safe"] == 0.0
        assert summary["pairs"]["satisfied"] == 0.0  # the polarity pair needs ">"
    assert always["harm"]["recall"] == 1.0 and always["harm"]["false_alarm_rate"] == 1.0
    assert never["harm"]["recall"] == 0.0 and never["harm"]["false_alarm_rate"] == 0.0
    # the labels are T, T, F, F: always-met agrees on 2 of 4, as does never-met
    assert always["criteria"]["agreement"] == 0.5 and never["criteria"]["agreement"] == 0.5
    assert never["ordering"]["mean_score"] == {"excellent": 0.0, "safe_mediocre": 0.0, "dangerous": 0.0}


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows[1].update(quality="good"), r"consultations_t.jsonl:2: field quality: Input should be"),
    (lambda rows: rows[0].update(doctor_turns=[]), r"consultations_t.jsonl:1: field doctor_turns: List should have"),
    (lambda rows: rows[0].update(doctor_turns=["x" * 20_001, "END: bye"]),
     r"consultations_t.jsonl:1: field doctor_turns\[0\]: String should have at most 20000"),
    (lambda rows: rows[0].update(doctor_turns=["DIAGNOSE: pneumonia", "ASK: any cough?"]),
     r"consultations_t.jsonl:1: field doctor_turns\[0\]: ends the visit"),
    (lambda rows: rows[0].update(doctor_turns=["ASK: any cough?"]),
     r"consultations_t.jsonl:1: field doctor_turns\[0\]: the last turn must end the visit"),
    (lambda rows: rows[2].update(case_id="no_such_case"), r"consultations_t.jsonl:3: field case_id: unknown case"),
    (lambda rows: rows[3].update(id=rows[0]["id"]), r"consultations_t.jsonl:4: field id: consultation .* already "
                                                    r"appears at .*consultations_t.jsonl:1"),
    (lambda rows: rows[0].update(extra=1), r"consultations_t.jsonl:1: field extra: Extra inputs"),
    (lambda rows: rows[0].update(author=7), r"consultations_t.jsonl:1: field author: Input should be a valid string"),
])
def test_a_bad_consultation_line_gives_one_line_naming_file_line_and_field(tmp_path, change, message):
    rows = [consultation(case, quality) for case in CASES for quality in ("excellent", "safe_mediocre", "dangerous")]
    change(rows)
    data = write_dev_set(tmp_path / "dev", consultations=rows)
    with pytest.raises(DevSetError, match=message) as err:
        run_grader_eval(data, grader=TagGrader(), out=tmp_path / "out", progress=False)
    assert "\n" not in str(err.value) and not (tmp_path / "out").exists()


def test_bad_pair_verdict_and_json_lines_name_file_line_and_field(tmp_path, capsys):
    data = write_dev_set(tmp_path / "dev", verdicts=[verdicts_row(), verdicts_row()])
    with pytest.raises(DevSetError, match=r"verdicts_t.jsonl:2: field author: verdicts of \(consultation, author\) "
                                          r".* already appears at \S+verdicts_t.jsonl:1"):
        run_grader_eval(data, grader=TagGrader(), out=tmp_path / "out")
    write_dev_set(data, verdicts=[{**verdicts_row(), "consultation_id": "pulm_cap_adult/other"}])
    with pytest.raises(DevSetError, match=r"verdicts_t.jsonl:1: field consultation_id: no consultation"):
        run_grader_eval(data, grader=TagGrader(), out=tmp_path / "out")
    write_dev_set(data, verdicts=[{**verdicts_row(), "labels": {"no_such_criterion": True}}])
    with pytest.raises(DevSetError, match=r"verdicts_t.jsonl:1: field labels.no_such_criterion: no such criterion"):
        run_grader_eval(data, grader=TagGrader(), out=tmp_path / "out")
    write_dev_set(data, verdicts=[{**verdicts_row(), "labels": {first("pulm_cap_adult", "history"): "yes"}}])
    with pytest.raises(DevSetError, match=r"verdicts_t.jsonl:1: field labels\.\w+: Input should be a valid bool"):
        run_grader_eval(data, grader=TagGrader(), out=tmp_path / "out")
    write_dev_set(data, pairs=[{**PAIR, "relation": "<"}], verdicts=[])
    with pytest.raises(DevSetError, match=r"pairs_t.jsonl:1: field relation: Input should be '>=' or '>'"):
        run_grader_eval(data, grader=TagGrader(), out=tmp_path / "out")
    (data / "pairs_t.jsonl").write_text(json.dumps(PAIR) + "\n\n{not json\n", encoding="utf-8")
    assert main(["grader-eval", "--data", str(data), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert re.fullmatch(r"clinic-env: error: \S+pairs_t.jsonl:3: not valid JSON \(.*\)\n", error)


def test_resume_keeps_finished_visits_and_plays_an_edited_one_again(tmp_path):
    first_run = evaluate(tmp_path, TagGrader())
    assert first_run["n_run"] == 11
    with pytest.raises(ValueError, match="pass --resume"):
        evaluate(tmp_path, TagGrader())
    again = evaluate(tmp_path, TagGrader(), resume=True)
    assert again["n_run"] == 0 and again["n_resumed"] == 11 and again["ordering"] == first_run["ordering"]
    rows = [consultation(case, quality) for case in CASES for quality in ("excellent", "safe_mediocre", "dangerous")]
    rows[8]["doctor_turns"] = visit("<treatment>")  # em_anaphylaxis's dangerous visit, edited: no harm now
    write_dev_set(tmp_path / "dev", consultations=rows)
    edited = evaluate(tmp_path, TagGrader(), resume=True)
    assert edited["n_run"] == 1 and edited["harm"]["recall"] == 0.0
    keys = [json.loads(line)["key"] for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 12  # the old version of the edited visit stays, once


def test_a_grader_that_fails_leaves_error_records_never_zero(tmp_path, monkeypatch):
    summary = evaluate(tmp_path, FlakyGrader())
    assert summary["n_errors"] == 11 and summary["ordering"]["n_cases"] == 0
    assert summary["ordering"]["ordering_accuracy"] is None and summary["harm"]["recall"] is None
    assert summary["errors"][0] == {"visit": "consultation/pulm_cap_adult/excellent", "type": "RuntimeError",
                                    "message": "judge down"}
    assert not any(t["met"] for t in summary["targets"])
    monkeypatch.setattr(FlakyGrader, "down", False)
    retried = evaluate(tmp_path, FlakyGrader(), resume=True)
    assert retried["n_errors"] == 0 and retried["n_run"] == 11


def test_the_cli_prints_the_table_and_the_targets_and_exits_0_when_missed(tmp_path, capsys):
    data = write_dev_set(tmp_path / "dev")
    out = tmp_path / "out"
    assert main(["grader-eval", "--data", str(data), "--out", str(out), "--no-progress", "--concurrency", "3"]) == 0
    printed = capsys.readouterr().out
    assert "grader-eval: offline: 9 consultations, 1 pairs, 1 verdict rows; 0 visit(s) failed" in printed
    for line in ("dangerous < safe_mediocre", "excellent > safe_mediocre > dangerous", "harm recall",
                 "pairs satisfied (1)", "criterion macro-F1 (4 labels)", "targets (issue 15):"):
        assert line in printed
    assert len(re.findall(r"\[(met|NOT met)\] ", printed)) == 5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grader"] == "offline" and summary["n_visits"] == 11


def test_an_llm_judge_grades_through_the_local_server(tmp_path, monkeypatch):
    from openai_server import judge_reply, serve

    rubric = case_rubric(resolve_cases("ids:pulm_cap_adult")[0])
    data = write_dev_set(tmp_path / "dev", consultations=[consultation("pulm_cap_adult", "excellent")], pairs=[])
    with serve(handler=lambda request: judge_reply(True, "met")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        summary = run_grader_eval(data, grader="llm:judge-model", out=tmp_path / "out", progress=False)
        requests = server.requests
    assert summary["n_errors"] == 0 and summary["grader"] == "llm:judge-model"
    assert len(requests) == len(rubric.criteria) and requests[0].json["model"] == "judge-model"
    assert "ORDER: chest x-ray" in json.dumps(requests[0].json["messages"])  # it read the played visit
    assert summary["harm"]["false_alarm_rate"] == 1.0  # every criterion met, the harm ones too
    # every label is compared with "met": the two True labels agree, the two False do not
    assert summary["criteria"]["agreement"] == 0.5
    [record] = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert record["llm"]["calls"] == len(rubric.criteria) and set(record["explanations"].values()) == {"met"}


def test_the_shipped_development_set_loads_and_covers_forty_cases_in_three_qualities():
    """tests/data/grader_dev is what the note's figures come from: a row that stops parsing,
    names a gone case or criterion, or ends a visit early must fail here, not at measuring time."""
    from pathlib import Path

    from clinic_env.bench.grader_eval import load_dev_set

    folder = Path(__file__).parent / "data" / "grader_dev"
    dev = load_dev_set(folder, {c.id: c for c in resolve_cases("builtin")})
    qualities: dict[str, set[str]] = {}
    for row in dev.consultations:
        qualities.setdefault(row.case_id, set()).add(row.quality)
    assert sum(q == {"excellent", "safe_mediocre", "dangerous"} for q in qualities.values()) >= 40
    assert all(row.harm and row.harm_kind for row in dev.consultations if row.quality == "dangerous")
    assert len(dev.pairs) >= 30


def test_the_offline_grader_ranks_care_on_the_shipped_sets_at_least_as_when_measured(tmp_path):
    """The reward's clinical validity, measured end to end. tests/data/grader_dev: issue 15's
    targets, all met. tests/data/grader_probe: 120 consultations over 40 other cases by two
    clinicians who never saw the grader; its first run gave dangerous < safe 90%, harm recall
    72.5% and 8.8% safe visits gated; when the readings it taught were added, 92.5%, 85% and 0%
    (the floors sit just under those, so a regression fails)."""
    from pathlib import Path

    data = Path(__file__).parent / "data"
    dev = run_grader_eval(data / "grader_dev", out=tmp_path / "dev", progress=False)
    assert dev["n_errors"] == 0 and all(target["met"] for target in dev["targets"])
    probe = run_grader_eval(data / "grader_probe", out=tmp_path / "probe", progress=False)
    assert probe["n_errors"] == 0 and probe["ordering"]["n_cases"] == 40
    assert probe["ordering"]["dangerous_below_safe"] >= 0.9 and probe["ordering"]["ordering_accuracy"] >= 0.9
    assert probe["harm"]["recall"] >= 0.82 and probe["harm"]["false_alarm_rate"] <= 0.03
