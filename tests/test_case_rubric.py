import pytest

from clinic_env.case_rubric import build_case_rubric, case_rubric
from clinic_env.cases.library import builtin_cases, get_case
from clinic_env.examiner import Examiner
from clinic_rubrics.offline_grader import OfflineGrader, matches
from clinic_rubrics.schema import DIMENSIONS, Rubric
from clinic_rubrics.scoring import clipped_reward


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


def test_history_counts_what_the_doctor_asks_not_what_is_ordered(pneumonia_case):
    """"complete blood count" names blood but asks the patient nothing about what they cough up."""
    rubric = build_case_rubric(pneumonia_case)
    (sputum,) = [c.id for c in rubric.criteria if c.text.startswith("Asks about: Productive cough")]
    ordered = convo(("doctor", "ORDER: complete blood count; blood cultures"),
                    ("examiner", "[Test: complete blood count] WCC 16.8\n[Test: blood cultures] Pending"),
                    ("doctor", "DIAGNOSE: community-acquired pneumonia\nPLAN: Doxycycline; the blood tests show an "
                               "infection."))
    asked = convo(("doctor", "ASK: Are you bringing anything up when you cough? What colour is it?"))
    assert sputum not in met(rubric, ordered)
    assert sputum in met(rubric, asked)


@pytest.mark.parametrize("turn", [
    "ORDER: complete blood count; d-dimer; doppler ultrasound of the leg",
    "EXAMINE: vitals, respiratory, cardiovascular",
    "ASK: Have you noticed any swelling in your legs, or coughed up any blood?",
    "ASK: I'm going to check your legs for swelling and send off some blood tests.",
    "DIAGNOSE: community-acquired pneumonia; deep vein thrombosis\nPLAN: Doxycycline for five days. If you notice any "
    "leg swelling, calf pain or you start coughing up blood, come straight back or call 999.",
    "DIAGNOSE: community-acquired pneumonia\nPLAN: You don't need to be admitted; we'll review you in 48 hours.",
    "DIAGNOSE: community-acquired pneumonia\nPLAN: You've had no weight loss and no calf swelling, which is reassuring.",
])
def test_orders_questions_and_safety_netting_invent_nothing(pneumonia_case, turn):
    rubric = build_case_rubric(pneumonia_case)
    invented = {c.id for c in rubric.criteria if c.id.startswith("invented_")}
    assert not met(rubric, convo(("doctor", "ASK: Tell me what's been going on."), ("doctor", turn))) & invented


@pytest.mark.parametrize("turn, symptom", [
    ("ASK: You've been coughing up blood as well, so I want to get a scan.", "haemoptysis"),
    ("DIAGNOSE: community-acquired pneumonia\nPLAN: Given your swollen calf, I'll also arrange a leg scan.", "leg swelling"),
    ("DIAGNOSE: community-acquired pneumonia\nPLAN: You have lost weight recently, so we'll repeat the x-ray.",
     "weight loss"),
    ("END: She reports a recent hospital stay, so this could be hospital-acquired.", "recent travel"),
])
def test_statements_about_the_patient_that_they_never_made_are_invented(pneumonia_case, turn, symptom):
    rubric = build_case_rubric(pneumonia_case)
    (criterion,) = [c.id for c in rubric.criteria if c.id.startswith("invented_") and symptom in c.text]
    assert criterion in met(rubric, convo(("doctor", "ASK: Tell me what's been going on."), ("doctor", turn)))


def test_what_the_patient_truly_has_is_never_invented():
    """The patient with a bleeding ulcer denies chest pain today but has known angina: "given his
    angina" repeats a fact, so "angina" is no keyword of the invented chest pain."""
    case = get_case("gi_peptic_ulcer_bleed")
    rubric = build_case_rubric(case)
    plan = "DIAGNOSE: bleeding peptic ulcer\nPLAN: Transfuse to a haemoglobin of 8-10 given his angina."
    assert not {c for c in met(rubric, convo(("doctor", "ASK: Any allergies?"), ("doctor", plan)))
                if c.startswith("invented_")}


def test_diagnosis_and_plan_outweigh_the_work_up_on_every_case(cases):
    """Baichuan-M2's priority: diagnosis, treatment and disposition hold clearly more points
    than history, examination and tests put together."""
    for case in cases:
        points = {}
        for c in build_case_rubric(case).criteria:
            if c.points > 0:
                points[c.tags[0]] = points.get(c.tags[0], 0) + c.points
        care = points["diagnosis"] + points.get("treatment", 0) + points.get("disposition", 0)
        work_up = points["history"] + points["exam"] + points.get("tests", 0)
        assert care >= 1.25 * work_up, (case.id, care, work_up)


THOROUGH_BUT_WRONG = convo(
    ("patient", "I've had this horrible cough for a few days."),
    ("doctor", "ASK: I'm sorry you're feeling so rough. When did the cough start, and are you bringing anything up?"),
    ("doctor", "ASK: Have you had a fever or the shivers? Any pain when you take a deep breath? Are you short of breath?"),
    ("doctor", "ASK: Have you coughed up any blood, or felt muddled or confused at all?"),
    ("doctor", "ASK: What medicines do you take, do you have any medical conditions, and any allergies?"),
    ("doctor", "EXAMINE: vitals, respiratory, cardiovascular"),
    ("examiner", "[Examination: vitals] T 38.9\n[Examination: respiratory] crackles\n[Examination: cardiovascular] normal"),
    ("doctor", "ORDER: chest x-ray; complete blood count; c-reactive protein; basic metabolic panel"),
    ("examiner", "[Test: chest x-ray] consolidation\n[Test: complete blood count] WCC 16.8\n"
                 "[Test: c-reactive protein] 182\n[Test: basic metabolic panel] normal"),
    ("doctor", "DIAGNOSE: acute bronchitis; asthma exacerbation\nPLAN: I think this is a viral chest infection, so "
               "antibiotics won't help: rest, paracetamol and fluids, and I'll review you in 48 hours. Come back "
               "if it gets worse. Does that make sense?"),
)
THIN_BUT_RIGHT = convo(
    ("patient", "I've had this horrible cough for a few days."),
    ("doctor", "ASK: When did it start, and are you coughing anything up? Any allergies to medicines?"),
    ("doctor", "EXAMINE: vitals, respiratory"),
    ("examiner", "[Examination: vitals] T 38.9\n[Examination: respiratory] crackles"),
    ("doctor", "DIAGNOSE: community-acquired pneumonia; acute bronchitis\nPLAN: You have a chest infection. "
               "Doxycycline for five days as you're allergic to penicillin, paracetamol for the fever and plenty of "
               "fluids; I'll see you again in 48 hours, sooner if your breathing gets worse."),
)


def test_a_thin_right_and_safe_visit_beats_a_thorough_one_with_the_wrong_diagnosis(pneumonia_case):
    rubric = build_case_rubric(pneumonia_case)
    grader = OfflineGrader()
    thin = clipped_reward(rubric, grader.grade(THIN_BUT_RIGHT, rubric))
    thorough = clipped_reward(rubric, grader.grade(THOROUGH_BUT_WRONG, rubric))
    assert thin > thorough + 0.05, (thin, thorough)


def _said(case, cid, message, report=None):
    rubric = case_rubric(case)
    (matcher,) = [c.matcher for c in rubric.criteria if c.id == cid]
    return matches(matcher, convo(("doctor", message), *([("examiner", report)] if report else [])))


def test_a_perfect_doctor_can_meet_every_work_up_and_diagnosis_criterion(cases):
    """Each criterion is met by a doctor naming its own item: every keyword of a key history fact
    or pertinent negative (as written or closed up: "black out", "blackout"), every examined system
    and key test as the examiner reports it, every name of the diagnosis."""
    unreachable = []
    for case in cases:
        examiner = Examiner(case)
        facts = [(f"history_{i}", f) for i, f in enumerate(f for f in case.history if f.key)]
        facts += [(f"negative_{i}", n) for i, n in enumerate([n for n in case.pertinent_negatives if n.key][:3])]
        for cid, fact in facts:
            for keyword in fact.keywords:
                said = keyword.rstrip("*")
                for variant in {said, said.replace(" ", "")} if len(said.split()) == 2 else {said}:
                    if not _said(case, cid, f"ASK: Have you had any {variant}?"):
                        unreachable.append((case.id, cid, variant))
        for system in set(case.exam) - {"vitals", "general"}:
            if not _said(case, f"exam_{system}", f"EXAMINE: {system}", examiner.examine(system).render()):
                unreachable.append((case.id, system))
        for i, test in enumerate(case.tests):
            if test.key and not _said(case, f"test_{i}", f"ORDER: {test.name}", examiner.order(test.name).render()):
                unreachable.append((case.id, test.name))
        for name in case.diagnosis_names:
            if not _said(case, "diagnosis_first", f"DIAGNOSE: {name}\nPLAN: treat"):
                unreachable.append((case.id, name))
    assert not unreachable, unreachable[:20]


@pytest.mark.parametrize("criterion, said", [
    ("safety_net", "If your breathing gets worse or you feel faint, seek medical attention straight away."),
    ("safety_net", "Please call an ambulance if the pain becomes severe."),
    ("plain_explanation", "What's happening is that the lung has an infection in one area."),
    ("plain_explanation", "This is most likely a chest infection."),
    ("empathy", "I'm sorry, this must have been a horrible few days."),
    ("checks_understanding", "Is there anything I can clarify for you?"),
])
def test_natural_communication_and_safety_netting_are_credited(pneumonia_case, criterion, said):
    rubric = build_case_rubric(pneumonia_case)
    assert criterion in met(rubric, convo(("doctor", f"DIAGNOSE: community-acquired pneumonia\nPLAN: {said}")))
    assert criterion not in met(rubric, convo(("doctor", "ORDER: chest x-ray")))


def test_no_case_contraindicates_its_own_first_line_treatment():
    """A first-line item's own words never meet a critical contraindication of its case: a
    contraindication that fires on the recommended plan would gate the best visit to zero."""
    grader = OfflineGrader()
    for case in builtin_cases():
        critical = [c for c in build_case_rubric(case).criteria if c.critical and c.id.startswith("contraindicated_")]
        if not critical or case.management is None:
            continue
        rubric = Rubric(criteria=critical)
        for item in case.management.first_line:
            verdicts = grader.grade([{"role": "doctor", "content": f"DIAGNOSE: x\nPLAN: {item.text}"}], rubric)
            met = [c.text for c, verdict in zip(critical, verdicts) if verdict.met]
            assert not met, f"{case.id}: first-line {item.text!r} meets {met}"


@pytest.mark.parametrize("plan, met", [
    ("Azithromycin 1 g today, all in one go, and that deals with it.", True),
    ("Ceftriaxone 1 g IM, then doxycycline 100 mg twice daily with metronidazole 400 mg for 14 days.", False),
    ("Ceftriaxone 1 g IM now; azithromycin only if she cannot take doxycycline and metronidazole.", False),
    ("Azithromycin 1 g once, with ibuprofen 400 mg for the pain.", True),  # analgesia treats no infection
])
def test_a_treatment_harmful_alone_is_met_only_without_the_first_line_treatment(plan, met):
    """Pelvic inflammatory disease: azithromycin by itself under-treats; beside the regimen it does not."""
    rubric = case_rubric(get_case("obgyn_pelvic_inflammatory_disease"))
    contra = next(c for c in rubric.criteria if c.text.startswith("Recommends azithromycin alone"))
    assert contra.critical and contra.matcher.unless
    assert matches(contra.matcher, [{"role": "doctor", "content": f"DIAGNOSE: pelvic inflammatory disease\nPLAN: {plan}"}]) is met
