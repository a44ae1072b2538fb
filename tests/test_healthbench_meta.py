"""HealthBench meta-evaluation: the grader against physicians' labels, pairwise as simple-evals computes it.

``tests/data/healthbench_meta_eval.jsonl`` holds 12 rows written for these tests (two
categories, three physicians, two or three labels a row). ``GRADER`` is the label a grader
gives each row; the expected figures below are worked out by hand from the file.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from openai_server import judge_reply, serve

from clinic_cli.main import main
from clinic_env.bench.healthbench import meta_eval_key
from clinic_rubrics.healthbench import load_meta_eval
from clinic_rubrics.healthbench_meta import agreement, meta_eval_report

DATA = Path(__file__).parent / "data" / "healthbench_meta_eval.jsonl"
ROWS = load_meta_eval(DATA)
GRADER = [True, True, False, True, False, True, False, False, False, True, False, False]


def close(value, fraction):
    return value == pytest.approx(float(fraction), abs=1e-12)


def test_the_file_is_what_the_hand_computation_assumes():
    assert len(ROWS) == 12 and sum(len(r.binary_labels) for r in ROWS) == 31
    assert [r.category for r in ROWS] == ["cluster:emergency_referrals"] * 6 + ["cluster:hedging"] * 6
    assert ROWS[0].completion_id == ROWS[1].completion_id and ROWS[0].rubric != ROWS[1].rubric


def test_grader_figures_by_hand():
    report = meta_eval_report(ROWS, GRADER)
    g = report.grader
    # Grader said "met" on rows 1, 2, 4, 6, 10: 14 pairs, 9 agree. Said "not met": 17 pairs, 11 agree.
    assert close(g.precision["pos"], Fraction(9, 14)) and close(g.precision["neg"], Fraction(11, 17))
    # Physicians said "met" 15 times, the grader agreed 9 times; "not met" 16 times, agreed 11 times.
    assert close(g.recall["pos"], Fraction(9, 15)) and close(g.recall["neg"], Fraction(11, 16))
    assert close(g.f1["pos"], Fraction(18, 29)) and close(g.f1["neg"], Fraction(2, 3))
    assert close(g.macro_f1, Fraction(56, 87)) and close(g.agreement, Fraction(20, 31)) and g.n_pairs == 31
    assert close(g.precision["balanced"], (Fraction(9, 14) + Fraction(11, 17)) / 2)
    # A majority vote per row would give another figure: 9 of 12 rows agree with the majority.
    assert not close(g.agreement, Fraction(9, 12))
    emergency = report.by_category["cluster:emergency_referrals"]
    assert close(emergency.f1["pos"], Fraction(14, 19)) and close(emergency.f1["neg"], Fraction(6, 11))
    assert close(emergency.macro_f1, Fraction(134, 209))
    assert set(report.by_category) == {"cluster:emergency_referrals", "cluster:hedging"}


def test_physician_baseline_by_hand():
    report = meta_eval_report(ROWS, GRADER)
    a = report.physicians["phys_a"]
    assert close(a.precision["pos"], Fraction(7, 9)) and close(a.precision["neg"], Fraction(3, 4))
    assert close(a.recall["pos"], Fraction(7, 9)) and close(a.recall["neg"], Fraction(3, 4))
    assert close(a.macro_f1, Fraction(55, 72)) and a.n_pairs == 17
    assert set(report.physicians) == {"phys_a", "phys_b", "phys_c"}
    expected_mean = sum(p.macro_f1 for p in report.physicians.values()) / 3
    assert close(report.physician_mean_macro_f1, expected_mean)


def test_edge_cases_of_the_arithmetic():
    perfect = agreement([True, False], [[True, True], [False]])
    assert perfect.macro_f1 == 1.0 and perfect.agreement == 1.0
    all_wrong = agreement([True, False], [[False], [True]])
    assert all_wrong.f1 == {"pos": 0.0, "neg": 0.0, "balanced": 0.0}
    only_positive = agreement([True], [[True]])  # no negative class at all: F1 undefined, not 0
    assert only_positive.f1["neg"] is None and only_positive.macro_f1 is None
    report = meta_eval_report(ROWS, [None] + GRADER[1:])  # a failed row is left out, never a disagreement
    assert report.n_rows == 11 and report.grader.n_pairs == 28
    with pytest.raises(ValueError, match="11 grader labels for 12 rows"):
        meta_eval_report(ROWS, GRADER[1:])


def grader_handler(request):
    """A judge that gives each row the label in GRADER (found by the row's criterion)."""
    for row, label in zip(ROWS, GRADER):
        if row.rubric in request.prompt:
            return judge_reply(label)
    raise AssertionError("a judge prompt without a known criterion")


def test_meta_eval_command_with_a_local_grader(tmp_path, capsys):
    out = tmp_path / "meta"
    with serve(handler=grader_handler) as server:
        code = main(["healthbench", "--meta-eval", str(DATA), "--grader", "g", "--base-url", server.base_url,
                     "--out", str(out)])
        prompts = [r.prompt for r in server.requests]
        assert server.errors == []
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert close(report["grader"]["macro_f1"], Fraction(56, 87))
    assert close(report["grader"]["agreement"], Fraction(20, 31))
    assert close(report["by_category"]["cluster:emergency_referrals"]["macro_f1"], Fraction(134, 209))
    assert close(report["physicians"]["by_physician"]["phys_a"]["macro_f1"], Fraction(55, 72))
    assert report["n_rows"] == 12 and report["n_errors"] == 0
    assert len(prompts) == 12  # one judge call per row
    assert all(ROWS[0].completion in p for p in prompts if ROWS[0].rubric in p)
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    labels = {r["key"]: r["grader_label"] for r in lines}
    assert len(lines) == 12 and [labels[meta_eval_key(row)] for row in ROWS] == GRADER
    assert json.loads((out / "summary.json").read_text()) == report

    with serve(handler=grader_handler) as server:  # resumed: nothing left to grade, same figures
        assert main(["healthbench", "--meta-eval", str(DATA), "--grader", "g", "--base-url", server.base_url,
                     "--out", str(out), "--resume"]) == 0
        assert server.requests == []
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["n_resumed"] == 12 and resumed["grader"] == report["grader"]


def test_the_python_api_writes_summary_json(tmp_path):
    import asyncio

    from clinic_env.bench import llm_grader
    from clinic_env.bench.healthbench import arun_meta_eval

    out = tmp_path / "meta"
    with serve(handler=grader_handler) as server:
        report = asyncio.run(arun_meta_eval(ROWS, llm_grader("g", "healthbench", server.base_url), out=out,
                                            progress=False))
    summary = json.loads((out / "summary.json").read_text())
    assert summary == report.to_dict() and close(summary["grader"]["macro_f1"], Fraction(56, 87))


def test_a_failing_grader_row_is_an_error_not_a_disagreement(tmp_path, capsys):
    from openai_server import Reply

    def flaky(request):
        if ROWS[3].rubric in request.prompt:
            return Reply(status=400)  # not retried: fails at once
        return grader_handler(request)

    with serve(handler=flaky) as server:
        assert main(["healthbench", "--meta-eval", str(DATA), "--grader", "g", "--base-url", server.base_url,
                     "--no-progress"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["n_rows"] == 11 and report["n_errors"] == 1 and report["grader"]["n_pairs"] == 28
    assert "Traceback" not in captured.err and "error: row c03/" in captured.err
