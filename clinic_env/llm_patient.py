"""An LLM-played patient: persona-conditioned, fact-checked, and able to tell when the visit is over.

    from clinic_env.llm import LLMClient
    patient = LLMPatient(LLMClient("Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1"),
                         sampling={"temperature": 0.7, "max_tokens": 300})
    env = gym.make("clinic_env/Consultation-v0", patient=patient)

``LLMPatient`` follows ``clinic_env.patient.PatientPolicy`` (``reset`` -> opening statement,
``reply`` -> answer) and adds ``async areply`` (a harness that runs in an event loop awaits
it; ``reply`` runs it to completion on ``clinic_rubrics.sync``'s background loop, so the
Gymnasium env can call it, in a notebook too). Its
model client is anything with ``async complete(messages, **sampling) -> str``
(``clinic_rubrics.chat.ChatClient``, such as the project's ``clinic_env.llm.LLMClient``).

**The prompt** (``llm_patient_system_prompt``) is built from the ``PatientProfile`` (the
patient-side facts: no diagnosis, differential or plan) and the ``Persona`` only: role-play
rules, the facts in the case's lay wording, the pertinent negatives, the rest of the
history, and how the persona speaks (MBTI temperament, education, income, health literacy,
language level, recall, emotional state, anxiety, reluctance, verbosity). The opening
statement is the offline patient's (the case's, plus a seeded worry for an anxious
persona): deterministic, no model call in ``reset``.

**Every reply is checked** before it is returned (``check``; ``acheck`` adds the optional
LLM check):

1. *leak*: the reply names a diagnosis. Names given to ``set_forbidden(names)`` are always
   forbidden (the env calls it after each reset with the case's diagnosis names; they go
   to the check only, never into the model's prompt).
   Without them, any diagnosis-sounding term (``find_diagnosis_terms``: "pneumonia",
   "...itis", "heart attack", "COPD", "... disease") is a leak unless the doctor said it
   first or the patient's own facts contain it ("I've got type 2 diabetes").
2. *contradiction*: the reply denies a fact the profile has ("No, I haven't had any fever"
   when a history fact has the keyword "fever") or affirms a pertinent negative ("my legs
   are swollen" when the case says they are not). Clause-level and keyword-based, like the
   offline patient; keywords the case itself uses both ways are not checked.
3. optionally, *an LLM check*: with ``check_client``, a model is shown the facts, the
   question and the reply and answers ``{"consistent": true}`` or ``{"consistent": false,
   "reason": ...}`` (plain "yes"/"no" is accepted too). An unreadable or failed check lets
   the reply through and is counted in ``stats["llm_check_errors"]``.

A reply that fails is regenerated, the model being told briefly what was wrong, up to
``max_regenerations`` times; if every attempt fails, the patient gives the offline
patient's answer to the question instead (built from the same profile and persona, with
any forbidden name redacted) and counts a fallback. ``stats`` counts replies, model calls,
regenerations, fallbacks and each kind of problem over the patient's life;
``last_problems`` lists the problems found while writing the last reply. The environment
still redacts any sentence naming the true diagnosis, as a last line of defence. Errors
of the model client (network, HTTP) propagate: they are the client's to retry.

**The termination gate** ``should_end(doctor_message, messages)`` (reason:
``end_reason``) is true when the doctor gives a diagnosis (a ``DIAGNOSE:`` command, with or
without ``PLAN:``, or spoken words that state a diagnosis *and* a plan: "I think this is
pneumonia, so I'll start you on antibiotics"), ends the visit (``END:``), or the dialogue
goes nowhere: the last ``stall_turns`` doctor messages are each empty or a repeat of an
earlier doctor message, or the patient's last ``stall_turns`` replies are all the same.
``messages`` is the patient's chat view (doctor = "user"), as the env keeps it. The envs
do not call it (they end on DIAGNOSE/END and truncate at ``max_turns``); a harness can,
before each patient turn::

    consultation = env.unwrapped.consultation
    if patient.should_end(question, consultation.patient_messages):
        observation, reward, terminated, truncated, info = env.step("END: Thank you, goodbye.")

``dialogue_end_reason`` is the same gate as a function, for any patient policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from clinic_env.actions import Ask, Diagnose, End, parse_action
from clinic_env.cases.schema import PatientProfile
from clinic_env.leaks import find_leaks, redact_leaks
from clinic_env.patient import SECTION_NONE, OfflinePatient, section_answers
from clinic_env.persona import Persona
from clinic_rubrics.sync import run_sync
from clinic_rubrics.text import keyword_pattern, normalize

# ---- the system prompt --------------------------------------------------------------------

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


def llm_patient_system_prompt(profile: PatientProfile, persona: Persona) -> str:
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
                 "as you have seen them.")
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


# ---- leak check: diagnosis-sounding terms --------------------------------------------------------

_DIAGNOSIS_WORDS = (
    r"(?:acute |chronic )?(?:myocardial|cerebral|pulmonary) (?:infarction|embolism|embolus)",
    r"heart attacks?", r"infarct\w*", r"mini[- ]?strokes?", r"strokes?", r"cancers?", r"tumou?rs?",
    r"malignan\w*", r"pneumonia", r"\w*sepsis", r"ana?emia", r"pernicious", r"[\w-]+ deficiency",
    r"adrenal (?:insufficiency|failure|crisis)", r"hypoadrenal\w*", r"myxo?edema", r"angle[- ]closure",
    r"confusional state", r"(?:upper |lower )?(?:gi|gastrointestinal) bleed\w*", r"falciparum", r"plasmodium",
    r"epstein[- ]barr", r"tubal pregnancy", r"afib", r"\w*embol\w+", r"diabetes", r"diabetic", r"asthma",
    r"emphysema", r"septic\w*",
    r"migraines?", r"malaria", r"thrombos[ie]s", r"blood clots?", r"clots?", r"aneurysms?",
    r"ha?emorrhages?", r"bleed on the brain", r"angina", r"gout", r"shingles", r"zoster", r"herpes",
    r"glandular fever", r"scarlet fever", r"rheumatic fever", r"influenza", r"flu(?!-like)", r"covid(?:-19)?",
    r"coronavirus", r"(?:stomach|peptic|gastric|duodenal|bleeding) ulcers?", r"gall ?stones?",
    r"kidney stones?", r"gall ?bladder", r"appendix",
    r"(?:chest|kidney|renal|urine|urinary|water|bladder|ear|throat|lung|skin|bowel|stomach|tummy|viral|bacterial|"
    r"blood|bone|brain|tract|yeast|fungal|soft tissue) infections?",
    r"sexually transmitted \w+", r"chlamydia", r"gonorrho?ea", r"syphilis", r"(?:hypo|hyper)thyroid\w*",
    r"(?:over|under)[- ]?active thyroid", r"graves'?", r"addison'?s?", r"hashimoto'?s?", r"cushing'?s?",
    r"coeliac", r"celiac", r"crohn'?s?", r"irritable bowel", r"diverticul\w+",
    r"(?:heart|kidney|renal|liver|respiratory|lung) failure", r"(?:atrial )?fibrillation", r"arrhythmias?",
    r"epilepsy", r"epileptic", r"parkinson'?s?", r"dementia", r"alzheimer'?s?", r"delirium", r"depression",
    r"depressive", r"bipolar", r"schizophreni\w*", r"panic attacks?", r"anxiety attacks?", r"eating disorder",
    r"anorexia", r"bulimia", r"croup", r"whooping cough", r"pertussis", r"measles", r"mumps", r"chicken ?pox",
    r"impetigo", r"eczema", r"lupus", r"ectopic", r"miscarriage", r"pre-?eclampsia", r"eclampsia",
    r"toxaemia", r"torsion", r"twisted (?:testicle|testis|bowel)", r"hernias?", r"intussusception",
    r"telescoping", r"concussion", r"fractures?", r"(?:food|carbon monoxide|blood) poisoning",
    r"carbon monoxide", r"poisoning", r"ketoacidosis", r"hypoglyc\w+", r"hyperglyc\w+", r"hypertension",
    r"hypotension", r"polymyalgia", r"sciatica", r"slipped disc", r"palsy", r"multiple sclerosis",
    r"sickle cell", r"ha?emophilia", r"cataracts?", r"mono", r"dissection", r"pneumothorax", r"aneurysms?",
    r"(?:kidney|renal) injury", r"(?:urinary|urine) retention", r"(?:ureteric|ureteral|kidney|bladder) (?:stones?|calculus)",
    r"scabies", r"angina", r"infarction", r"embolism", r"cancer", r"tumou?r", r"leuka?emia", r"influenza", r"flu",
    r"overdose", r"detachment", r"abruption", r"hyperemesis", r"cauda equina", r"stevens-johnson", r"seroconversion",
    r"lyme", r"malaria", r"tuberculosis", r"sarcoid\w*", r"hyperparathyroid\w*", r"guillain-barr[eé]",
    r"anaphyla\w+", r"positional vertigo", r"abscess", r"quinsy", r"(?:bowel|intestinal) obstruction", r"tonic-clonic",
    r"otitis(?: media| externa)?", r"cholestasis",
    # "-itis", "-osis", "-aemia", "-oma", "-opathy" words, less a few ordinary ones
    r"(?!(?:diagnos|prognos|hypnos|osmos|academ|diplom|arom|oklahom|tacom|homeopath|osteopath|naturopath)"
    r"\w*\b)[a-z]{3,}(?:itis|osis|aemia|emia|oma|opathy)",
    # "Lyme disease", "Addison's disease", "panic disorder" (not "a serious disease")
    r"(?!(?:the|a|an|some|any|this|that|serious|bad|horrible|terrible|awful|nasty|rare|my|your|his|her|their|"
    r"our|what|which|no|of|with|have|has|had|got)\b)[a-z']{3,} (?:disease|syndrome|disorder)",
)
# Abbreviations are matched case-sensitively, so "ms" and "af" in ordinary words are not.
_DIAGNOSIS_ABBREVIATIONS = (
    "NSTEMI", "STEMI", "COPD", "AECOPD", "ADHF", "PTSD", "ADHD", "AACG", "UGIB", "UTI", "DVT", "TIA", "CVA", "IBS",
    "STI", "STD", "HIV", "AIDS", "DKA", "SAH", "GCA", "CHF", "ACS", "MDD", "OCD", "EBV", "RSV", "LTB", "HZ", "PE",
    "MI", "AF", "TB", "MS", "AKI", "AAA", "SJS", "PCOS", "BPPV", "HHS", "AML", "GORD", "GERD", "PID", "MND",
)
_DIAGNOSIS_TERMS = re.compile(
    r"(?<!\w)(?:(?i:" + "|".join(_DIAGNOSIS_WORDS) + r")|"
    + "|".join(sorted(_DIAGNOSIS_ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w])"
)


def find_diagnosis_terms(text: str) -> list[str]:
    """Diagnosis-sounding terms in ``text`` (as written), in order, without repeats."""
    return list(dict.fromkeys(m.group(0) for m in _DIAGNOSIS_TERMS.finditer(str(text))))


# ---- contradiction check -----------------------------------------------------------------------

_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_CLAUSE_BREAK = re.compile(
    r"[,;:()\u2014\u2013\"]|\s-\s|\b(?:but|unless|except|although|though|however|whereas|while|apart from|"
    r"other than|only|and|just|because|so|then)\b")
# A denial just before a keyword: "no fever", "haven't had any fever", "I don't get chills",
# "never had a ...", "neither ... nor chills". At most two words between the cue and the keyword,
# and none that turn it into something else ("can't get rid of the cough", "no more than").
_DENIAL_CUE = re.compile(
    r"(?:\bno|\bnone of|\bneither|\bnor|\bwithout any"
    r"|\bnever(?: really)? (?:had|have|get|got|noticed|felt|been|seen|experienced)"
    r"|(?:n't|\bnot)(?: really| actually| even| ever| yet)? (?:had|have|having|got|get|getting|noticed|noticing|"
    r"felt|feel|feeling|seen|experienced|been|any|a|an))"
    r"(?: (?!(?:rid|over|used|enough|better|worse|more|longer|idea|way|matter|doubt|able|much|chance|time)\b)"
    r"[\w'-]+){0,2} $")
# Affirmations are read conservatively: a clause (split only where the sense turns: "but",
# "rather than" ...) with no negation or "it's normal" word anywhere, and an affirming cue
# before the keyword ("I've got", "there's", "yes", "my legs are swollen").
_CONTRAST_BREAK = re.compile(
    r"[;:()\u2014\u2013\"]|\s-\s|\b(?:but|unless|except|although|though|however|whereas|apart from|other than|"
    r"rather than|instead of)\b")
# Words that make a denial partial ("no shortness of breath at rest", "I don't get breathless
# unless I climb stairs", "I haven't really had a fever"): a sentence with one is not read as a denial.
_QUALIFIER = re.compile(r"\b(?:unless|except|only|apart from|other than|at rest|anymore|any more|now|today|tonight|"
                        r"these days|at the moment|since|until|till|before|yet|really|much|as such|properly)\b")
_NEGATION = re.compile(r"\b(?:no|not|never|none|nothing|nobody|without|nor|neither|fine|normal|ok|okay|alright|"
                       r"all right|clear|hardly|barely|same|usual|steady|gone|stopped|better)\b|n't\b")
_AFFIRMING_CUE = re.compile(
    r"\b(?:yes|yeah|yep|i've|i have|i had|i'd|i get|i got|i keep|i'm|i am|i noticed|i feel|i felt|there's|"
    r"there is|there are|there was|there were|(?:he|she|they)(?:'s|'ve| has| have| had| gets| got| is| was)|"
    r"has been|have been|is|are|was|were|been|some|a bit of|a little|lots of|a lot of)\b")
_HYPOTHETICAL = re.compile(r"\b(?:if|whether|wonder\w*|in case|could it|might it|maybe|perhaps|asked|asking|ask|"
                           r"mentioned|told|said|says|worried about|afraid of|scared of|supposed to)\b")
_RELATIVES = re.compile(r"\b(?:mum|mom|mother|dad|father|brother|sister|wife|husband|partner|son|daughter|grand\w*|"
                        r"family|friend|relative|uncle|aunt|auntie|cousin|nan|nana|granny|colleague|neighbou?r|"
                        r"boss|kids?|children)s?\b")
# Keywords whose denial is itself the symptom ("I've no appetite", "I can't get my breath",
# "I haven't been eating"): never checked for denial.
_NEGATABLE_STEMS = (
    "appetite", "energy", "sleep", "slept", "breath", "air", "strength", "feeling", "sensation", "hunger",
    "hungry", "interest", "motivat", "concentrat", "focus", "control", "eat", "ate", "food", "drink", "weight",
    "period", "menstru", "pee", "wee", "urin", "bowel", "poo", "stool", "motion", "move", "moving", "walk",
    "vision", "sight", "see", "hear", "taste", "smell", "memory", "pulse", "erection", "libido", "sex", "desire",
    "fluid", "wind", "better", "improv", "well", "normal", "pass",
)


def _clauses(text: str, skip_relatives: bool, breaks: re.Pattern[str] = _CLAUSE_BREAK,
             skip: re.Pattern[str] | None = None) -> list[str]:
    """Normalised clauses of the statements in ``text``, split at ``breaks``. Questions are left
    out, and so are sentences matching ``skip`` and clauses about relatives when ``skip_relatives``."""
    out = []
    for sentence in _SENTENCES.findall(normalize(text)):
        if sentence.rstrip().endswith("?") or (skip is not None and skip.search(sentence)):
            continue
        for clause in breaks.split(sentence):
            clause = clause.strip(" .!")
            if clause and not (skip_relatives and _RELATIVES.search(clause)):
                out.append(clause)
    return out


def _denied(clause: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    for match in pattern.finditer(clause):
        if _DENIAL_CUE.search(clause[:match.start()]):
            return match
    return None


def _affirmed(clause: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """``clause`` must come from ``_clauses(..., breaks=_CONTRAST_BREAK)``."""
    if _NEGATION.search(clause) or _HYPOTHETICAL.search(clause):
        return None
    for match in pattern.finditer(clause):
        if _AFFIRMING_CUE.search(clause[:match.start()]):
            return match
    return None


@dataclass(frozen=True)
class _Keyword:
    keyword: str
    pattern: re.Pattern[str]
    lay: str


class FactChecker:
    """Rule-based contradiction check of a reply against a profile (see the module docstring)."""

    def __init__(self, profile: PatientProfile) -> None:
        self.skip_relatives = profile.informant == "patient"
        positives = [(k, f.lay) for f in profile.history for k in f.keywords]
        positives += [(k, i.lay) for i in profile.past_history for k in i.keywords]
        negatives = [(k, n.lay) for n in profile.pertinent_negatives for k in n.keywords]
        positive_texts = [profile.opening_statement, profile.chief_complaint]
        positive_texts += [f.lay for f in profile.history] + [f.text for f in profile.history]
        for items in section_answers(profile).values():
            positive_texts += items
        positive_texts += list(profile.review_of_systems.values())
        all_texts = positive_texts + [n.lay for n in profile.pertinent_negatives]
        for items in (profile.past_history, profile.social_history, profile.family_history, profile.sexual_history,
                      profile.travel_history, profile.obstetric_history):
            all_texts += [i.text for i in items]
        fine_clauses = [c for t in all_texts for c in _clauses(t, False)]
        coarse_clauses = [c for t in all_texts for c in _clauses(t, False, _CONTRAST_BREAK)]
        pos_words = [normalize(k) for k, _ in positives]
        neg_words = [normalize(k) for k, _ in negatives]

        def overlaps(pattern: re.Pattern[str], word: str, others: list[str]) -> bool:
            return any(pattern.search(o) or (keyword_pattern([o]) and keyword_pattern([o]).search(word)) for o in others)

        def checkable(items: list[tuple[str, str]], others: list[str], clauses: list[str],
                      stated: Callable[[str, re.Pattern[str]], Any]) -> list[_Keyword]:
            """The keywords worth checking: not overlapping the other kind, and not already
            ``stated`` that way by the case itself (it says "not sharp", "he's been awake")."""
            kept = []
            for keyword, lay in items:
                pattern = keyword_pattern([keyword])
                if pattern is None or overlaps(pattern, normalize(keyword), others):
                    continue
                if not any(stated(c, pattern) for c in clauses):
                    kept.append(_Keyword(keyword, pattern, lay))
            return kept

        # Denying a positive fact, or affirming a pertinent negative, is a contradiction.
        self.deniable = checkable(positives, neg_words, fine_clauses, _denied)
        self.affirmable = checkable(negatives, pos_words, coarse_clauses, _affirmed)

    def contradictions(self, reply: str) -> list[tuple[str, str]]:
        """(kind, explanation) for each contradiction; kind is "denies_fact" or "affirms_negative"."""
        found: dict[str, tuple[str, str]] = {}
        for clause in _clauses(reply, self.skip_relatives, skip=_QUALIFIER):
            for item in self.deniable:
                match = _denied(clause, item.pattern)
                if match and not match.group(0).startswith(_NEGATABLE_STEMS) and item.lay not in found:
                    found[item.lay] = ("denies_fact", f"you denied \"{item.keyword}\", but it is one of your facts: "
                                                      f"\"{item.lay}\"")
        for clause in _clauses(reply, self.skip_relatives, _CONTRAST_BREAK):
            for item in self.affirmable:
                match = _affirmed(clause, item.pattern)
                if match and item.lay not in found:
                    found[item.lay] = ("affirms_negative", f"you said you have \"{item.keyword}\", but you do not: "
                                                           f"\"{item.lay}\"")
        return list(found.values())


# ---- the termination gate --------------------------------------------------------------------

_DIAGNOSIS_STATEMENT = re.compile(
    r"\b(?:(?:the |your |my |a |working |likely |most likely |final )?diagnosis (?:is|would be|looks like|seems)"
    r"|diagnosis\s*:|my (?:assessment|impression) is|most likely (?:cause |explanation )?(?:is|would be)"
    r"|(?:this|it)(?:'s| is) (?:most )?(?:likely|probably)\b)", re.IGNORECASE)
_STATING = re.compile(
    r"\b(?:you(?:'ve| have| has)(?: got)?|(?:he|she|they)(?:'s| has| have)(?: got)?|this is|it's|it is|"
    r"looks like|sounds like|seems to be|caused by|due to|suffering from)\b", re.IGNORECASE)
_PLAN_STATEMENT = re.compile(
    r"\b(?:(?:the |my |our )?plan (?:is|will be)|plan\s*:"
    r"|(?:we|i)(?:'ll| will| are going to|'re going to| am going to|'m going to|'d like to| would like to| need to|"
    r" want to) (?:start|prescribe|give|admit|refer|arrange|send|book|treat|organi[sz]e|begin|put you|get you|"
    r"keep you|schedule|operate|scan)"
    r"|(?:you(?:'ll| will)? need|you should|you'll have to|you must)\s+(?:to\s+)?(?:take|start|have|go|stay|come|"
    r"see|rest|be admitted|avoid|use)"
    r"|treatment (?:is|will be|with)|(?:i'm|i am|we're|we are) (?:prescribing|referring|admitting|starting|sending)"
    r"|prescri(?:be|bing|ption)|antibiotics?|admit(?:ted|ting)? you|refer(?:ral|ring)? you|follow[- ]up)\b",
    re.IGNORECASE)


def _states_diagnosis_and_plan(text: str) -> bool:
    statements = [s for s in _SENTENCES.findall(text) if not s.rstrip().endswith("?")]
    diagnosis = any(_DIAGNOSIS_STATEMENT.search(s) or (_STATING.search(s) and find_diagnosis_terms(s))
                    for s in statements)
    return diagnosis and any(_PLAN_STATEMENT.search(s) for s in statements)


def _said(message: str) -> str:
    """A doctor message as words, for comparing: the spoken text, lower-cased, letters and digits only."""
    action = parse_action(message)
    text = action.text if isinstance(action, (Ask, End)) else str(message)
    return " ".join(re.findall(r"\w+", text.lower()))


def dialogue_end_reason(doctor_message: str, messages: Sequence[dict] = (), stall_turns: int = 3) -> str | None:
    """Why the visit should end after ``doctor_message``, or None.

    "diagnosis": a DIAGNOSE command; "diagnosis_and_plan": spoken words that state a diagnosis
    and a plan; "ended_by_doctor": an END command; "stalled": the last ``stall_turns`` doctor
    messages are each empty or a repeat of an earlier one, or the patient's last
    ``stall_turns`` replies are identical. ``messages`` is the patient's chat view (doctor =
    "user", patient = "assistant"); ``doctor_message`` may already be its last message.
    """
    message = "" if doctor_message is None else str(doctor_message)
    action = parse_action(message)
    if isinstance(action, Diagnose) and action.differential:
        return "diagnosis"
    if isinstance(action, End):
        return "ended_by_doctor"
    if isinstance(action, Ask) and _states_diagnosis_and_plan(action.text):
        return "diagnosis_and_plan"
    history = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    doctor = [str(m.get("content") or "") for m in history if m["role"] == "user"]
    if not (history and history[-1]["role"] == "user" and str(history[-1].get("content") or "") == message):
        doctor.append(message)
    said = [_said(m) for m in doctor]
    if len(said) > stall_turns - 1 >= 0:
        window = range(len(said) - stall_turns, len(said))
        if all(not said[i] or said[i] in said[:i] for i in window):
            return "stalled"
    patient = [_said(str(m.get("content") or "")) for m in history if m["role"] == "assistant"]
    if stall_turns > 1 and len(patient) >= stall_turns and len(set(patient[-stall_turns:])) == 1:
        return "stalled"
    return None


# ---- the patient ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Why a candidate reply was rejected: kind ("leak", "denies_fact", "affirms_negative",
    "empty", "llm_check") and a short explanation, which the model is shown."""

    kind: str
    detail: str


_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.IGNORECASE | re.DOTALL)
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:patient|parent|partner|carer|me|answer)(?:\*\*)?\s*:\s*(?:\*\*)?", re.IGNORECASE)

CHECK_SYSTEM_PROMPT = (
    "You verify a simulated patient's reply in a medical consultation against the patient's facts. "
    "The reply must not contradict the facts, must not claim symptoms or history that are not in the facts "
    "(saying that something unlisted has not been noticed is fine), and must not name or guess a diagnosis. "
    "Answer with JSON only: {\"consistent\": true} or {\"consistent\": false, \"reason\": \"<one short sentence>\"}."
)

_STAT_KEYS = ("replies", "model_calls", "regenerations", "fallbacks", "leak", "denies_fact", "affirms_negative",
              "empty", "llm_check", "llm_check_calls", "llm_check_errors")


def _clean(text: Any) -> str:
    text = _THINK.sub("", "" if text is None else str(text)).strip()
    text = _LABEL.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _parse_verdict(text: str) -> tuple[bool | None, str]:
    """(consistent, reason) from a checker's answer; consistent is None when unreadable."""
    text = re.sub(r"```(?:json)?", "", str(text)).strip()
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match:
        try:
            data = json.loads(match.group(0))
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("consistent", "ok", "pass", "valid", "answer"):
                value = data.get(key)
                if isinstance(value, bool):
                    return value, str(data.get("reason") or "")
                if isinstance(value, str) and value.strip().lower() in ("yes", "no", "true", "false"):
                    return value.strip().lower() in ("yes", "true"), str(data.get("reason") or "")
    word = re.match(r"\W*(yes|no)\b", text, re.IGNORECASE)
    if word:
        return word.group(1).lower() == "yes", text[word.end():].strip(" .:-")
    return None, ""


class LLMPatient:
    """A patient played by a chat model, checked against the patient-side facts (module docstring).

    Args:
        client: any ``ChatClient`` (``async complete(messages, **sampling) -> str``).
        max_regenerations: extra attempts after a reply fails a check (0: fall back at once).
        check_client: optional ``ChatClient`` for the LLM consistency check (None: rules only).
        sampling: request options for every patient call (e.g. ``{"temperature": 0.7}``).
        stall_turns: how many unproductive doctor turns (or identical patient replies) make
            ``should_end`` report a stalled dialogue.
    """

    def __init__(self, client: Any, *, max_regenerations: int = 2, check_client: Any = None,
                 sampling: dict[str, Any] | None = None, stall_turns: int = 3) -> None:
        if not callable(getattr(client, "complete", None)):
            raise TypeError("LLMPatient needs a chat client with an async complete(messages, **sampling) method, "
                            f"got {type(client).__name__}")
        if check_client is not None and not callable(getattr(check_client, "complete", None)):
            raise TypeError(f"check_client must have an async complete() method, got {type(check_client).__name__}")
        if not isinstance(max_regenerations, int) or max_regenerations < 0:
            raise ValueError(f"max_regenerations must be an integer >= 0, got {max_regenerations!r}")
        if not isinstance(stall_turns, int) or stall_turns < 1:
            raise ValueError(f"stall_turns must be a positive integer, got {stall_turns!r}")
        self.client = client
        self.check_client = check_client
        self.max_regenerations = max_regenerations
        self.sampling = dict(sampling or {})
        self.stall_turns = stall_turns
        self.stats: dict[str, int] = {key: 0 for key in _STAT_KEYS}
        self.last_problems: list[Problem] = []
        self._profile: PatientProfile | None = None
        self._persona = Persona()
        self._system_prompt = ""
        self._offline = OfflinePatient()
        self._checker: FactChecker | None = None
        self._profile_text = ""
        self._forbidden: tuple[str, ...] = ()
        self._transcript: list[dict[str, str]] = []

    # ---- the visit ----------------------------------------------------------------------

    def reset(self, profile: PatientProfile, persona: Persona, seed: int | None = None) -> str:
        """Start a visit; returns the opening statement (the offline patient's: no model call).
        Clears the forbidden names of the previous visit."""
        if not isinstance(profile, PatientProfile):
            raise TypeError(f"LLMPatient.reset() needs a PatientProfile, got {type(profile).__name__}")
        persona = Persona.from_spec(persona)
        self._profile, self._persona = profile, persona
        self._system_prompt = llm_patient_system_prompt(profile, persona)
        self._checker = FactChecker(profile)
        texts = [profile.opening_statement, profile.chief_complaint]
        texts += [t for f in profile.history for t in (f.text, f.lay)]
        texts += [t for n in profile.pertinent_negatives for t in (n.symptom, n.lay)]
        for items in (profile.past_history, profile.social_history, profile.family_history, profile.sexual_history,
                      profile.travel_history, profile.obstetric_history):
            texts += [t for i in items for t in (i.text, i.lay)]
        texts += [t for m in profile.medications for t in (m.name, m.dose, m.lay)]
        texts += [t for a in profile.allergies for t in (a.substance, a.reaction, a.lay)]
        texts += list(profile.review_of_systems.values())
        self._profile_text = "\n".join(texts)
        self._forbidden = ()
        self.last_problems = []
        opening = self._offline.reset(profile, persona, seed)
        self._transcript = [{"role": "assistant", "content": opening}]
        return opening

    @property
    def profile(self) -> PatientProfile:
        if self._profile is None:
            raise RuntimeError("LLMPatient.reply() called before reset()")
        return self._profile

    @property
    def persona(self) -> Persona:
        return self._persona

    @property
    def system_prompt(self) -> str:
        """This visit's system prompt (empty before ``reset``)."""
        return self._system_prompt

    def set_forbidden(self, names: Iterable[str]) -> None:
        """Names the patient must never say this visit (e.g. the case's diagnosis names), checked
        even when the doctor said them first. ``reset`` clears them."""
        if isinstance(names, str):
            names = [names]
        self._forbidden = tuple(n for n in (str(x).strip() for x in names) if n)

    # ---- replying -----------------------------------------------------------------------

    def reply(self, doctor_message: str, messages: Sequence[dict] = ()) -> str:
        """``areply`` for synchronous callers such as the Gymnasium env (``clinic_rubrics.sync``: works in a
        notebook too); async code awaits ``areply``."""
        return run_sync(self.areply(doctor_message, messages), "use `await patient.areply(doctor_message, messages)`")

    async def areply(self, doctor_message: str, messages: Sequence[dict] = ()) -> str:
        """Answer the doctor: ask the model, check the answer, regenerate or fall back.

        ``messages`` is the patient's chat view (its system prompt is replaced by this
        patient's own); when it holds no dialogue, the patient's own transcript is used.
        """
        self.profile  # noqa: B018 - raises before reset
        question = "" if doctor_message is None else str(doctor_message).strip()
        self.last_problems = []
        if not question:
            return self._record(question, self._offline.reply(question))
        conversation = self._conversation(question, messages)
        attempt = conversation
        for round_ in range(self.max_regenerations + 1):
            if round_:
                self.stats["regenerations"] += 1
            self.stats["model_calls"] += 1
            text = _clean(await self.client.complete(attempt, **self.sampling))
            problems = await self.acheck(text, question, messages)
            if not problems:
                return self._record(question, text)
            self.last_problems += problems
            for problem in problems:
                self.stats[problem.kind] = self.stats.get(problem.kind, 0) + 1
            attempt = conversation + [
                {"role": "assistant", "content": text or "(no answer)"},
                {"role": "user", "content": self._correction(problems)},
            ]
        self.stats["fallbacks"] += 1
        fallback, _ = redact_leaks(self._offline.reply(question), self._forbidden)
        return self._record(question, fallback)

    def _record(self, question: str, text: str) -> str:
        self.stats["replies"] += 1
        self._transcript += [{"role": "user", "content": question}, {"role": "assistant", "content": text}]
        return text

    def _conversation(self, question: str, messages: Sequence[dict]) -> list[dict[str, str]]:
        dialogue = [{"role": m["role"], "content": str(m.get("content") or "")} for m in messages
                    if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
        if not dialogue:
            dialogue = list(self._transcript)
        if not (dialogue and dialogue[-1]["role"] == "user" and dialogue[-1]["content"].strip() == question):
            dialogue.append({"role": "user", "content": question})
        return [{"role": "system", "content": self._system_prompt}, *dialogue]

    @staticmethod
    def _correction(problems: list[Problem]) -> str:
        reasons = "; ".join(p.detail for p in problems)
        return ("[Role-play supervisor, not the doctor: your last answer was rejected because " + reasons
                + ". Answer the doctor's last message again, in character, consistent with your facts, "
                  "without naming or guessing any diagnosis. Reply with the patient's words only and do not "
                  "mention this note.]")

    # ---- checks -------------------------------------------------------------------------

    def check(self, reply: str, doctor_message: str = "", messages: Sequence[dict] = ()) -> list[Problem]:
        """The rule-based checks of a candidate reply: empty, leak, contradiction."""
        if self._checker is None:
            raise RuntimeError("LLMPatient.check() called before reset()")
        if not str(reply).strip():
            return [Problem("empty", "your answer was empty")]
        problems = []
        doctor_text = "\n".join([str(m.get("content") or "") for m in messages
                                 if isinstance(m, dict) and m.get("role") == "user"] + [str(doctor_message)])
        explicit = list(dict.fromkeys(find_leaks(reply, self._forbidden)))
        for name in explicit:
            problems.append(Problem("leak", f"you named a diagnosis (\"{name}\"); the patient does not know it"))
        said = {n.lower() for n in explicit}
        for term in find_diagnosis_terms(reply):
            if term.lower() in said or any(term.lower() in n.lower() for n in explicit):
                continue
            if find_leaks(self._profile_text, [term]) or find_leaks(doctor_text, [term]):
                continue
            problems.append(Problem("leak", f"you named or guessed a medical condition (\"{term}\") that is "
                                            "not in your history and that the doctor has not mentioned"))
        problems += [Problem(kind, detail) for kind, detail in self._checker.contradictions(reply)]
        return problems

    async def acheck(self, reply: str, doctor_message: str = "", messages: Sequence[dict] = ()) -> list[Problem]:
        """``check``, then (if it passes and there is a ``check_client``) the LLM check."""
        problems = self.check(reply, doctor_message, messages)
        if problems or self.check_client is None:
            return problems
        self.stats["llm_check_calls"] += 1
        request = [
            {"role": "system", "content": CHECK_SYSTEM_PROMPT},
            {"role": "user", "content": f"Patient's facts:\n{facts_block(self.profile, self._persona)}\n\n"
                                        f"Doctor: {doctor_message}\nPatient's reply: {reply}\n\n"
                                        "Is the reply consistent with the facts?"},
        ]
        try:
            verdict, reason = _parse_verdict(await self.check_client.complete(request))
        except Exception:  # a broken checker must not block the patient
            verdict, reason = None, ""
        if verdict is None:
            self.stats["llm_check_errors"] += 1
            return []
        if verdict:
            return []
        return [Problem("llm_check", "a checker found it inconsistent with your facts"
                        + (f" ({reason.strip()})" if reason.strip() else ""))]

    # ---- the termination gate -----------------------------------------------------------

    def end_reason(self, doctor_message: str, messages: Sequence[dict] = ()) -> str | None:
        """Why the visit should end now, or None (see ``dialogue_end_reason``)."""
        return dialogue_end_reason(doctor_message, messages, self.stall_turns)

    def should_end(self, doctor_message: str, messages: Sequence[dict] = ()) -> bool:
        """True when the doctor has given the diagnosis (and plan), ended the visit, or the dialogue stalls."""
        return self.end_reason(doctor_message, messages) is not None


def llm_patient(model: str) -> LLMPatient:
    """The patient of ``--patient llm:MODEL``: endpoint from ``OPENAI_BASE_URL`` (or OpenAI)."""
    import os

    from clinic_env.llm import LLMClient

    return LLMPatient(LLMClient(model, base_url=os.environ.get("OPENAI_BASE_URL") or None))
