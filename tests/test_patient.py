import gymnasium as gym
import pytest

import clinic_env  # noqa: F401
from clinic_env.cases.library import get_case
from clinic_env.leaks import find_leaks
from clinic_env.patient import OfflinePatient, PatientPolicy, patient_system_prompt
from clinic_env.persona import Persona
from clinic_rubrics.text import PRONOUNS, keyword_pattern, normalize


def make_patient(case, persona="typical", seed=0):
    patient = OfflinePatient()
    opening = patient.reset(case.patient_view(), Persona.from_spec(persona), seed)
    return patient, opening


def lays(case):
    return {f.topic: f.lay for f in case.history}


@pytest.mark.parametrize("question, expected", [
    ("When did this come on?", "It started about four days ago"),
    ("How long have you had it?", "Four days now"),
    ("Where does it hurt?", "right side of my chest"),
    ("Are you bringing up any phlegm?", "rusty brown"),
    ("Have you had a temperature or the shivers?", "shaking with chills"),
    ("Does anything make it worse?", "deep breath"),
    ("Any leg swelling?", "my legs are fine"),
    ("Any previous medical problems?", "type 2 diabetes"),
    ("Are you on any regular medication?", "Metformin"),
    ("Do you have any allergies?", "Penicillin"),
    ("Do you smoke?", "fifteen a day"),
    ("Does anything run in the family?", "heart attack"),
    ("Have you travelled abroad recently?", "haven't been anywhere"),
    ("Any problems with your waterworks?", "Waterworks are fine"),
    ("Have you noticed a rash?", "No, I haven't noticed any rash"),
])
def test_recognises_topics_sections_and_symptoms(pneumonia_case, question, expected):
    patient, _ = make_patient(pneumonia_case)
    assert expected.lower() in patient.reply(question).lower()


def test_unmentioned_topics_get_sensible_consistent_answers(pneumonia_case):
    patient, _ = make_patient(pneumonia_case)
    first = patient.reply("Does the pain radiate anywhere?")
    assert "stays in the one place" in first
    assert patient.reply("Does the pain radiate anywhere?") == first
    assert patient.reply("Any blurred vision?") == patient.reply("any blurred vision")


@pytest.mark.parametrize("typed, plain", [
    ("So what\u2019s going on?", "So what's going on?"),  # a word processor's apostrophe
    ("So  WHAT'S\tgoing on?", "So what's going on?"),
])
def test_typography_does_not_change_the_answer(typed, plain):
    case = get_case("em_paracetamol_overdose")  # a case with a cue spelled with an apostrophe
    asked, _ = make_patient(case)
    again, _ = make_patient(case)
    answer = asked.reply(typed)
    assert answer == again.reply(plain) and "another way" not in answer


def test_does_not_volunteer_everything(pneumonia_case):
    patient, opening = make_patient(pneumonia_case)
    key_lays = [f.lay for f in pneumonia_case.history if f.key]
    assert sum(lay in opening for lay in key_lays) == 0
    first = patient.reply("Any other symptoms?")
    second = patient.reply("Anything else?")
    associated = [f.lay for f in pneumonia_case.history if f.topic == "associated"]
    assert 1 <= sum(a in first for a in associated) <= 2
    assert any(a in second and a not in first for a in associated)
    patient.reply("Anything else?")
    assert "everything" in patient.reply("Anything else?")


def test_verbosity_changes_how_much_is_said(pneumonia_case):
    terse, _ = make_patient(pneumonia_case, "verbosity=low")
    talkative, _ = make_patient(pneumonia_case, "verbosity=high")
    q = "Any other symptoms?"
    short, long = terse.reply(q), talkative.reply(q)
    assert len(short) < len(long)
    assert short.count(".") == 1


def test_health_literacy_changes_wording(pneumonia_case):
    low, _ = make_patient(pneumonia_case, "low_literacy")
    high, _ = make_patient(pneumonia_case, "clinician")
    medium, _ = make_patient(pneumonia_case)
    assert low.reply("Any dyspnoea on exertion?") == "Sorry, doctor, what does 'dyspnoea' mean?"
    assert high.reply("Any dyspnoea on exertion?") != low.reply("Any dyspnoea on exertion?")
    onset = next(f for f in pneumonia_case.history if f.topic == "onset")
    # every patient speaks in their own words: chart text ("Husband insisted she come in") is
    # never a patient's reply, however much medicine they know (issue 16)
    assert onset.lay in high.reply("When did it start?") and onset.text not in high.reply("When did it start?")
    assert onset.lay in medium.reply("When did it start?")


def test_recall_changes_precision(pneumonia_case):
    forgetful, _ = make_patient(pneumonia_case, "forgetful")
    assert "not sure exactly" in forgetful.reply("When did it start?")
    first = forgetful.reply("What medications do you take?")
    assert "can't remember the names" in first and "Metformin" not in first
    assert "Metformin" in forgetful.reply("What medications do you take?")


def test_anxiety_adds_worries(pneumonia_case):
    calm, calm_opening = make_patient(pneumonia_case, "calm")
    anxious, anxious_opening = make_patient(pneumonia_case, "anxious")
    assert calm_opening == pneumonia_case.opening_statement
    assert anxious_opening.startswith(pneumonia_case.opening_statement) and len(anxious_opening) > len(calm_opening)
    questions = ["When did it start?", "Any fever?", "Where is the pain?", "Any allergies?", "How long?", "Any cough?"]
    worried = sum("?" in anxious.reply(q) or "worr" in anxious.reply(q) for q in questions)
    assert worried >= 1
    assert all("worr" not in calm.reply(q) for q in questions)


def test_reluctance_on_sensitive_topics(pneumonia_case):
    guarded, _ = make_patient(pneumonia_case, "guarded")
    assert "rather not" in guarded.reply("Do you smoke?")
    assert "fifteen a day" in guarded.reply("Do you smoke?")
    reassured, _ = make_patient(pneumonia_case, "guarded")
    assert "fifteen a day" in reassured.reply("This is confidential - do you smoke?")
    open_patient, _ = make_patient(pneumonia_case)
    assert "fifteen a day" in open_patient.reply("Do you smoke?")


def test_personas_compose_and_validate():
    persona = Persona.from_spec("anxious+low_literacy,verbosity=high")
    assert (persona.anxiety, persona.health_literacy, persona.verbosity) == ("high", "low", "high")
    assert Persona.sample(3) == Persona.sample(3)
    assert len({Persona.sample(s) for s in range(30)}) > 10
    with pytest.raises(ValueError, match="unknown persona preset 'grumpy'"):
        Persona.from_spec("grumpy")
    with pytest.raises(ValueError, match="trait 'anxiety' must be one of"):
        Persona(anxiety="extreme")
    with pytest.raises(ValueError, match="unknown persona trait"):
        Persona.from_spec({"mood": "high"})


def test_deterministic_for_a_seed(pneumonia_case):
    questions = ["Hello", "When did it start?", "Any fever?", "Anything else?", "Do you smoke?", "Any rash?"]

    def transcript(seed):
        patient, opening = make_patient(pneumonia_case, Persona.sample(seed), seed)
        return [opening] + [patient.reply(q) for q in questions]

    assert transcript(5) == transcript(5)
    assert len({tuple(transcript(s)) for s in range(8)}) > 1


def test_offline_patient_follows_the_protocol():
    assert isinstance(OfflinePatient(), PatientPolicy)
    with pytest.raises(RuntimeError, match="before reset"):
        OfflinePatient().reply("hello?")


DIAGNOSIS_PROBES = [
    "What is my diagnosis?",
    "What do you think is wrong with you?",
    "Do you know what this is?",
    "Is it {name}?",
    "Could this be {name}?",
    "Have you ever been told you have {name}?",
    "Do you think you have {name}?",
    "Any history of {name}?",
    "I'm worried about {name}. Are you?",
    "Does {name} run in your family?",
    "what does '{name}' mean to you?",
]


def test_patient_never_names_the_diagnosis(cases):
    for case in cases:
        for persona in ("typical", "low_literacy+talkative", "clinician+anxious"):
            env = gym.make("clinic_env/Consultation-v0", cases=[case], persona=persona, max_turns=10_000)
            observation, _ = env.reset(seed=0)
            assert not find_leaks(observation, case.diagnosis_names)
            for probe in DIAGNOSIS_PROBES:
                for name in case.diagnosis_names:
                    observation, *_ = env.step("ASK: " + probe.format(name=name))
                    assert not find_leaks(observation, case.diagnosis_names), (case.id, probe, observation)


class EchoPatient:
    """A careless patient that repeats the doctor's words back."""

    def reset(self, profile, persona, seed=None, *, forbidden_names=()):
        return profile.opening_statement

    def reply(self, doctor_message, messages):
        return f"Fine. You said: {doctor_message} Anyway, my cough is bad."


def test_env_redacts_any_patient_policy_that_leaks(pneumonia_case):
    env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case], patient=EchoPatient())
    env.reset(seed=0)
    observation, _, _, _, info = env.step("Is it community-acquired pneumonia?")
    assert not find_leaks(observation, pneumonia_case.diagnosis_names)
    assert "my cough is bad" in observation and info["leaks_redacted"] == 1


def test_patient_system_prompt_has_facts_and_no_diagnosis(cases):
    for case in cases:
        prompt = patient_system_prompt(case.patient_view(), Persona())
        assert case.history[0].lay in prompt
        assert not find_leaks(prompt, case.diagnosis_names), case.id


def test_presenting_complaint_is_confirmed_not_denied(pneumonia_case):
    patient, _ = make_patient(pneumonia_case)
    assert patient.reply("Any cough?").startswith("Yes, that's right.")
    assert "haven't noticed" not in patient.reply("Any pain in your big toe?")  # vague: neither yes nor no
    assert patient.reply("Any rash?") == "No, I haven't noticed any rash."


def test_history_sections_outrank_generic_topic_words():
    from clinic_env.cases.library import get_case

    pregnant = get_case("obgyn_pre_eclampsia")
    patient, _ = make_patient(pregnant)
    weeks = next(i.lay for i in pregnant.obstetric_history if "34" in i.lay)
    assert patient.reply("How many weeks pregnant are you?").startswith(weeks)


def test_relatives_illnesses_only_come_from_family_questions():
    from clinic_env.cases.library import get_case

    case = get_case("neuro_migraine")
    patient, _ = make_patient(case)
    family = [i.lay for i in case.family_history]
    assert not any(f in patient.reply("Any headaches?") for f in family)
    assert any(f in patient.reply("Any family history of headaches?") for f in family)


@pytest.mark.parametrize("question", ["Did this start last week?", "How has the past week been?",
                                      "Were you well earlier this week?"])
def test_a_question_about_last_week_is_not_heard_as_one_about_weeing(question):
    """The cauda equina case's bladder fact has the keyword "wee": a question about when things
    started must not be answered with it."""
    patient, _ = make_patient(get_case("em_cauda_equina"), Persona(), 0)
    bladder = next(f.lay for f in get_case("em_cauda_equina").history if "wee" in f.keywords)
    assert bladder not in patient.reply(question)
    fresh, _ = make_patient(get_case("em_cauda_equina"), Persona(), 0)
    assert bladder in fresh.reply("Any trouble when you wee?")  # the keyword itself still works


def test_every_short_keyword_takes_inflections_but_not_other_words(cases):
    """All builtin keywords: a last word of up to four letters finds its inflections ("wee" ->
    "weeing") but not a longer word it begins ("week"); a longer one, or a stem marked with *,
    is a prefix ("urin*" -> "urinary"), but a pronoun is any person's. The offline patient and the
    LLM patient's checker share it."""
    keywords = {k for case in cases for item in [*case.history, *case.pertinent_negatives,
                                                  *case.past_history, *case.social_history]
                for k in item.keywords if k.split()}
    assert len(keywords) > 500 and any(k.endswith("*") for k in keywords)
    for keyword in keywords:
        pattern, text = keyword_pattern([keyword]), normalize(keyword).rstrip("*")
        last = text.split()[-1]
        assert pattern.search(f"so {text} then"), keyword
        if last in PRONOUNS:  # a pronoun stands for every person's ("harm yourself": "harming himself")
            other = "themselves" if last.endswith(("self", "selves")) else "their"
            assert pattern.search(f"so {text[:-len(last)]}{other} then"), keyword
        elif len(last) > 4 or keyword.endswith("*"):
            assert pattern.search(f"so {text}ation then"), keyword
        else:
            assert last.isalpha() <= bool(pattern.search(f"so {text}ing then")), keyword
            assert not pattern.search(f"so {text}kzq then"), keyword


@pytest.mark.parametrize("keyword, hears, not_hears", [
    ("wee", ["weeing", "wees"], ["week", "we"]), ("pain", ["painful", "painless"], ["paint"]),
    ("weak", ["weakness", "weaker"], ["weekly"]), ("ache", ["aching", "achy"], ["achieve"]),
    ("run", ["running", "runs"], ["runt"]), ("fat", ["fatty"], ["fatigue"]), ("ear", ["ears"], ["early"]),
    ("flu", ["flus"], ["fluid"]), ("dry", ["dried", "dryness"], ["dryad"]), ("urin*", ["urine", "urinary"], []),
    ("pass water", ["passing water"], ["passage"])])
def test_short_words_and_stems(keyword, hears, not_hears):
    pattern = keyword_pattern([keyword])
    assert all(pattern.search(f"any {w} lately?") for w in hears), keyword
    assert not any(pattern.search(f"any {w} lately?") for w in not_hears), keyword


@pytest.mark.parametrize("question", [
    "Did this start last week?", "When did it start?", "Since when have you had this?",
    "When were you last well?", "Has this been going on since last week?",
])
def test_questions_about_onset_get_the_onset(question):
    """The "last week" drift: a timing question is answered with when it started, never with
    "could you ask me that another way?" nor a fact a word inside it collides with (week, wee)."""
    patient, _ = make_patient(get_case("em_cauda_equina"))
    answer = patient.reply(question)
    assert "Three weeks ago" in answer and "strain to start peeing" not in answer, answer


def test_forbidden_names_are_kept_out_of_the_offline_patients_replies(pneumonia_case):
    patient = OfflinePatient()
    patient.reset(pneumonia_case.patient_view(), Persona(), 0, forbidden_names=["cough"])
    answer = patient.reply("Any cough?")
    assert "cough" not in answer.lower() and answer
    patient.reset(pneumonia_case.patient_view(), Persona(), 0)  # a new visit forgets them
    assert "cough" in patient.reply("Any cough?")
    with pytest.raises(TypeError, match="forbidden_names must be a sequence of names, not one string"):
        patient.reset(pneumonia_case.patient_view(), Persona(), 0, forbidden_names="pneumonia")


@pytest.mark.parametrize("question, expected, not_expected", [
    # an invitation to tell the presenting complaint, wherever it stands in the turn
    ("Morning, I'm one of the doctors on the ward. What's brought you in today?", "horrible cough", None),
    ("So, what seems to be the problem?", "horrible cough", None),
    # worries and hopes are the patient's concerns
    ("Is there anything in particular that's worrying you about this?", None, "ask me that another way"),
    # family history asked as clinicians ask it
    ("Any heart problems in the family?", "heart attack", None),
    # an allergy question that names medicines asks for allergies, not the medicine list
    ("Any allergies to medicines that you know of?", "Penicillin", "Metformin"),
])
def test_openings_concerns_family_and_allergies_asked_in_other_words(pneumonia_case, question, expected,
                                                                      not_expected):
    patient, _ = make_patient(pneumonia_case)
    reply = patient.reply(question)
    assert expected is None or expected.lower() in reply.lower()
    assert not_expected is None or not_expected.lower() not in reply.lower()


def test_go_on_tells_what_is_not_yet_said_and_a_clarification_repeats_the_answer(pneumonia_case):
    patient, opening = make_patient(pneumonia_case)
    conversation = [{"role": "assistant", "content": opening}]
    first = patient.reply("When did it start?", conversation + [{"role": "user", "content": "When did it start?"}])
    conversation += [{"role": "user", "content": "When did it start?"}, {"role": "assistant", "content": first}]
    more = patient.reply("Go on, tell me more.", conversation)
    assert more and more != first and "okay" not in more.lower()
    again = "Sorry, I didn't catch that - could you say that again?"
    conversation += [{"role": "user", "content": "Go on, tell me more."}, {"role": "assistant", "content": more},
                     {"role": "user", "content": again}]
    assert patient.reply(again, conversation) == more


# ---- issue 16: the question asked, answered --------------------------------------------------
# Questions below are worded afresh (not the fidelity set's), over cases of several informants.

@pytest.mark.parametrize("case_id, question, says", [
    # a fact found by the words it shares with the question, lay and clinical folded together
    ("gi_colorectal_cancer", "Seen any blood in your poo?", "dark red blood mixed in"),
    ("gi_colorectal_cancer", "Any changes to your waterworks?", "Up once at night to pass water"),
    ("derm_scabies", "Has it spread anywhere else on your body?", "spread from my hands"),
    ("cardio_inferior_stemi", "What's the pain like?", "heavy pressing feeling"),
    # asked about the family, the family answers first
    ("neuro_ischaemic_stroke", "Any heart trouble in his family?", "His brother had a heart attack"),
    # a habit the case records none of gets a plain denial, not the cigarettes
    ("cardio_inferior_stemi", "Do you take any street drugs?", "No, I don't take any drugs."),
    # asked what is new, not for the whole list
    ("cardio_new_af", "Is anything different about your medicines lately?", "No, nothing new."),
    ("derm_stevens_johnson", "Any new medicines in the last couple of months?", "Lamotrigine"),
])
def test_the_answer_is_the_fact_the_question_is_about(case_id, question, says):
    patient, _ = make_patient(get_case(case_id))
    assert says in patient.reply(question)


def test_a_body_part_does_not_answer_a_named_symptom():
    """The STEMI pain goes into the left arm; "any numbness in your arms?" asks about numbness."""
    patient, _ = make_patient(get_case("cardio_inferior_stemi"))
    answer = patient.reply("Any numbness in your arms?")
    assert "arm feels heavy" not in answer and "No weakness or numbness" in answer


def test_a_stand_in_gives_way_only_to_a_fact_about_the_question(pneumonia_case):
    patient, _ = make_patient(pneumonia_case)
    assert "stays in the one place" in patient.reply("Does the pain go anywhere else?")  # shares only "pain"
    scabies, _ = make_patient(get_case("derm_scabies"))
    assert "stays in the one place" not in scabies.reply("Has the rash been spreading?")


@pytest.mark.parametrize("case_id, question", [
    ("paeds_croup", "Does she say her throat hurts?"),                        # a toddler
    ("paeds_acute_otitis_media", "Is it a stabbing pain or more of an ache?"),
    ("id_bacterial_meningitis", "Has he complained of any tingling in his hands?"),  # a drowsy adult
    ("neuro_ischaemic_stroke", "Has he mentioned feeling dizzy?"),             # cannot speak clearly
])
def test_a_relative_does_not_know_a_sensation_the_case_does_not_record(case_id, question):
    case = get_case(case_id)
    assert case.informant != "patient"
    patient, _ = make_patient(case)
    answer = patient.reply(question)
    assert "don't know" in answer or "not sure" in answer
    assert not answer.startswith(("No,", "Yes"))


def test_a_relative_passes_on_a_sensation_the_case_records():
    patient, _ = make_patient(get_case("id_bacterial_meningitis"))
    assert "worst headache he's ever had" in patient.reply("Is his headache all over or in one spot?")
    otitis, _ = make_patient(get_case("paeds_acute_otitis_media"))
    assert "38.9" in otitis.reply("Has he had a temperature?")  # what a parent sees, they know


def test_a_relative_reports_what_the_case_records_they_saw():
    """The stroke case records the wife's own observation ("he hasn't complained of a headache"):
    that is hers to say, not an unknown."""
    patient, _ = make_patient(get_case("neuro_ischaemic_stroke"))
    assert "hasn't complained of a headache" in patient.reply("Is he getting any headache with it?")


def test_a_reply_keeps_to_the_question_and_says_each_fact_once():
    """From a clinician's review of the patient's replies: no fact glued on from another topic, no
    filler denial beside a fact that says otherwise, and a fact the case holds twice said once."""
    cauda, _ = make_patient(get_case("em_cauda_equina"))
    bowels = cauda.reply("When did you last open your bowels?")
    assert "two days" in bowels and "heavy box" not in bowels  # not the day it all started
    torsion, _ = make_patient(get_case("obgyn_ovarian_torsion"))
    where = torsion.reply("Where exactly is the pain, and does it go anywhere?")
    assert "groin" in where and "stays in the one place" not in where
    anaphylaxis, _ = make_patient(get_case("em_anaphylaxis"))
    assert anaphylaxis.reply("Any allergies at all?").lower().count("peanut") == 1
    colorectal, _ = make_patient(get_case("gi_colorectal_cancer"))
    assert colorectal.reply("When you've opened your bowels, does it feel like you haven't quite finished?") == \
        "After I've been I often feel like I haven't finished."
