"""The LLM patient, against a real local HTTP server (``tests/openai_server.py``; no network).

The patient's model and the optional checker are ``clinic_env.llm.LLMClient`` pointed
at the local server, so every reply, regeneration and check is a real chat-completions call.
"""

from __future__ import annotations

import asyncio
import random

import gymnasium as gym
import pytest
from openai_server import serve

import clinic_env  # noqa: F401  (registers the Gymnasium env)
from clinic_env.leaks import find_diagnosis_terms, find_leaks
from clinic_env.llm import LLMClient
from clinic_env.patient import LLMPatient, OfflinePatient, PatientPolicy
from clinic_env.patient.ending import dialogue_end_reason
from clinic_env.patient.prompt import LANGUAGE_TEXT, MBTI_TEMPERAMENTS, patient_system_prompt
from clinic_env.persona import LEVELS, MBTI_TYPES, Persona

PNEUMONIA = "pulm_cap_adult"


@pytest.fixture
def server():
    with serve() as running:
        yield running


def client_for(server, model="patient-model"):
    return LLMClient(model, base_url=server.base_url, api_key="test")


def make_patient(server, case, persona="typical", seed=0, forbidden_names=(), **kwargs):
    patient = LLMPatient(client_for(server), **kwargs)
    opening = patient.reset(case.patient_view(), Persona.from_spec(persona), seed, forbidden_names=forbidden_names)
    return patient, opening


def lay(case, topic):
    return next(f.lay for f in case.history if f.topic == topic)


# ---- persona ----------------------------------------------------------------------------------

def test_persona_background_traits_are_seeded_validated_and_keep_the_old_traits():
    old_traits = ("verbosity", "health_literacy", "recall", "anxiety", "reluctance")
    default = Persona()
    assert [getattr(default, t) for t in old_traits] == ["medium", "medium", "high", "low", "low"]
    for seed in range(50):  # the old five are drawn exactly as before the new traits existed
        rng = random.Random(seed)
        assert [getattr(Persona.sample(seed), t) for t in old_traits] == [rng.choice(LEVELS) for _ in old_traits]
    assert Persona.sample(11) == Persona.sample(11)
    assert len({Persona.sample(s).mbti for s in range(60)}) > 8
    assert len({Persona.sample(s).language_level for s in range(60)}) == 3
    assert all(p.emotional_state in ("worried", "frightened", "tearful")
               for p in map(Persona.sample, range(200)) if p.anxiety == "high")
    persona = Persona.from_spec("anxious+simple_language,mbti=entp,education=university,income=low")
    assert (persona.mbti, persona.language_level, persona.education, persona.income, persona.emotional_state) == (
        "ENTP", "simple", "university", "low", "worried")
    described = persona.describe()
    assert "mbti: ENTP" in described and "language level: simple" in described and "emotional state: worried" in described
    with pytest.raises(ValueError, match="trait 'mbti' must be one of"):
        Persona(mbti="ABCD")
    with pytest.raises(ValueError, match="trait 'language_level' must be one of"):
        Persona.from_spec("language_level=klingon")
    with pytest.raises(ValueError, match="trait 'emotional_state' must be one of"):
        Persona(emotional_state="ecstatic")


# ---- the system prompt ------------------------------------------------------------------------

def test_system_prompt_has_the_facts_and_persona_and_never_the_diagnosis(cases):
    personas = [Persona.sample(s).with_traits(mbti=mbti) for s, mbti in enumerate(MBTI_TYPES)]
    for case in cases:
        profile = case.patient_view()
        for persona in personas:
            prompt = patient_system_prompt(profile, persona)
            assert not find_leaks(prompt, case.diagnosis_names), (case.id, find_leaks(prompt, case.diagnosis_names))
        prompt = patient_system_prompt(profile, personas[0])
        assert all(f.lay in prompt for f in case.history), case.id
        assert all(n.lay in prompt for n in case.pertinent_negatives), case.id
        assert all(answer in prompt for answer in case.review_of_systems.values()), case.id
        assert case.opening_statement in prompt


def test_system_prompt_is_shaped_by_the_persona(pneumonia_case):
    profile = pneumonia_case.patient_view()
    simple = patient_system_prompt(profile, Persona.from_spec("mbti=ESTP,language_level=simple,recall=low"))
    fluent = patient_system_prompt(profile, Persona.from_spec("mbti=INFJ,language_level=fluent,clinician"))
    assert "MBTI ESTP" in simple and MBTI_TEMPERAMENTS["ESTP"] in simple and LANGUAGE_TEXT["simple"] in simple
    assert "MBTI INFJ" in fluent and LANGUAGE_TEXT["fluent"] in fluent and LANGUAGE_TEXT["simple"] not in fluent
    assert "Recall low" in simple and "Recall low" not in fluent
    onset = next(f for f in pneumonia_case.history if f.topic == "onset")
    assert onset.text in fluent and onset.text not in simple  # clinical wording only for high literacy
    assert "Never name, suggest or guess a diagnosis" in simple
    # a sampled persona is the same for the same seed, so is its prompt
    assert patient_system_prompt(profile, Persona.sample(4)) == patient_system_prompt(profile, Persona.sample(4))


# ---- replies from the local server ---------------------------------------------------------

def test_reply_comes_from_the_model_with_the_patients_prompt(server, pneumonia_case):
    assert isinstance(LLMPatient(client_for(server)), PatientPolicy)
    patient, opening = make_patient(server, pneumonia_case, "anxious+mbti=ISTP", seed=3,
                                    sampling={"temperature": 0.3})
    offline = OfflinePatient()
    assert opening == offline.reset(pneumonia_case.patient_view(), Persona.from_spec("anxious+mbti=ISTP"), 3)
    assert opening.startswith(pneumonia_case.opening_statement)
    assert server.requests == []  # no model call to open the visit
    server.push("It started about four days ago, after a cold.")
    assert patient.reply("When did it start?") == "It started about four days ago, after a cold."
    (request,) = server.requests
    sent = request.messages
    assert sent[0] == {"role": "system", "content": patient.system_prompt} and "MBTI ISTP" in sent[0]["content"]
    assert [m["role"] for m in sent] == ["system", "assistant", "user"] and sent[1]["content"] == opening
    assert request.prompt == "When did it start?" and request.json["temperature"] == 0.3
    server.push("Yes, I've been burning up at night.")
    patient.reply("Any fever?")
    second = server.requests[1].messages
    assert [m["content"] for m in second[1:]] == [opening, "When did it start?",
                                                   "It started about four days ago, after a cold.", "Any fever?"]
    assert patient.stats["replies"] == 2 and patient.stats["model_calls"] == 2 and patient.stats["regenerations"] == 0


def test_reply_before_reset_is_an_error_and_reply_works_inside_an_event_loop(server, pneumonia_case):
    with pytest.raises(RuntimeError, match="before reset"):
        LLMPatient(client_for(server)).reply("Hello?")
    patient, _ = make_patient(server, pneumonia_case)
    server.push("Four days.", "About four days now.")

    async def main():  # a notebook cell: a loop is running, and the sync call still works
        return patient.reply("How long?"), await patient.areply("How long?")

    assert asyncio.run(main()) == ("Four days.", "About four days now.")
    assert len(server.requests) == 2
    with pytest.raises(TypeError, match="complete"):
        LLMPatient(object())
    with pytest.raises(ValueError, match="max_regenerations"):
        LLMPatient(client_for(server), max_regenerations=-1)


# ---- the factual check ------------------------------------------------------------------------

def test_a_reply_naming_a_forbidden_diagnosis_is_regenerated_with_the_reason(server, pneumonia_case):
    patient, _ = make_patient(server, pneumonia_case, forbidden_names=pneumonia_case.diagnosis_names)
    # the doctor said it first, so only the forbidden list (not the heuristic) rejects the echo
    question = "Do you think it's pneumonia?"
    server.push("Could be pneumonia, I suppose, doctor.", "I don't know, doctor, that's why I came.")
    assert patient.reply(question) == "I don't know, doctor, that's why I came."
    assert len(server.requests) == 2
    retry = server.requests[1].messages
    assert retry[-2] == {"role": "assistant", "content": "Could be pneumonia, I suppose, doctor."}
    assert "rejected" in retry[-1]["content"] and "pneumonia" in retry[-1]["content"]
    assert retry[:-2] == server.requests[0].messages  # the same dialogue, plus the rejected reply and the reason
    assert patient.stats["leak"] == 1 and patient.stats["regenerations"] == 1 and patient.stats["fallbacks"] == 0
    assert [p.kind for p in patient.last_problems] == ["leak"]
    unguarded, _ = make_patient(server, pneumonia_case)  # without the list, an echo of the doctor's word passes
    server.push("Could be pneumonia, I suppose, doctor.")
    assert unguarded.reply(question) == "Could be pneumonia, I suppose, doctor." and len(server.requests) == 3
    unguarded.reset(pneumonia_case.patient_view(), Persona(), 0)  # reset forgets the forbidden names of a visit
    patient.reset(pneumonia_case.patient_view(), Persona(), 0)
    assert patient.check("Could be pneumonia.", question) == []


def test_a_diagnosis_the_patient_could_not_know_is_a_leak_unless_the_doctor_said_it(server, pneumonia_case):
    patient, _ = make_patient(server, pneumonia_case)  # no forbidden names: the heuristic alone
    server.push("Could it be meningitis, doctor?", "I've no idea, doctor.")
    assert patient.reply("Any idea what this is?") == "I've no idea, doctor."
    assert len(server.requests) == 2 and "meningitis" in server.requests[1].prompt
    server.push("No, I've never had asthma.")
    assert patient.reply("Have you ever had asthma?") == "No, I've never had asthma."  # an echo is fine
    server.push("I've got type 2 diabetes, on tablets.")
    assert patient.reply("Any medical problems?") == "I've got type 2 diabetes, on tablets."  # in the facts
    assert len(server.requests) == 4


def test_denying_a_symptom_the_patient_has_is_regenerated(server, pneumonia_case):
    patient, _ = make_patient(server, pneumonia_case)
    server.push("No, I haven't had any fever.", "Yes, I've been burning up and shivering at night.")
    assert patient.reply("Have you had a fever?") == "Yes, I've been burning up and shivering at night."
    assert len(server.requests) == 2
    reason = server.requests[1].prompt
    assert 'denied "fever"' in reason and lay(pneumonia_case, "associated") in reason
    assert patient.stats["denies_fact"] == 1


def test_affirming_a_pertinent_negative_is_regenerated(server, pneumonia_case):
    patient, _ = make_patient(server, pneumonia_case)
    server.push("Yes, my legs are really swollen.", "No, my legs are fine.")
    assert patient.reply("Any swelling in your legs?") == "No, my legs are fine."
    assert len(server.requests) == 2 and "No, my legs are fine, no swelling." in server.requests[1].prompt
    assert patient.stats["affirms_negative"] == 1


def test_the_check_does_not_reject_what_the_case_itself_says(server, cases):
    patient = LLMPatient(client_for(server))
    for case in cases:
        patient.reset(case.patient_view(), Persona(), 0)
        said = [f.lay for f in case.history] + [n.lay for n in case.pertinent_negatives]
        said += list(case.review_of_systems.values()) + [i.lay for i in case.past_history + case.social_history]
        for text in said:
            assert patient.check(text, "Tell me more.") == [], (case.id, text)
        assert find_diagnosis_terms(case.diagnosis.name), case.id  # every builtin diagnosis sounds like one
    patient.reset(cases[0].patient_view(), Persona(), 0)
    assert [p.kind for p in patient.check("  ")] == ["empty"]


def test_persistent_failure_falls_back_to_the_offline_answer(server, pneumonia_case):
    patient, _ = make_patient(server, pneumonia_case, max_regenerations=2,
                              forbidden_names=pneumonia_case.diagnosis_names)
    server.set_handler(lambda request: "It's pneumonia, I just know it.")
    offline = OfflinePatient()
    offline.reset(pneumonia_case.patient_view(), Persona(), 0)
    expected = offline.reply("When did it start?")
    assert patient.reply("When did it start?") == expected and "four days" in expected
    assert len(server.requests) == 3
    assert patient.stats["fallbacks"] == 1 and patient.stats["regenerations"] == 2 and patient.stats["leak"] == 3
    eager, _ = make_patient(server, pneumonia_case, max_regenerations=0, forbidden_names=["pneumonia"])
    eager.reply("When did it start?")
    assert len(server.requests) == 4 and eager.stats["fallbacks"] == 1


def test_optional_llm_check(server, pneumonia_case):
    with serve() as checker:
        patient, _ = make_patient(server, pneumonia_case, check_client=client_for(checker, "checker-model"))
        checker.push('```json\n{"consistent": false, "reason": "the patient invents a dog bite"}\n```',
                     '{"consistent": true}')
        server.push("A dog bit me on the leg yesterday.", "It started about four days ago.")
        assert patient.reply("When did it start?") == "It started about four days ago."
        assert len(server.requests) == 2 and len(checker.requests) == 2
        assert "dog bite" in server.requests[1].prompt
        check_prompt = checker.requests[0].prompt
        assert "A dog bit me" in check_prompt and lay(pneumonia_case, "onset") in check_prompt
        assert not find_leaks(check_prompt, pneumonia_case.diagnosis_names)
        checker.push("I cannot say.")  # unreadable: the reply goes through, counted
        server.push("Four days.")
        assert patient.reply("How long?") == "Four days."
        assert patient.stats["llm_check"] == 1 and patient.stats["llm_check_errors"] == 1
        assert patient.stats["llm_check_calls"] == 3


# ---- the termination gate ---------------------------------------------------------------------

def _patient_view(doctor_lines, patient_lines=None):
    messages = [{"role": "system", "content": "..."}, {"role": "assistant", "content": "I've got a cough."}]
    for i, line in enumerate(doctor_lines):
        messages.append({"role": "user", "content": line})
        messages.append({"role": "assistant", "content": (patient_lines or [f"answer {i}"] * 99)[i]})
    return messages


@pytest.mark.parametrize("message, expected", [
    ("DIAGNOSE: community-acquired pneumonia\nPLAN: oral amoxicillin", "diagnosis"),
    ("**DIAGNOSE:** pneumonia; pulmonary embolism", "diagnosis"),
    ("END: Thanks, goodbye.", "ended_by_doctor"),
    ("I think this is pneumonia, so I'll start you on antibiotics.", "diagnosis_and_plan"),
    ("The most likely diagnosis is a chest infection. The plan is antibiotics and rest.", "diagnosis_and_plan"),
    ("ASK: I think you have pneumonia.", None),  # a diagnosis without a plan
    ("ASK: We'll start some antibiotics while we wait.", None),  # a plan without a diagnosis
    ("ASK: Could this be pneumonia? Should I prescribe antibiotics?", None),  # questions
    ("ASK: Any fever?", None),
    ("EXAMINE: respiratory", None),
])
def test_termination_on_diagnosis_and_plan(server, pneumonia_case, message, expected):
    patient, _ = make_patient(server, pneumonia_case)
    assert patient.end_reason(message, []) == expected
    assert patient.should_end(message, []) is (expected is not None)


def test_termination_when_the_dialogue_goes_nowhere(server, pneumonia_case):
    patient, _ = make_patient(server, pneumonia_case, stall_turns=3)
    history = ["Any fever?", "Any cough?"]
    assert not patient.should_end("Any fever?", _patient_view(history))  # one repeat is not a stall
    assert not patient.should_end("Any fever?", _patient_view(history + ["Any cough?"]))
    assert patient.end_reason("any fever", _patient_view(history + ["Any cough?", "Any fever?"])) == "stalled"
    looping = ["Tell me more.", "Tell me more.", "Tell me more."]
    assert patient.should_end("Tell me more.", _patient_view(looping))
    assert not LLMPatient(client_for(server), stall_turns=5).should_end("Tell me more.", _patient_view(looping))
    assert patient.should_end("", _patient_view(["Hello", "", ""]))  # empty turns make no progress
    assert not patient.should_end("", _patient_view(["Hello", "Any pain?", ""]))
    # the doctor's message may already be the last message of the patient's chat view (as in the env)
    view = _patient_view(["Any fever?", "Any fever?", "Any fever?"])[:-1]
    assert dialogue_end_reason("Any fever?", view, 3) is None and dialogue_end_reason("Any fever?", view, 2) == "stalled"
    stuck = _patient_view(["Q1?", "Q2?", "Q3?"], ["I don't know."] * 3)
    assert patient.end_reason("Q4?", stuck) == "stalled"  # the patient keeps giving the same answer
    assert patient.end_reason("Q4?", _patient_view(["Q1?", "Q2?", "Q3?"])) is None


# ---- a whole consultation in the Gymnasium env ----------------------------------------------

def test_the_env_gives_the_patient_the_case_diagnosis_names_for_its_check(server, pneumonia_case):
    # The doctor says the word first, so only the case's names (set by the env at reset) make the echo a leak.
    server.push("Could be pneumonia, I suppose, doctor.", "I don't know, doctor, that's why I came.")
    patient = LLMPatient(client_for(server))
    env = gym.make("clinic_env/Consultation-v0", cases=[PNEUMONIA], patient=patient, persona="typical")
    env.reset(seed=0)
    observation, *_ = env.step("ASK: Do you think it's pneumonia?")
    assert observation == "I don't know, doctor, that's why I came."
    assert patient.stats["leak"] == 1 and patient.stats["regenerations"] == 1 and len(server.requests) == 2
    assert not find_leaks(server.requests[0].messages[0]["content"], pneumonia_case.diagnosis_names)  # not in the prompt
    env.close()


def test_the_patient_prompt_in_the_env_is_the_one_the_model_is_sent(server, pneumonia_case):
    server.push("About four days ago.")
    patient = LLMPatient(client_for(server))
    env = gym.make("clinic_env/Consultation-v0", cases=[PNEUMONIA], patient=patient, persona="anxious,mbti=ENTP")
    env.reset(seed=0)
    env.step("ASK: When did it start?")
    shown = env.unwrapped.consultation.patient_messages[0]
    assert shown["role"] == "system" and "MBTI ENTP" in shown["content"]
    assert server.requests[0].messages[0] == shown == {"role": "system", "content": patient.system_prompt}
    env.close()


def test_the_llm_patient_plays_a_consultation_in_the_gym_env(server, pneumonia_case):
    answers = {
        "When did it start?": "Four days ago, after a cold. It's been awful.",
        "Any fever?": "Burning up at night and shaking with chills.",
        "Do you smoke?": "About fifteen a day, I'm afraid.",
    }
    leaked = []

    def handler(request):  # answers the doctor's last question (a regeneration ends with the reason)
        question = [m["content"] for m in request.messages
                    if m["role"] == "user" and not m["content"].startswith("[Role-play")][-1]
        if question == "Any fever?" and not leaked:  # the first answer names the diagnosis
            leaked.append(question)
            return "Feels like pneumonia to me, doctor."
        return answers.get(question, "I'm not sure, doctor.")

    server.set_handler(handler)
    patient = LLMPatient(client_for(server))
    env = gym.make("clinic_env/Consultation-v0", cases=[PNEUMONIA], patient=patient,
                   persona="anxious+simple_language,mbti=ENTP")
    observation, info = env.reset(seed=0)
    assert env.unwrapped.patient is patient and observation.startswith(pneumonia_case.opening_statement)
    seen = []
    for action in ["ASK: When did it start?", "EXAMINE: respiratory", "ASK: Any fever?", "ASK: Do you smoke?"]:
        observation, reward, terminated, truncated, info = env.step(action)
        seen.append(observation)
        assert not (terminated or truncated)
        assert not find_leaks(observation, pneumonia_case.diagnosis_names)
    assert seen[0] == answers["When did it start?"] and seen[2] == answers["Any fever?"]
    assert seen[3] == answers["Do you smoke?"]
    assert seen[1] not in answers.values() and "respiratory" in seen[1].lower()  # the examiner's report
    assert len(server.requests) == 4  # three questions, one regeneration; the exam is not the patient's
    system = server.requests[0].messages[0]["content"]
    assert "MBTI ENTP" in system and LANGUAGE_TEXT["simple"] in system
    assert not find_leaks(system, pneumonia_case.diagnosis_names)
    last = server.requests[-1].messages
    assert [m["content"] for m in last if m["role"] == "user"] == [
        "When did it start?", "Any fever?", "Do you smoke?"]
    assert info["leaks_redacted"] == 0 and patient.stats["leak"] == 1 and patient.stats["replies"] == 3
    consultation = env.unwrapped.consultation
    closing = "DIAGNOSE: community-acquired pneumonia\nPLAN: oral amoxicillin, review in 48 hours"
    assert not patient.should_end("Do you smoke?", consultation.patient_messages)
    assert patient.should_end(closing, consultation.patient_messages)
    observation, reward, terminated, truncated, info = env.step(closing)
    assert terminated and len(server.requests) == 4
    env.close()
