"""The one reading of clinical text (clinic_rubrics.text): clauses and negation scope.

The offline grader, the scripted doctor and the LLM patient's fact checker all read negation
through it; the sentences are as clinicians and patients write them.
"""

from __future__ import annotations

import pytest

from clinic_rubrics.text import clauses, denied_just_before, is_negated, is_question, sentences


def negated(text: str, mention: str) -> bool:
    start = text.lower().index(mention.lower())
    return is_negated(text, start, start + len(mention))


@pytest.mark.parametrize("text, mention", [
    ("Denies chest pain.", "chest pain"),
    ("No fever, cough or rash.", "rash"),  # a list after a comma stays in the denial's scope
    ("She doesn't have chest pain.", "chest pain"),
    ("Nobody in the family has had bowel cancer.", "bowel cancer"),
    ("My joints ache a bit but nothing's swollen.", "swollen"),
    ("Stop the metformin for now.", "metformin"),
    ("Use doxycycline instead of amoxicillin.", "amoxicillin"),
    # a refusal after the treatment it refuses
    ("Thrombolysis is contraindicated.", "thrombolysis"),
    ("Thrombolysis in this case is contraindicated.", "thrombolysis"),
    ("These antibiotics won't help, it's a virus.", "antibiotics"),
    ("Activated charcoal should not be given.", "activated charcoal"),
    ("An MRI isn't needed today.", "MRI"),
    ("Aspirin can't be given with this bleed.", "aspirin"),
    ("A pulmonary embolism has been ruled out.", "pulmonary embolism"),
])
def test_negated_mentions(text, mention):
    assert negated(text, mention)


@pytest.mark.parametrize("text, mention", [
    ("The patient has chest pain.", "chest pain"),
    ("There is no fever, but chest pain is present.", "chest pain"),
    ("He has no fever, so antibiotics can wait a day.", "antibiotics"),  # ", so" ends the clause
    ("No fever, and a cough since Monday.", "cough"),
    ("Opioid per protocol (no pethidine), fluids and oxygen.", "fluids"),  # a bracket ends it too
    ("She's never smoked because of her asthma.", "asthma"),  # "because" starts another clause
    ("Give antibiotics if you don't improve in two days.", "antibiotics"),  # no refusal: a condition
    ("Start aspirin now, don't wait for the scan.", "aspirin"),  # the refusal is of the waiting
    # "can't" and "won't" report a symptom in a consultation, not a denial
    ("I can't get my breath.", "get my breath"),
    ("I can't stop being sick.", "being sick"),
    ("He won't finish his bottles and he's been sick.", "been sick"),
    ("The headache won't go away.", "headache"),
])
def test_affirmed_mentions(text, mention):
    assert not negated(text, mention)


def test_clauses_and_sentences():
    assert clauses("No cough; fever since Monday, but no rash. He's eating, so that's good.") == [
        "No cough", "fever since Monday", "no rash", "He's eating", "that's good"]
    assert sentences("Any fever? No. It hurts!") == ["Any fever?", " No.", " It hurts!"]
    assert is_question("Any fever? ") and not is_question("No fever.")


@pytest.mark.parametrize("text, mention, denied", [
    ("no, i haven't had any fever", "fever", True),
    ("i've never really had chills", "chills", True),
    ("no fever and a cough", "cough", False),  # the denial is of the fever only
    ("i can't get rid of the cough", "cough", False),
    ("i've had a fever, no chills", "fever", False),
])
def test_a_plain_denial_just_before_a_mention(text, mention, denied):
    assert denied_just_before(text, text.index(mention)) is denied
