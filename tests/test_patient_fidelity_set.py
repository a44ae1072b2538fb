"""The patient fidelity set (issue 16): natural doctor questions over 24 builtin cases, each with what
the answer must convey, written by two clinicians who never saw the patient's code. The labels name
case facts by their exact strings, so a case edit that drops or rewords a fact fails here rather
than silently turning a labelled question into one that nothing can answer."""

from __future__ import annotations

import json
from pathlib import Path

from clinic_env.bench.patient_eval import Utterance, relevant, run_patient_eval
from clinic_env.cases.library import get_case

FOLDER = Path(__file__).parent / "data" / "patient_fidelity"
INTENTS = {"opening", "open_invitation", "onset", "location", "character", "radiation", "severity", "timing",
           "aggravating", "relieving", "associated", "negative", "past_history", "medications", "allergies",
           "substances", "family", "social", "occupation", "sexual", "travel", "ice", "pregnancy", "clarification",
           "chit_chat", "other"}


def _strings(value: object) -> set[str]:
    """Every string value in a case's data, at any depth."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    return set()


def _rows() -> list[tuple[str, dict]]:
    return [(f"{path.name}:{n}", json.loads(line)) for path in sorted(FOLDER.glob("utterances_*.jsonl"))
            for n, line in enumerate(path.read_text().splitlines(), 1)]


def test_the_set_covers_twenty_cases_and_three_hundred_questions():
    rows = [row for _, row in _rows()]
    assert len(rows) >= 600 and len({row["case_id"] for row in rows}) >= 20
    assert {row["expect"] for row in rows} == {"fact", "denial", "unknown", "any"}


def test_every_label_names_facts_its_case_has():
    problems = []
    for where, row in _rows():
        case = get_case(row["case_id"])
        strings = _strings(case.model_dump())
        if row["intent"] not in INTENTS or not row["question"].strip():
            problems.append(f"{where}: intent {row['intent']!r} or an empty question")
        problems += [f"{where}: {fact!r} is not a value of case {case.id}" for fact in row["facts"] if fact not in strings]
        if row["expect"] == "fact" and not row["facts"]:
            problems.append(f"{where}: a 'fact' answer names no fact")
    assert not problems, "\n".join(problems[:20])


def test_every_order_label_names_a_test_its_case_lists():
    """tests/data/examiner_orders: 228 orders as clinicians type them over the same cases, each with
    the case test it means (or null) and what a result consistent with the patient must and must
    not say (issue 16's examiner measure)."""
    path = FOLDER.parent / "examiner_orders" / "orders.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) >= 200
    problems = []
    for n, row in enumerate(rows, 1):
        names = {test.name for test in get_case(row["case_id"]).tests}
        if row["listed"] is not None and row["listed"] not in names:
            problems.append(f"orders.jsonl:{n}: {row['listed']!r} is not a test of {row['case_id']}")
        if not row["order"].strip() or not all(isinstance(x, str) for x in row["must"] + row["must_not"]):
            problems.append(f"orders.jsonl:{n}: an empty order or a non-text constraint")
    assert not problems, "\n".join(problems[:20])
    assert sum(row["listed"] is None for row in rows) >= 100  # routine tests the case does not list


def test_the_offline_patient_answers_the_question_asked(tmp_path):
    """Issue 16's targets on the whole set (1,004 questions; set C's 371 were written after the
    patient's intent-first rewrite and scored 95.7% on their first run, 4 contradictions, 3 of
    them the judge's misreadings, since fixed): 96.2% relevant with the typical persona,
    with no invented positive and no contradiction of the case."""
    summary = run_patient_eval(FOLDER, out=tmp_path / "out", progress=False)
    assert summary["n_answered"] == summary["n_questions"] >= 1000
    assert summary["relevance"] >= 0.95
    assert summary["invented_positives"] == [] and summary["contradictions"] == []
    assert summary["by_expect"]["unknown"]["relevance"] >= 0.8  # a relative does not guess a sensation


def test_the_relevance_judge_is_strict_by_a_clinicians_labels():
    """tests/data/patient_judge_labels.jsonl: 150 replies of the terse and talkative patients, each
    labelled by a clinician (does it give what the question was after?). The judge is strict: of
    the replies it credits, 71 of 72 answer; it misses brief answers ("It comes and goes.": 71 of
    101 found), so a terse patient's relevance (66.8%) understates it (about 84% by the labels)."""
    rows = [json.loads(line) for line in (FOLDER.parent / "patient_judge_labels.jsonl").read_text().splitlines()]
    verdicts = [(relevant(Utterance(**{k: row[k] for k in ("case_id", "question", "intent", "expect", "facts")}),
                          row["reply"], get_case(row["case_id"])), row["answers"]) for row in rows]
    credited = [answers for judged, answers in verdicts if judged]
    found = sum(judged for judged, answers in verdicts if answers)
    assert len(rows) == 150 and sum(credited) / len(credited) >= 0.95
    assert found / sum(answers for _, answers in verdicts) >= 0.6
