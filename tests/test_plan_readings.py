"""Floors under the offline grader's readings of doctors' plans (benchmarks/bench_plan_readings.py
over tests/data/plan_readings/plans.jsonl: 428 plans labelled by two independent reviewers), and
under the disposition reader's (benchmarks/bench_dispositions.py over tests/data/dispositions/plans.jsonl:
480 plans, each labelled with the level of care it arranges; measured when added: exact 0.929, no
hospital-level plan read below same-day care, 4 of 160 home or follow-up plans read as admission).

Measured when the set was added (each floor is about 0.03 below, so a regression fails and an
improvement does not):
    contraindication recall 0.883, precision 0.914
    unsafe disposition recall 0.846; disposition recall 0.922
    first-line recall 0.803, precision 0.939
    harm gate: harmful plans gated 0.873; safe plans wrongly gated 0.040
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


bench = _bench("bench_plan_readings")
dispositions = _bench("bench_dispositions")


@pytest.fixture(scope="module")
def results():
    return bench.measure(bench.load_plans())


def test_every_label_names_an_item_of_its_case_now():
    rows = bench.load_plans()
    assert len(rows) == 428 and {row.author for row in rows} == {"a", "b"}
    assert all(row.unsafe is None and row.first_line is None for row in rows if row.author == "a")
    assert sum(bool(row.contraindicated) for row in rows) >= 200


def test_a_label_no_current_item_has_is_an_error_naming_its_row(tmp_path):
    row = json.loads(bench.PLANS.read_text().splitlines()[0])
    row["contraindicated"] = ["a drug the case never named"]
    bad = tmp_path / "plans.jsonl"
    bad.write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"line 1 \(uro_acute_kidney_injury\): contraindication 'a drug the case"):
        bench.load_plans(bad)


def test_a_renumbered_item_keeps_its_label(monkeypatch):
    """Labels are texts: a case sweep that reorders the items moves each label with its item."""
    row = bench.load_plans()[1]  # continues ramipril and amlodipine in an AKI
    case = bench.get_case(row.case_id)
    reordered = case.model_copy(update={"contraindications": list(reversed(case.contraindications))})
    monkeypatch.setattr(bench, "get_case", lambda case_id: reordered)
    given = {reordered.contraindications[int(c.criterion_id.rsplit("_", 1)[1])].treatment
             for c in bench.expected_checks(row) if c.want}
    assert given == set(row.contraindicated) == {"ACE inhibitors or angiotensin receptor blockers until recovery",
                                                 "amlodipine while hypotensive"}


def test_contraindications_are_read_at_least_as_well_as_when_measured(results):
    tally = results.readings["contraindicated"]
    assert tally.recall >= 0.85 and tally.precision >= 0.88


def test_dispositions_are_read_at_least_as_well_as_when_measured(results):
    assert results.readings["disposition"].recall >= 0.89
    assert results.readings["unsafe_disposition"].recall >= 0.81


def test_first_line_items_are_read_at_least_as_well_as_when_measured(results):
    tally = results.readings["treatment"]
    assert tally.recall >= 0.77 and tally.precision >= 0.91


def test_the_harm_gate_catches_harmful_plans_and_spares_safe_ones(results):
    assert results.gate.recall >= 0.84
    assert results.gate.false_alarm <= 0.07


def test_the_level_of_care_a_plan_arranges_is_read_at_least_as_well_as_when_measured():
    rows = dispositions.load(dispositions.DATA)
    assert len(rows) == 480 and Counter(level for _, level in rows) == {level: 80 for level in dispositions.Level}
    found = dispositions.agreement([level for _, level in rows], [dispositions.read(plan) for plan, _ in rows])
    assert found.exact >= 0.90
    assert found.under[0] <= 2 and found.over[0] <= 8  # of 160 each
