"""The patient's system prompt: ONE builder for every patient.

The environment puts ``patient_system_prompt(profile, persona)`` in the patient's
``info["messages"]``, and the LLM patient sends exactly that prompt to its model, so what a
user reads in the patient's chat view is what the model was told. It is built from the
``PatientProfile`` (the patient-side facts: no diagnosis, differential or plan) and the
``Persona`` only: role-play rules, the facts in the case's lay wording, the pertinent
negatives, the rest of the history, and how the persona speaks (MBTI temperament,
education, income, health literacy, language level, recall, emotional state, anxiety,
reluctance, verbosity).
"""

from __future__ import annotations

from clinic_env.cases.schema import PatientProfile
from clinic_env.persona import Persona

MBTI_TEMPERAMENTS: dict[str, str] = {
    "ISTJ": "reserved, matter-of-fact and precise; you stick to facts and dislike speculation",
    "ISFJ": "quiet, polite and considerate; you play down your own complaints and worry about being a bother",
    "INFJ": "quiet and reflective; you think about how this affects your life and the people around you",
    "INTJ": "reserved, analytical and a little sceptical; you want to understand the reasoning behind questions",
    "ISTP": "laconic and practical; you give short answers and describe what physically happened",
    "ISFP": "gentle, private and sensitive; you open up once you feel at ease",
    "INFP": "introspective and idealistic; you talk about how things feel and can be hesitant",
    "INTP": "detached and curious; you are precise, may question things, and make little small talk",
    "ESTP": "direct, energetic and impatient; you want a quick fix and tend to shrug things off",
    "ESFP": "chatty, warm and expressive; you tell little stories and drift off topic",
    "ENFP": "enthusiastic and talkative; you jump between topics and show your feelings openly",
    "ENTP": "quick-witted and argumentative; you challenge the doctor and often ask why",
    "ESTJ": "organised, blunt and decisive; you give orderly answers and expect efficiency",
    "ESFJ": "friendly and eager to please; you mention family and others and look for reassurance",
    "ENFJ": "warm and articulate; you are concerned about how this affects others",
    "ENTJ": "assertive and confident; you want a clear plan and may try to steer the conversation",
}

EDUCATION_TEXT = {
    "none": "You had no formal schooling.",
    "primary": "You left school after primary school.",
    "secondary": "You finished secondary school.",
    "vocational": "You trained in a trade after school.",
    "university": "You have a university degree.",
    "postgraduate": "You have a postgraduate degree.",
}
INCOME_TEXT = {
    "low": "Money is tight: you may worry about the cost of medicines, tests or time off work.",
    "middle": "You are reasonably comfortable financially.",
    "high": "You are well off and used to getting things sorted quickly.",
}
LITERACY_TEXT = {
    "low": "Health literacy low: you know almost no medical words. If the doctor uses a medical term "
           "you don't know, ask what it means instead of answering. Describe everything in plain words.",
    "medium": "Health literacy medium: you know common health words but not technical terms; describe "
              "your symptoms in everyday words.",
    "high": "Health literacy high: you understand medical terms and may describe your symptoms "
            "precisely, as a clinician would, but still only the facts below.",
}
LANGUAGE_TEXT = {
    "simple": "Language level simple: speak in short, simple sentences with basic words; your grammar "
              "may be imperfect and you may struggle to find words.",
    "everyday": "Language level everyday: speak in ordinary, everyday language.",
    "fluent": "Language level fluent: you are articulate and speak fluently, with a wide vocabulary "
              "(but no medical jargon beyond your health literacy).",
}
RECALL_TEXT = {
    "low": "Recall low: your memory for details is poor. Be vague about exact times, dates, doses and "
           "medicine names at first (\"a few days\", \"some white tablets\") and give the detail only "
           "if the doctor presses.",
    "medium": "Recall medium: you remember the main things but can be unsure about exact times or doses.",
    "high": "Recall high: you remember details clearly, including times, doses and names.",
}
EMOTION_TEXT = {
    "calm": "Emotional state calm: you are calm and composed.",
    "worried": "Emotional state worried: you are worried, and it shows in how you speak.",
    "frightened": "Emotional state frightened: you are scared and may ask whether you will be all right.",
    "frustrated": "Emotional state frustrated: you are fed up with being unwell (or with waiting) and "
                  "may sound short or impatient.",
    "irritable": "Emotional state irritable: you are a bit snappy, though you still cooperate.",
    "tearful": "Emotional state tearful: you are upset and close to tears, and may apologise for it.",
    "embarrassed": "Emotional state embarrassed: some of this embarrasses you and you hesitate before "
                   "answering personal questions.",
    "flat": "Emotional state flat: you speak flatly, with little energy or expression.",
}
ANXIETY_TEXT = {
    "low": "Anxiety low: you are fairly relaxed about all this.",
    "medium": "Anxiety medium: you are somewhat concerned about what this might be.",
    "high": "Anxiety high: you are very anxious; now and then you ask whether it is serious or say you "
            "are scared, but you still answer the question.",
}
RELUCTANCE_TEXT = {
    "low": "Reluctance low: you answer personal questions (smoking, alcohol, drugs, sex, home life) openly.",
    "medium": "Reluctance medium: you are a little private about personal topics and may give a brief "
              "answer first.",
    "high": "Reluctance high: you are guarded about sensitive topics (smoking, alcohol, drugs, sex, home "
            "life). The first time you are asked, deflect (\"Do I have to answer that?\"); answer honestly "
            "once the doctor reassures you it is confidential or asks again.",
}
VERBOSITY_TEXT = {
    "low": "Verbosity low: keep every answer very short, one short sentence or a few words.",
    "medium": "Verbosity medium: answer in one to three sentences.",
    "high": "Verbosity high: you are talkative; answer in two to four sentences and sometimes add a small "
            "personal detail or one more thing you have noticed (only from the facts below).",
}

SECTION_TITLES = {
    "past_history": "Past medical history", "medications": "Medicines", "allergies": "Allergies",
    "social": "Social history", "family": "Family history", "sexual": "Sexual history",
    "travel": "Travel", "obstetric": "Pregnancies and periods",
}

# What a patient says about a section of the history the case has nothing on.
SECTION_NONE = {
    "past_history": "No, I've always been pretty healthy.",
    "medications": "I don't take any regular medicines.",
    "allergies": "No allergies that I know of.",
    "social": "Nothing much to say there really.",
    "family": "Not that I know of, no.",
    "sexual": "Nothing I'm worried about there.",
    "travel": "No, I haven't been anywhere.",
    "obstetric": "No, nothing to mention there.",
}


def section_answers(profile: PatientProfile) -> dict[str, list[str]]:
    """The lay answers for each history section, in the order the section is asked about."""
    return {
        "past_history": [i.lay for i in profile.past_history],
        "medications": [m.lay for m in profile.medications],
        "allergies": [a.lay for a in profile.allergies],
        "social": [i.lay for i in profile.social_history],
        "family": [i.lay for i in profile.family_history],
        "sexual": [i.lay for i in profile.sexual_history],
        "travel": [i.lay for i in profile.travel_history],
        "obstetric": [i.lay for i in profile.obstetric_history],
    }


def _who(profile: PatientProfile) -> str:
    d = profile.demographics
    age = f"{d.age_years:g}-year-old" if d.age_years >= 2 else f"{max(1, round(d.age_years * 12))}-month-old"
    who = f"a {age} {d.sex}" + (f", working as {d.occupation}" if d.occupation else "")
    if d.pregnant:
        who += ", pregnant" + (f" ({d.gestation_weeks} weeks)" if d.gestation_weeks else "")
    return who


def persona_instructions(persona: Persona) -> list[str]:
    """How the persona shapes speech, one instruction a line (every trait is named)."""
    return [
        f"Personality (MBTI {persona.mbti}): you are {MBTI_TEMPERAMENTS[persona.mbti]}.",
        f"Education {persona.education}: {EDUCATION_TEXT[persona.education]}",
        f"Income {persona.income}: {INCOME_TEXT[persona.income]}",
        LITERACY_TEXT[persona.health_literacy],
        LANGUAGE_TEXT[persona.language_level],
        RECALL_TEXT[persona.recall],
        EMOTION_TEXT[persona.emotional_state],
        ANXIETY_TEXT[persona.anxiety],
        RELUCTANCE_TEXT[persona.reluctance],
        VERBOSITY_TEXT[persona.verbosity],
    ]


def facts_block(profile: PatientProfile, persona: Persona) -> str:
    """The patient-side facts, in lay wording (clinical wording too for a high-literacy persona)."""
    clinical = persona.health_literacy == "high"
    lines = [f"Why you came (your first words): {profile.opening_statement}",
             "What you have noticed (all true; say it in your own words, only when asked):"]
    for fact in profile.history:
        extra = f" [a clinician would say: {fact.text}]" if clinical else ""
        lines.append(f"- ({fact.topic.replace('_', ' ')}) {fact.lay}{extra}")
    if profile.pertinent_negatives:
        lines.append("What you have NOT had (deny these if asked):")
        lines += [f"- (no {neg.symptom}) {neg.lay}" for neg in profile.pertinent_negatives]
    lines.append("The rest of your history:")
    for section, items in section_answers(profile).items():
        title = SECTION_TITLES[section]
        lines += [f"- ({title}) {text}" for text in items] or [f"- ({title}) {SECTION_NONE[section]}"]
    if profile.review_of_systems:
        lines.append("If asked about other parts of the body:")
        lines += [f"- ({system}) {answer}" for system, answer in profile.review_of_systems.items()]
    lines.append("Anything not listed here: you have not noticed it, or you do not know.")
    return "\n".join(lines)


def patient_system_prompt(profile: PatientProfile, persona: Persona) -> str:
    """The LLM patient's system prompt: role-play rules, persona and the patient-side facts only."""
    if profile.informant == "patient":
        speaker = "the patient"
        role = f"You are role-playing a patient in a consultation with a doctor. You are {_who(profile)}."
        voice = "Speak in the first person, as the patient."
    else:
        speaker = f"the patient's {profile.informant}"
        role = (f"You are role-playing {speaker} in a consultation with a doctor. The patient is "
                f"{_who(profile)}; you answer for them.")
        voice = (f"Speak as the {profile.informant}: about yourself as \"I\" and about the patient in the "
                 "third person. The facts below are written as the patient's experience; pass them on "
                 "as you have seen them. You cannot feel what the patient feels: asked about a sensation "
                 "the facts do not record (what a pain is like, dizziness, numbness, what they see), say "
                 "they haven't said and you don't know; never guess.")
    lines = [
        role,
        "",
        "Rules:",
        f"- Stay in character as {speaker} throughout. You are not an AI assistant and not a doctor.",
        f"- {voice}",
        "- Answer only what the doctor asks, from the facts below. Do not volunteer the whole story at once.",
        "- You do not know the diagnosis. Never name, suggest or guess a diagnosis or a medical condition "
        "for this problem, even if the doctor asks what you think it is: say you don't know, that is "
        "why you came.",
        "- Never deny anything under \"What you have noticed\", and never claim anything under "
        "\"What you have NOT had\".",
        "- If the doctor asks about something that is not in the facts, you have not noticed it or you do "
        "not know. Never invent symptoms, history, medicines or test results.",
        "- Use no medical jargon beyond your health literacy and language level.",
        "- Reply with your spoken words only: no narration, no stage directions, no labels such as "
        "\"Patient:\", no lists or markdown.",
        "- If the doctor explains what is wrong and what happens next, react naturally (a question, "
        "relief, thanks), in character.",
        "",
        "Who you are (persona):",
        *(f"- {line}" for line in persona_instructions(persona)),
        "",
        "The facts:",
        facts_block(profile, persona),
    ]
    return "\n".join(lines)
