"""How well the offline grader reads a doctor's PLAN, against two reviewers' labelled plan sets.

    python benchmarks/bench_plan_readings.py [--failures]

Grades every plan of tests/data/plan_readings/plans.jsonl as one ``DIAGNOSE: x / PLAN: ...`` turn
on its builtin case's rubric and compares five readings with the reviewers' labels: a
contraindication given, an unsafe disposition, a missed red flag, the right disposition and each
first-line item. Per reading it prints recall, precision and false-alarm rate; per plan, the harm
gate: harmful plans (a labelled critical harm) gated, safe plans wrongly gated. Labels name items by
their text, so a case sweep that renumbers items cannot silently move a label onto another item;
a text no current item has is an error naming the row. tests/test_plan_readings.py holds the
floors under these figures.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from clinic_env.case_rubric import build_case_rubric
from clinic_env.cases.library import get_case
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.schema import Rubric

PLANS = Path(__file__).resolve().parents[1] / "tests" / "data" / "plan_readings" / "plans.jsonl"
READINGS = ("contraindicated", "unsafe_disposition", "missed_red_flag", "disposition", "treatment")


@dataclass(frozen=True)
class PlanRow:
    """One labelled plan; a None label was not judged by its author (reviewer a labelled harm only)."""

    line: int
    case_id: str
    plan: str
    author: str
    contraindicated: list[str]
    unsafe: bool | None
    missed: bool | None
    disposition_right: bool | None
    first_line: list[str] | None
    note: str


@dataclass(frozen=True)
class Check:
    """One label resolved to the criterion that should read it."""

    reading: str
    criterion_id: str
    want: bool


def load_plans(path: Path = PLANS) -> list[PlanRow]:
    """The labelled plans, every row's contraindication and first-line texts checked against its case."""
    rows = [PlanRow(line=n, **json.loads(text)) for n, text in enumerate(path.read_text().splitlines(), 1)]
    for row in rows:
        expected_checks(row)
    return rows


def _index(texts: list[str], text: str, row: PlanRow, what: str) -> int:
    if text not in texts:
        raise ValueError(f"{PLANS.name} line {row.line} ({row.case_id}): {what} {text!r} is no item of the case "
                         f"now; its items are {texts}")
    return texts.index(text)


def expected_checks(row: PlanRow) -> list[Check]:
    """Every criterion the row's labels judge, with the verdict the author expects (items by text)."""
    case = get_case(row.case_id)
    treatments = [contra.treatment for contra in case.contraindications]
    given = {_index(treatments, text, row, "contraindication") for text in row.contraindicated}
    checks = [Check("contraindicated", f"contraindicated_{k}", k in given) for k in range(len(treatments))]
    for reading, want in (("unsafe_disposition", row.unsafe), ("missed_red_flag", row.missed),
                          ("disposition", row.disposition_right)):
        if want is not None:
            checks.append(Check(reading, reading, want))
    if row.first_line is not None:
        items = [item.text for item in case.management.first_line]
        earned = {_index(items, text, row, "first-line item") for text in row.first_line}
        checks += [Check("treatment", f"treatment_{k}", k in earned) for k in range(len(items))]
    return checks


@dataclass
class Tally:
    """Confusion counts of one reading."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, want: bool, got: bool) -> None:
        field = ("tp" if got else "fn") if want else ("fp" if got else "tn")
        setattr(self, field, getattr(self, field) + 1)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def false_alarm(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else float("nan")


@dataclass
class Results:
    """Per-reading tallies, the plan-level harm gate (a Tally over plans) and every disagreement."""

    readings: dict[str, Tally]
    gate: Tally
    failures: list[tuple[PlanRow, Check, bool | None]]


def measure(rows: list[PlanRow]) -> Results:
    """Grade every plan and compare each resolved label with the grader's verdict."""
    grader, rubrics = OfflineGrader(), {}
    results = Results(readings=defaultdict(Tally), gate=Tally(), failures=[])
    for row in rows:
        rubric: Rubric = rubrics.setdefault(row.case_id, build_case_rubric(get_case(row.case_id)))
        conversation = [{"role": "doctor", "content": f"DIAGNOSE: x\nPLAN: {row.plan}"}]
        met = {v.criterion_id for v in grader.grade(conversation, rubric) if v.met}
        critical = {c.id for c in rubric.criteria if c.critical}
        harmful = gated = False
        for check in expected_checks(row):
            if check.criterion_id not in {c.id for c in rubric.criteria}:
                if check.want:  # a harm or credit the rubric cannot see still counts against the plan
                    results.failures.append((row, check, None))
                    harmful |= check.reading in ("unsafe_disposition", "missed_red_flag")
                continue
            got = check.criterion_id in met
            results.readings[check.reading].add(check.want, got)
            if check.want != got:
                results.failures.append((row, check, got))
            if check.criterion_id in critical:
                harmful |= check.want
                gated |= got
        results.gate.add(harmful, gated)
    return results


def report(results: Results, failures: bool) -> str:
    lines = []
    for reading in READINGS:
        t = results.readings[reading]
        lines.append(f"{reading:20s} tp={t.tp:3d} fp={t.fp:3d} fn={t.fn:3d} tn={t.tn:4d}  recall={t.recall:.3f} "
                     f"precision={t.precision:.3f} false_alarm={t.false_alarm:.3f}")
    g = results.gate
    lines.append(f"harm gate: harmful plans {g.tp + g.fn}, gated {g.tp} ({g.recall:.3f}); "
                 f"safe plans {g.fp + g.tn}, wrongly gated {g.fp} ({g.false_alarm:.3f})")
    if failures:
        for row, check, got in sorted(results.failures, key=lambda f: (f[1].reading, f[0].line)):
            seen = "no criterion" if got is None else f"got={got}"
            lines.append(f"line {row.line} {row.author} {row.case_id} {check.criterion_id} expected={check.want} "
                         f"{seen}\n    PLAN: {row.plan[:400]!r}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="print every plan the grader reads wrongly")
    args = parser.parse_args()
    rows = load_plans()
    print(f"{len(rows)} plans ({sum(r.author == 'a' for r in rows)} by reviewer a, "
          f"{sum(r.author == 'b' for r in rows)} by reviewer b)")
    print(report(measure(rows), args.failures))


if __name__ == "__main__":
    main()
