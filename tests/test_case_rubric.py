import pytest

from clinic_env.case_rubric import build_case_rubric
from clinic_env.cases.library import get_case
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.schema import DIMENSIONS


def met(rubric, conversation):
    return {v.criterion_id for v in OfflineGrader().grade(conversation, rubric) if v.met}


def convo(*turns):
    return [{"role": role, "content": text} for role, text in turns]


def test_every_case_gets_a_rubric_over_all_six_dimensions(cases):
    for case in cases:
        rubric = build_case_rubric(case)
        assert {c.dimension for c in rubric.criteria} == set(DIMENSIONS), case.id
        assert all(c.matcher is not None for c in rubric.criteria)
        assert any(c.points < 0 for c in rubric.criteria) and rubric.max_points > 0
        assert rubric.metadata["case_id"] == case.id


GOOD_VISIT = convo(
    ("patient", "I've had this horrible cough for a few days."),
    ("doctor", "ASK: I'm sorry to hear that. When did it start, and are you bringing up any phlegm?"),
    ("patient", "Four days ago. Rusty stuff."),
    ("doctor", "ASK: Any fever, chest pain when you take a deep breath, or breathlessness?"),
    ("doctor", "ASK: Any blood when you cough, any confusion? What medicines do you take, any medical conditions, any allergies?"),
    ("doctor", "EXAMINE: vitals, respiratory, cardiovascular"),
    ("examiner", "[Examination: vitals] T 38.9"),
    ("examiner", "[Examination: respiratory] crackles"),
    ("examiner", "[Examination: cardiovascular] normal"),
    ("doctor", "ORDER: chest x-ray; complete blood count; c-reactive protein; basic metabolic panel"),
    ("examiner", "[Test: chest x-ray] consolidation\n[Test: complete blood count] WCC 16.8"),
    ("examiner", "[Test: c-reactive protein] 182"),
    ("examiner", "[Test: basic metabolic panel] normal"),
    ("doctor", "DIAGNOSE: community-acquired pneumonia; pulmonary embolism; lung cancer\n"
               "PLAN: In other words, a chest infection. Oral doxycycline (you are allergic to penicillin, so no amoxicillin), "
               "antipyretics and fluids; review in 48 hours; come back if you get worse. Does that make sense?"),
)


def test_a_good_consultation_meets_the_positive_criteria(pneumonia_case):
    rubric = build_case_rubric(pneumonia_case)
    got = met(rubric, GOOD_VISIT)
    positives = {c.id for c in rubric.criteria if c.points > 0}
    negatives = {c.id for c in rubric.criteria if c.points < 0}
    assert {"diagnosis_first", "diagnosis_top3", "vitals", "exam_respiratory", "disposition",
            "allergies_before_treatment", "safety_net", "checks_understanding", "empathy"} <= got
    assert len(got & positives) >= 0.85 * len(positives)
    assert not got & negatives, got & negatives


@pytest.mark.parametrize("final, expect", [
    ("DIAGNOSE: pulmonary embolism; pneumonia\nPLAN: doxycycline", {"diagnosis_top3"}),
    ("DIAGNOSE: a; b; c; d; e; f; pneumonia\nPLAN: x", {"shotgun_differential"}),
    ("DIAGNOSE: pneumonia\nPLAN: amoxicillin for a week", {"diagnosis_first", "contraindicated_0"}),
])
def test_diagnosis_and_safety_criteria(pneumonia_case, final, expect):
    rubric = build_case_rubric(pneumonia_case)
    got = met(rubric, convo(("doctor", "ASK: Hello?"), ("doctor", final)))
    assert expect <= got
    assert ("diagnosis_first" in got) == ("diagnosis_first" in expect)


def test_premature_diagnosis_and_invented_facts(pneumonia_case):
    rubric = build_case_rubric(pneumonia_case)
    rushed = met(rubric, convo(("doctor", "DIAGNOSE: pneumonia\nPLAN: You have leg swelling and weight loss.")))
    assert {"premature_diagnosis", "invented_1", "invented_3"} <= rushed
    careful = met(rubric, convo(("doctor", "ASK: Any leg swelling or weight loss?"),
                                ("doctor", "DIAGNOSE: pneumonia\nPLAN: No leg swelling, so no clot.")))
    assert not {"premature_diagnosis", "invented_1", "invented_3"} & careful


def test_costly_unneeded_tests_are_penalised(pneumonia_case):
    rubric = build_case_rubric(pneumonia_case)
    costly = next(c.id for c in rubric.criteria if c.id.startswith("costly_"))
    assert costly in met(rubric, convo(("examiner", "[Test: ct pulmonary angiogram] No embolism")))


@pytest.mark.parametrize("question, credited", [
    ("Did this start last week?", False), ("Were you well earlier in the week?", False),
    ("Any trouble when you wee?", True), ("Have you noticed any change when urinating?", True)])
def test_history_credit_reads_keywords_as_the_patient_does(question, credited):
    """Asking about last week is not asking about weeing: the rubric credits a question about a
    fact through the same keyword reading as the patient who answers it (clinic_rubrics.text)."""
    case = get_case("em_cauda_equina")
    fact = next(f for f in case.history if "wee" in f.keywords)
    assert fact.key
    rubric = build_case_rubric(case)
    (criterion,) = [c for c in rubric.criteria if c.text == f"Asks about: {fact.text}"]
    asked = met(rubric, convo(("patient", case.opening_statement), ("doctor", f"ASK: {question}")))
    assert (criterion.id in asked) is credited
