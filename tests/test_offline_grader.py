import pytest

from clinic_rubrics.grading import GradingError
from clinic_rubrics.offline_grader import OfflineGrader, matches
from clinic_rubrics.schema import Criterion, Matcher, Rubric


def convo(*turns):
    return [{"role": role, "content": text} for role, text in turns]


@pytest.mark.parametrize("text, met", [
    ("Do you have any chest pain?", True),
    ("Any chest-pain at all?", True),
    ("Any CHEST   PAIN?", True),
    ("Any chestpain?", False),
    ("Any pain in your chest?", False),
])
def test_phrases_match_whole_words_with_flexible_spacing(text, met):
    assert matches(Matcher(any_of=["chest pain"]), convo(("doctor", text))) is met


def test_prefix_phrases():
    assert matches(Matcher(any_of=["breath*"]), convo(("doctor", "Are you breathless?")))
    assert not matches(Matcher(any_of=["breath"]), convo(("doctor", "Are you breathless?")))


@pytest.mark.parametrize("text, met", [
    ("The patient has chest pain.", True),
    ("Denies chest pain.", False),
    ("No chest pain, but fever.", False),
    ("There is no fever, but chest pain is present.", True),
    ("She doesn't have chest pain.", False),
    ("Avoid amoxicillin; give doxycycline.", False),
])
def test_negation_for_affirmed_only(text, met):
    assert matches(Matcher(any_of=["chest pain", "amoxicillin"], polarity="affirmed"), convo(("doctor", text))) is met


@pytest.mark.parametrize("text, met", [
    ("Thrombolysis is contraindicated, his bleeding risk is too high.", False),
    ("Antibiotics won't help, it's a viral infection.", False),
    ("Activated charcoal should not be given this late.", False),
    ("No fever, so antibiotics are the first step.", True),  # ", so" ends the denial's clause
    ("IV opioid (no pethidine), thrombolysis and antibiotics.", True),  # so does a bracket
])
def test_negation_after_a_treatment_and_clause_ends(text, met):
    matcher = Matcher(any_of=["thrombolysis", "antibiotics", "activated charcoal"], polarity="affirmed")
    assert matches(matcher, convo(("doctor", text))) is met


def test_speaker_awareness():
    dialogue = convo(("patient", "I have chest pain."), ("doctor", "I see."), ("assistant", "Hmm."))
    assert not matches(Matcher(any_of=["chest pain"]), dialogue)
    assert matches(Matcher(any_of=["chest pain"], speaker="patient"), dialogue)
    assert matches(Matcher(any_of=["hmm"]), dialogue)  # HealthBench's assistant is the doctor


def test_questions_are_not_assertions():
    m = Matcher(any_of=["leg swelling"], exclude_questions=True)
    assert not matches(m, convo(("doctor", "Any leg swelling?")))
    assert matches(m, convo(("doctor", "Any fever? Your leg swelling worries me.")))


def test_order_awareness():
    allergies_first = Matcher(any_of=["allerg*"], before=["DIAGNOSE:"])
    good = convo(("doctor", "ASK: Any allergies?"), ("doctor", "DIAGNOSE: x\nPLAN: amoxicillin"))
    late = convo(("doctor", "DIAGNOSE: x\nPLAN: amoxicillin"), ("doctor", "ASK: Any allergies?"))
    assert matches(allergies_first, good) and not matches(allergies_first, late)
    first = Matcher(pattern=r"^DIAGNOSE:", first_n=1)
    assert matches(first, late) and not matches(first, good)


def test_min_count_and_patterns():
    m = Matcher(pattern=r"^\[Test: ", speaker="examiner", min_count=2)
    assert not matches(m, convo(("examiner", "[Test: ecg] normal")))
    assert matches(m, convo(("examiner", "[Test: ecg] normal"), ("examiner", "[Test: troponin] 4")))


def test_grader_returns_verdicts_and_refuses_criteria_it_cannot_judge():
    rubric = Rubric(criteria=[
        Criterion(id="a", text="asks about fever", points=2, matcher=Matcher(any_of=["fever"])),
        Criterion(id="b", text="is rude", points=-3, matcher=Matcher(any_of=["idiot"])),
    ])
    verdicts = OfflineGrader().grade(convo(("doctor", "Any fever?")), rubric)
    assert [(v.criterion_id, v.met) for v in verdicts] == [("a", True), ("b", False)]
    free_text = Rubric(criteria=[Criterion(id="c", text="is kind", points=1)])
    with pytest.raises(GradingError, match="criterion 'c' has no matcher"):
        OfflineGrader().grade([], free_text)


def test_schema_validation_and_healthbench_round_trip():
    with pytest.raises(ValueError, match="non-zero"):
        Criterion(id="x", text="abc", points=0)
    with pytest.raises(ValueError):
        Criterion(id="x", text="abc", points=11)
    with pytest.raises(ValueError, match="pattern does not compile"):
        Matcher(pattern="(")
    with pytest.raises(ValueError, match="needs any_of phrases or a pattern"):
        Matcher()
    rubric = Rubric(criteria=[
        Criterion(id="c0", text="Names the diagnosis", points=10, dimension="diagnostic_accuracy", tags=["axis:accuracy"]),
        Criterion(id="c1", text="Prescribes a contraindicated drug", points=-8, dimension="ethics_safety"),
    ], metadata={"case_id": "x"})
    assert Rubric.from_json(rubric.to_json()) == rubric
    items = rubric.to_healthbench()
    assert items[0] == {"criterion": "Names the diagnosis", "points": 10,
                        "tags": ["axis:accuracy", "dimension:diagnostic_accuracy"]}
    back = Rubric.from_healthbench(items, metadata={"case_id": "x"})
    assert [(c.text, c.points, c.dimension, c.tags) for c in back.criteria] == \
        [(c.text, c.points, c.dimension, c.tags) for c in rubric.criteria]
    assert str(rubric.criteria[1]) == "[-8] Prescribes a contraindicated drug"
    with pytest.raises(ValueError, match="ids must be unique"):
        Rubric(criteria=[rubric.criteria[0], rubric.criteria[0]])


VISIT = convo(
    ("doctor", "ASK: Have you had any chest pain or tightness?"),
    ("doctor", "ORDER: troponin; chest x-ray"),
    ("examiner", "[Test: chest x-ray] Clear lungs."),
    ("doctor", "DIAGNOSE: pneumonia; pulmonary embolism\nPLAN: Doxycycline for five days; come back if your chest pain "
               "gets worse."),
)


@pytest.mark.parametrize("acts, met", [
    (["ask"], {"chest": 1, "x-ray": 0, "doxycycline": 0, "embolism": 0}),
    (["order"], {"chest": 1, "x-ray": 1, "doxycycline": 0, "embolism": 0}),
    (["diagnose"], {"chest": 0, "x-ray": 0, "doxycycline": 0, "embolism": 1}),
    (["plan"], {"chest": 1, "x-ray": 0, "doxycycline": 1, "embolism": 0}),
    ([], {"chest": 1, "x-ray": 1, "doxycycline": 1, "embolism": 1}),
])
def test_acts_scope_what_the_doctor_did(acts, met):
    """A question counts when asked, not when a test of that name is ordered or a plan names it."""
    got = {word: int(matches(Matcher(any_of=[word], acts=acts), VISIT)) for word in met}
    assert got == met


def test_plain_speech_is_the_ask_act():
    said = convo(("assistant", "Sorry to hear that. How long have you had the cough?"))
    assert matches(Matcher(any_of=["cough"], acts=["ask"]), said)
    assert not matches(Matcher(any_of=["cough"], acts=["plan"]), said)


def test_acts_scope_only_the_doctor():
    with pytest.raises(ValueError, match="acts"):
        Matcher(any_of=["x"], speaker="examiner", acts=["order"])


@pytest.mark.parametrize("text, met", [
    ("You've had a fever for two days.", True),
    ("You've had no fever at all.", False),  # the denial sits inside the match, before the mention
    ("If you have any fever, call us.", False),  # a condition, not a statement
])
def test_negation_and_conditions_read_around_the_mention_group(text, met):
    matcher = Matcher(pattern=r"\byou(?:'ve)? ha(?:d|ve)\b.*?(?P<mention>fever)", polarity="affirmed")
    assert matches(matcher, convo(("doctor", text))) is met


@pytest.mark.parametrize("text, met", [
    ("Stop the lamotrigine today.", True),
    ("Lamotrigine is contraindicated with this rash.", True),
    ("Continue lamotrigine at the same dose.", False),
    ("Keep taking your lamotrigine.", False),
])
def test_denied_polarity_counts_only_withheld_mentions(text, met):
    assert matches(Matcher(any_of=["lamotrigine"], polarity="denied"), convo(("doctor", text))) is met


@pytest.mark.parametrize("text, affirmed", [
    ("I'd rather hold off on adrenaline for now.", False),
    ("Withhold aspirin, ramipril and bisoprolol while hypotensive.", False),
    ("We won't use aspirin given your reaction to it.", False),
    ("Normally we'd give timolol here.", False),
    ("Rather than NSAIDs, I'll start prednisolone 40 mg daily.", True),
    ("To avoid surgery, we'll treat it with methotrexate today.", True),
    ("Nitrofurantoin isn't suitable because it doesn't reach the kidney.", False),
    ("Steroids and antibiotics don't help bronchiolitis.", False),
    ("He is allergic to penicillin.", False),
    ("This rash is lamotrigine-induced.", False),
    ("The bleed is from the ibuprofen on top of aspirin.", False),
    ("He's already on aspirin and ibuprofen.", False),
    ("We're taking you to theatre tonight, then we'll give aspirin.", True),
    ("Give aspirin 300 mg now.", True),
    ("Ramipril restarts only once your kidney function is back to normal.", False),
    ("Avoid anti-inflammatories (ibuprofen, naproxen) for now.", False),
    ("Tablets (methotrexate) are not safe with this much bleeding.", False),
    ("Start a blood thinner (apixaban 5 mg twice daily) today.", True),
    ("We'll check your lithium levels tomorrow.", False),
    ("Please take the leftover co-codamol back to the pharmacy.", False),
    ("Ibuprofen not until the bleeding has been ruled out, please.", False),
])
def test_treatment_polarity_cues(text, affirmed):
    names = ["adrenaline", "aspirin", "ibuprofen", "methotrexate", "apixaban", "lithium", "co-codamol", "bisoprolol", "timolol", "prednisolone", "methotrexate", "nitrofurantoin",
             "antibiotics", "penicillin", "lamotrigine", "ibuprofen"]
    assert matches(Matcher(any_of=names, polarity="affirmed"), convo(("doctor", text))) is affirmed


@pytest.mark.parametrize("plan, met", [
    ("Give IM adrenaline 500 micrograms now. Two adrenaline auto-injectors before discharge.", True),
    ("Do not give IM adrenaline yet; observe. Two adrenaline auto-injectors before discharge.", False),
    ("We won't start adrenaline. Nebulised salbutamol after adrenaline.", False),
    # a condition, a level or a reason is no refusal of the treatment
    ("Give IM adrenaline now. If he improves, don't give a second adrenaline dose.", True),
    ("Give IM adrenaline now; adrenaline levels are not measured.", True),
])
def test_a_refused_recommendation_is_not_met(plan, met):
    matcher = Matcher(any_of=["adrenaline"], polarity="affirmed", unless_refused=True)
    assert matches(matcher, convo(("doctor", plan))) is met
    # the refusal holds across messages: a later "give" does not undo an explicit "do not give",
    # and a later "do not give" undoes an earlier "give"
    if not met:
        assert not matches(matcher, convo(("doctor", plan), ("doctor", "Give adrenaline.")))
        assert not matches(matcher, convo(("doctor", "Give adrenaline."), ("doctor", plan)))


def test_unless_refused_reads_recommendations_only():
    with pytest.raises(ValueError, match="unless_refused needs polarity 'affirmed'"):
        Matcher(any_of=["adrenaline"], polarity="denied", unless_refused=True)


@pytest.mark.parametrize("plan, met", [
    ("Folic acid 5 mg daily.", True),
    ("Folic acid 5 mg daily and hydroxocobalamin 1 mg IM on alternate days.", False),
    ("Folic acid 5 mg daily; hydroxocobalamin isn't needed.", True),  # a denied excuse excuses nothing
    ("Folic acid 5 mg daily. Would hydroxocobalamin help?", True),  # nor does a question
])
def test_unless_fails_a_criterion_once_its_pattern_is_affirmed(plan, met):
    matcher = Matcher(any_of=["folic acid"], polarity="affirmed", unless=r"hydroxocobalamin")
    assert matches(matcher, convo(("doctor", plan))) is met
    if met:  # given in another message, it still excuses
        assert not matches(matcher, convo(("doctor", plan), ("doctor", "Start hydroxocobalamin 1 mg IM.")))


def test_unless_must_compile():
    with pytest.raises(ValueError, match="does not compile"):
        Matcher(any_of=["folic acid"], unless="(")
