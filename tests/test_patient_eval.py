"""``clinic-env patient-eval``: the judge of a reply, the run through the env, bad data, the CLI.

Runs use small fidelity sets written here (tests/data/patient_fidelity is held by
tests/test_patient_fidelity_set.py) and the builtin pneumonia case.
"""

from __future__ import annotations

import json

import pytest

from cli.main import main
from clinic_env.bench.patient_eval import (
    DataError,
    Utterance,
    contradictions,
    conveys,
    invented,
    load_fidelity_set,
    relevant,
    run_patient_eval,
)
from clinic_env.cases.library import get_case

CASE = "pulm_cap_adult"


def utterance(question: str, expect: str, facts=(), intent: str = "other") -> Utterance:
    return Utterance(case_id=CASE, question=question, intent=intent, expect=expect, facts=list(facts))


@pytest.mark.parametrize("reply, wording, said", [
    ("I'm bringing up thick stuff, a sort of rusty brown colour.", "Productive cough with rusty-coloured sputum", False),
    ("I'm bringing up thick stuff, a sort of rusty brown colour.",
     "I'm bringing up thick stuff, a sort of rusty brown colour.", True),  # the lay wording, word for word
    ("Well, the cough is productive and the sputum is rusty-coloured.", "Productive cough with rusty-coloured sputum",
     True),  # most content words, other order
    ("It's on the left, high up.", "Right-sided chest pain", False),
])
def test_a_fact_is_conveyed_word_for_word_or_by_most_of_its_content_words(reply, wording, said):
    assert conveys(reply, wording) is said


@pytest.mark.parametrize("row, reply, good", [
    (utterance("What colour is the phlegm?", "fact", ["Productive cough with rusty-coloured sputum"], "character"),
     "It's a sort of rusty brown colour. I'm bringing up thick stuff, a sort of rusty brown colour.", True),
    (utterance("What colour is the phlegm?", "fact", ["Productive cough with rusty-coloured sputum"], "character"),
     "There's a pain on the right side of my chest, low down.", False),  # another fact: not what was asked
    (utterance("Have you coughed up any blood?", "denial", ["haemoptysis of frank blood"], "negative"),
     "No, nothing like that.", True),
    (utterance("Any allergies?", "denial", [], "allergies"), "Metformin, 500 twice a day.", False),
    (utterance("Morning, what brings you here?", "fact", ["Cough started 4 days ago after a mild cold"], "opening"),
     "I've had this horrible cough for a few days now and I keep getting hot and shivery.", True),
    (utterance("What did his pain feel like to him?", "unknown"), "I'm not sure, he didn't say.", True),
    (utterance("What did his pain feel like to him?", "unknown"), "Sharp.", False),
    (utterance("Sorry, could you say that again?", "any", intent="clarification"), "Of course, doctor.", True),
    (utterance("How are you?", "any", intent="chit_chat"), "I'm not sure, doctor. Could you ask me that another way?",
     False),
])
def test_a_reply_is_relevant_when_it_does_what_the_label_asks(row, reply, good):
    assert relevant(row, reply, get_case(CASE)) is good


@pytest.mark.parametrize("reply, contradicted, made_up", [
    ("Yes, I've been coughing up blood this week.", ["affirms 'haemoptysis of frank blood'"], []),
    ("No, I haven't had any fever at all.", ["denies 'Fever with rigors'"], []),
    ("I've been quite confused and muddled.", ["affirms 'confusion'"], []),
    ("I have had a terrible sore throat and earache.", [], ["sore throat", "earache"]),
    # what the case says, in the patient's words, and what it denies, denied
    ("No proper blood, just that rusty colour.", [], []),
    ("My legs are fine, no swelling.", [], []),
    ("I've had a fever and shivers, and I'm bringing up rusty stuff.", [], []),
    ("Have I had a sore throat? No.", [], []),
    # the case's own words are never a contradiction of it, however the judge reads them
    *[(n.lay, [], []) for n in get_case(CASE).pertinent_negatives],
])
def test_contradictions_and_invented_positives_in_a_reply(reply, contradicted, made_up):
    case = get_case(CASE)
    assert contradictions(reply, case) == contradicted
    assert invented(reply, case) == made_up


def write_set(folder, rows) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "utterances_t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


ROWS = [
    {"case_id": CASE, "question": "When did the cough start?", "intent": "onset", "expect": "fact",
     "facts": ["Cough started 4 days ago after a mild cold"]},
    {"case_id": CASE, "question": "Have your legs been swollen at all?", "intent": "negative", "expect": "denial",
     "facts": ["leg swelling or calf pain"]},
    {"case_id": CASE, "question": "Are you allergic to any medicines?", "intent": "allergies", "expect": "fact",
     "facts": ["penicillin"]},
]


def test_a_run_asks_each_question_in_a_fresh_visit_and_resumes(tmp_path):
    write_set(tmp_path / "set", ROWS)
    summary = run_patient_eval(tmp_path / "set", out=tmp_path / "out", progress=False)
    assert summary["n_questions"] == summary["n_answered"] == 3 and summary["n_errors"] == 0
    records = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [r["question"] for r in records] == [r["question"] for r in ROWS]
    assert all(r["reply"] and r["doctor_turns"] == 2 for r in records)
    case = get_case(CASE)
    assert [r["relevant"] for r in records] == [relevant(Utterance(**row), r["reply"], case)
                                                 for row, r in zip(ROWS, records)]
    assert records[0]["relevant"]  # the onset, asked plainly, is answered
    assert summary["relevance"] == sum(r["relevant"] for r in records) / 3
    assert set(summary["by_intent"]) == {"onset", "negative", "allergies"}
    again = run_patient_eval(tmp_path / "set", out=tmp_path / "out", progress=False, resume=True)
    assert again["n_run"] == 0 and again["n_resumed"] == 3 and again["relevance"] == summary["relevance"]


class Unsure:
    """A patient who never knows."""

    def reset(self, profile, persona, seed=None, **_):
        return "I'm here about my chest."

    def reply(self, doctor_message, messages=()):
        return "I'm not sure, doctor."


def test_a_patient_object_is_measured_the_same_way(tmp_path):
    write_set(tmp_path / "set", ROWS)
    summary = run_patient_eval(tmp_path / "set", patient=Unsure(), out=tmp_path / "out", progress=False)
    assert summary["relevance"] == 1 / 3  # only the denial ("not") passes; the facts are never given
    assert not summary["targets"][0]["met"]


@pytest.mark.parametrize("change, message", [
    ({"intent": "mood"}, "utterances_t.jsonl:1: field intent"),
    ({"case_id": "no_such_case"}, "utterances_t.jsonl:1: field case_id: unknown case 'no_such_case'"),
    ({"facts": ["a fact the case never had"]}, "utterances_t.jsonl:1: field facts: 'a fact the case never had'"),
    ({"expect": "fact", "facts": []}, "utterances_t.jsonl:1: field facts: a 'fact' answer names no fact"),
])
def test_a_bad_line_is_one_error_naming_file_line_and_field(tmp_path, change, message):
    write_set(tmp_path / "set", [{**ROWS[0], **change}])
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_fidelity_set(tmp_path / "set", {CASE: get_case(CASE)})


def test_the_cli_prints_the_table_and_exits_0_or_names_bad_data(tmp_path, capsys):
    write_set(tmp_path / "set", ROWS)
    assert main(["patient-eval", "--data", str(tmp_path / "set"), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "relevance (3 answered)" in printed and "targets (issue 16):" in printed
    write_set(tmp_path / "bad", [{**ROWS[0], "expect": "maybe"}])
    assert main(["patient-eval", "--data", str(tmp_path / "bad"), "--out", str(tmp_path / "out2"), "--no-progress"]) != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "utterances_t.jsonl:1: field expect" in error[0]
