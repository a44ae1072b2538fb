"""The offline rule-based patient: answers from the case's facts, no model needed.

It reads a doctor's question for history-taking topics, named symptoms and sections
of the history, and answers from the ``PatientProfile`` only, in the lay wording of the case, shaped by a ``Persona``. It
discloses only what is asked, and denies symptoms the case does not mention
(consistently: the same question gets the same answer). It cannot know the diagnosis;
it could only echo a name the doctor used, and it drops any sentence naming one of the
``forbidden_names`` given to ``reset`` (as the environment does for every patient).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from clinic_env.cases.schema import Item, PatientProfile, PertinentNegative
from clinic_env.history_topics import (
    DIAGNOSIS_QUESTION_PATTERN,
    ROS_PATTERNS,
    SECTION_PATTERNS,
    SENSITIVE_SECTIONS,
    TOPIC_PATTERNS,
)
from clinic_env.leaks import redact_leaks
from clinic_env.patient.prompt import SECTION_NONE
from clinic_env.patient.protocol import forbidden_tuple
from clinic_env.persona import Persona
from clinic_rubrics.regex_literals import Needles, needles
from clinic_rubrics.text import keyword_pattern, normalize

# What a patient says when asked about a topic the case has nothing on.
TOPIC_NONE = {
    "onset": "I can't remember exactly when it started.",
    "location": "It's hard to pin it down to one place.",
    "character": "It's hard to describe, really.",
    "severity": "It's bad enough that I came in.",
    "timing": "It's there most of the time.",
    "course": "About the same, I'd say.",
    "radiation": "No, it stays in the one place.",
    "aggravating": "Nothing in particular makes it worse.",
    "relieving": "Nothing really seems to help.",
    "previous_episodes": "No, this is the first time I've had anything like this.",
    "treatment_tried": "I haven't taken anything for it yet.",
    "context": "Nothing unusual, it just came on.",
    "associated": "No, nothing else really.",
    "concerns": "I just want to know what's going on.",
    "impact": "I'm managing, but it's getting me down.",
}

# When a case has nothing on one topic, the answer to a close one serves ("how long?" -> when it started).
TOPIC_STAND_INS = {"duration": "onset", "onset": "duration", "timing": "course"}

# Words a patient with low health literacy does not understand, and what they ask back.
JARGON = re.compile(
    r"\b(dyspno?ea|orthopno?ea|haemoptysis|hemoptysis|radiat\w*|pleuritic|paroxysmal|nocturnal|"
    r"syncope|presyncope|dysuria|haematuria|hematuria|melaena|melena|haematemesis|hematemesis|"
    r"photophobia|diaphoresis|exertional|analgesi\w*|prodrom\w*|pruritus|paraesthesia|paresthesia|"
    r"claudication|myalgia|arthralgia|rhinorrho?ea|odynophagia|dysphagia|tenesmus|polyuria|polydipsia|"
    r"menorrhagia|dyspareunia|anhedonia|aura)\b",
    re.IGNORECASE,
)

# Common symptoms a doctor may name; the patient denies any the case does not have.
SYMPTOMS = re.compile(
    r"\b(fevers?|temperatures?|cough\w*|rash\w*|vomit\w*|sick|nause\w*|diarrho?e?a|constipat\w*|headaches?|"
    r"dizz\w*|faint\w*|chest pain|palpitations?|breathless\w*|short(ness)? of breath|wheez\w*|bleeding|"
    r"blood|weight loss|lost weight|night sweats|swelling|swollen|numb\w*|tingling|weakness|"
    r"vision|seizures?|fits?|itch\w*|pain|sore throat|runny nose|stiff neck|confus\w*|tired\w*|"
    r"burning|discharge|lumps?|sweat\w*|chills|shiver\w*|cramp\w*|stiff\w*|bruis\w*|jaundice|yellow\w*|"
    r"thirst\w*|hoarse\w*|cold sores?|ulcers?|hair loss|joint pain|back pain|earache|toothache)\b",
    re.IGNORECASE,
)

# Symptom words too broad to confirm or deny on their own ("pain" where? "blood" in what?).
VAGUE_SYMPTOMS = frozenset({"pain", "blood", "bleeding", "swelling", "swollen", "weakness", "burning", "discharge",
                            "lump", "lumps", "sick", "tired", "tiredness"})

REASSURANCE = re.compile(r"\b(confidential|private|privacy|no judge?ment|won't judge|safe to|routine|ask everyone|important (for|to))\b", re.IGNORECASE)
# An opening: a greeting, or an invitation to tell the presenting complaint, anywhere in the turn
# ("Morning, I'm one of the doctors. What's brought you in today?").
GREETING = re.compile(
    r"^\W*(hi|hiya|hello|hey|morning|afternoon|evening|good (morning|afternoon|evening)|how are you)\b"
    r"|\b(what('s| has| have)? brought you|what brings you|how can (i|we) help|what can (i|we) do for you|"
    r"what seems to be the (problem|trouble|matter)|what's (been )?(going on|happening|the (matter|problem|trouble))|"
    r"what (has )?happened|tell me what('s| has) been (going on|happening))\b", re.IGNORECASE)
# Asking to hear the last answer again ("Sorry, I didn't catch that", "did you say Saturday or Sunday?").
CLARIFY = re.compile(r"\b(say (that|it) again|repeat that|didn'?t (quite )?catch|pardon|come again|did you say|"
                     r"sorry, (what|when|how|where|was that))\b", re.IGNORECASE)

# Worries carry no symptom, so a doctor reading them learns the patient's state, not a finding.
WORRIES = (
    "Is it something serious, doctor?",
    "I've been really worried about this.",
    "My mind keeps going to the worst.",
    "Should I be scared?",
)
CHATTER = (
    "My partner made me come in, to be honest.",
    "I looked it up online but that only made it worse.",
    "It's been a rough week all round.",
)


@dataclass(frozen=True)
class _Prefiltered:
    """A pattern searched for in ``normalize``d (lower-case) questions, with the words one of which
    every match contains (``clinic_rubrics.regex_literals``): an ASCII question holding none of
    them is ruled out without a regex scan, several times faster for the dozens of patterns a
    reply checks."""

    pattern: re.Pattern[str]
    needles: Needles

    def search(self, question: str) -> re.Match[str] | None:
        if self.needles is not None and question.isascii() and not any(map(question.__contains__, self.needles)):
            return None
        return self.pattern.search(question)


def _prefiltered(patterns: dict[str, re.Pattern[str]]) -> dict[str, _Prefiltered]:
    return {name: _Prefiltered(pattern, needles(pattern)) for name, pattern in patterns.items()}


_TOPICS, _SECTIONS, _SYSTEMS = _prefiltered(TOPIC_PATTERNS), _prefiltered(SECTION_PATTERNS), _prefiltered(ROS_PATTERNS)


@lru_cache(maxsize=1024)
def _asked_about(question: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The history topics and the sections a question asks about: found once per question text
    (doctors ask the same questions of every patient)."""
    return (tuple(topic for topic, pattern in _TOPICS.items() if pattern.search(question)),
            tuple(section for section, pattern in _SECTIONS.items() if pattern.search(question)))


@lru_cache(maxsize=4096)
def _keyword_pattern(keywords: tuple[str, ...]) -> _Prefiltered | None:
    """``keyword_pattern(keywords)``, prefiltered (None when there are no keywords)."""
    pattern = keyword_pattern(keywords)
    return None if pattern is None else _Prefiltered(pattern, needles(pattern))


@dataclass
class _Fact:
    """A disclosable fact: its lay and clinical wording, where it belongs, and its keyword pattern."""

    lay: str
    clinical: str
    pattern: _Prefiltered | None
    topic: str | None = None
    section: str | None = None


def _facts(profile: PatientProfile) -> list[_Fact]:
    """Every disclosable fact of a profile, history of the presenting complaint first."""
    facts = [_Fact(f.lay, f.text, _keyword_pattern(tuple(f.keywords)), topic=f.topic) for f in profile.history]
    sections: dict[str, list[Item]] = {
        "past_history": profile.past_history, "social": profile.social_history,
        "family": profile.family_history, "sexual": profile.sexual_history,
        "travel": profile.travel_history, "obstetric": profile.obstetric_history,
    }
    for section, items in sections.items():
        facts += [_Fact(i.lay, i.text, _keyword_pattern(tuple(i.keywords)), section=section) for i in items]
    facts += [_Fact(m.lay, f"{m.name} {m.dose}".strip(), _keyword_pattern((m.name,)), section="medications")
              for m in profile.medications]
    facts += [_Fact(a.lay, f"{a.substance} ({a.reaction})", _keyword_pattern((a.substance,)), section="allergies")
              for a in profile.allergies]
    return facts


@dataclass
class OfflinePatient:
    """A deterministic, rule-based patient that answers from the patient-side facts only.

    ``max_facts_per_reply`` overrides the persona's verbosity (1, 2 or 3 facts a reply).
    """

    max_facts_per_reply: int | None = None
    _profile: PatientProfile | None = field(default=None, init=False, repr=False)
    _persona: Persona = field(default_factory=Persona, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False, repr=False)
    _facts: list[_Fact] = field(default_factory=list, init=False, repr=False)
    _negatives: list[tuple[PertinentNegative, _Prefiltered | None]] = field(default_factory=list, init=False, repr=False)
    _said: set[int] = field(default_factory=set, init=False, repr=False)
    _asked: set[str] = field(default_factory=set, init=False, repr=False)
    _forbidden: tuple[str, ...] = field(default=(), init=False, repr=False)

    def reset(self, profile: PatientProfile, persona: Persona, seed: int | None = None, *,
              forbidden_names: Sequence[str] = ()) -> str:
        self._profile, self._persona, self._rng = profile, persona, random.Random(seed)
        self._forbidden = forbidden_tuple(forbidden_names)
        self._facts = _facts(profile)
        self._negatives = [(n, _keyword_pattern(tuple(n.keywords))) for n in profile.pertinent_negatives]
        self._said, self._asked = set(), set()
        opening = profile.opening_statement
        if persona.anxiety == "high":
            opening += " " + self._rng.choice(WORRIES)
        return opening

    @property
    def profile(self) -> PatientProfile:
        if self._profile is None:
            raise RuntimeError("OfflinePatient.reply() called before reset()")
        return self._profile

    # ---- replying -------------------------------------------------------------------

    def reply(self, doctor_message: str, messages: Sequence[dict] = ()) -> str:
        """Answer from the facts. Facts are fixed, so a repeated question gets the same facts,
        except where repetition is the point: "anything else?" moves on to unsaid symptoms,
        and a reluctant patient opens up when asked again."""
        question = normalize(doctor_message)  # the form keywords and cues are matched in
        if not question:
            return "Sorry, doctor, did you want to ask me something?"
        said = [m["content"] for m in messages if m.get("role") == "assistant"]
        if CLARIFY.search(question) and len(said) > 1:  # the first is the opening statement
            return said[-1]
        return redact_leaks(self._answer(question), self._forbidden)[0]

    def _answer(self, question: str) -> str:
        persona = self._persona
        if persona.health_literacy == "low":
            jargon = JARGON.search(question)
            if jargon:
                return f"Sorry, doctor, what does '{jargon.group(0)}' mean?"
        parts = (self._by_section(question) + self._by_topic(question) + self._specific(question)) or self._by_ros(question)
        if not parts:
            parts = [self._fallback(question)]
        limit = self.max_facts_per_reply or {"low": 1, "medium": 2, "high": 3}[persona.verbosity]
        said = [self._say(p) if isinstance(p, _Fact) else p for p in _unique(parts)[:limit]]
        if persona.verbosity == "low":
            said = [_first_sentence(p) for p in said]
        if persona.verbosity == "high":
            extra = self._volunteer()
            said.append(extra if extra else self._rng.choice(CHATTER))
        if persona.anxiety == "high" and self._rng.random() < 0.5:
            said.append(self._rng.choice(WORRIES))
        return " ".join(said)

    def _say(self, fact: _Fact) -> str:
        """A fact in this persona's words; marks it as disclosed."""
        self._said.add(id(fact))
        text = fact.clinical.rstrip(".") + "." if self._persona.health_literacy == "high" else fact.lay
        text = text[0].upper() + text[1:]
        if self._persona.recall == "low" and fact.topic in ("onset", "duration", "timing"):
            text = "I'm not sure exactly, but " + text[0].lower() + text[1:]
        return text

    def _disclose(self, facts: list[_Fact], question: str) -> list[_Fact | str]:
        """The facts, less those of a sensitive section a reluctant patient will not discuss yet."""
        out: list[_Fact | str] = []
        for section in dict.fromkeys(f.section for f in facts if f.section in SENSITIVE_SECTIONS):
            if not self._willing(section, question):
                facts = [f for f in facts if f.section != section]
                out.append("Do I really have to answer that? I'd rather not go into it.")
        if self._persona.recall == "low" and any(f.section == "medications" for f in facts) and "recall:medications" not in self._asked:
            self._asked.add("recall:medications")
            facts = [f for f in facts if f.section != "medications"]
            out.append("I take some tablets, but I can't remember the names, sorry.")
        return out + facts

    def _specific(self, question: str) -> list[_Fact | str]:
        """Facts and denials whose own keywords the question uses ("any fever?", "do you smoke?").
        Relatives' illnesses come only through the family section: "any headaches?" asks about the patient."""
        matched = [f for f in self._facts if f.section != "family" and f.pattern and f.pattern.search(question)]
        denials = [n.lay for n, pattern in self._negatives if pattern and pattern.search(question)]
        return self._disclose(matched, question) + denials

    def _by_topic(self, question: str) -> list[_Fact | str]:
        """Facts for the OPQRST topics asked about; "anything else?" reveals unsaid ones in turn."""
        out: list[_Fact | str] = []
        for topic in _asked_about(question)[0]:
            # "tell me more", "go on": the story so far goes on with what is not yet said
            facts = [f for f in self._facts if (f.topic is not None if topic == "more" else f.topic == topic)]
            if not facts and topic in TOPIC_STAND_INS:
                facts = [f for f in self._facts if f.topic == TOPIC_STAND_INS[topic]]
            if topic in ("associated", "more"):
                unsaid = [f for f in facts if id(f) not in self._said]
                if facts and not unsaid:
                    out.append("No, I think that's everything.")
                    continue
                facts = unsaid
            out += facts or [TOPIC_NONE.get(topic, "I'm not sure, I haven't really noticed.")]
        return out

    def _by_section(self, question: str) -> list[_Fact | str]:
        """Everything in the history sections asked about, or the section's plain "none"."""
        sections = [s for s in _asked_about(question)[1] if s in SECTION_NONE]
        if "allergies" in sections:  # "any allergies to medicines?" asks for allergies, not the medicine list
            sections = [s for s in sections if s != "medications"]
        out: list[_Fact | str] = []
        for section in sections:
            facts = [f for f in self._facts if f.section == section]
            named = [f for f in facts if f.pattern and f.pattern.search(question)]
            out += self._disclose(named or facts, question) if facts else [SECTION_NONE[section]]
        return out

    def _willing(self, section: str, question: str) -> bool:
        """A reluctant patient answers a sensitive section once reassured or asked a second time."""
        if self._persona.reluctance != "high" or REASSURANCE.search(question):
            return True
        asked_before = section in self._asked
        self._asked.add(section)
        return asked_before

    def _by_ros(self, question: str) -> list[str]:
        systems = [s for s, pattern in _SYSTEMS.items() if pattern.search(question)]
        ros = self.profile.review_of_systems
        return [ros.get(s) or self._deny(question) for s in systems]

    def _deny(self, question: str) -> str:
        """Deny a symptom the case does not mention, naming it as the doctor did; but never
        deny what the patient came in with ("any cough?" to a patient who opened with a cough)."""
        symptom = SYMPTOMS.search(question)
        if symptom is None:
            return "No, nothing like that."
        word = symptom.group(0).lower()
        stem = word[:5] if len(word) > 5 else word
        complaint = f"{self.profile.opening_statement} {self.profile.chief_complaint}".lower()
        if stem in complaint:
            if word in VAGUE_SYMPTOMS:
                return "Nothing more than what I've told you already."
            return f"Yes, that's right. {self.profile.opening_statement}"
        return f"No, I haven't noticed any {word}."

    def _fallback(self, question: str) -> str:
        if GREETING.search(question):
            return self.profile.opening_statement
        if DIAGNOSIS_QUESTION_PATTERN.search(question):
            return "I really don't know, doctor. That's what I was hoping you could tell me."
        if SYMPTOMS.search(question):
            return self._deny(question)
        if question.rstrip().endswith("?"):
            return "I'm not sure, doctor. Could you ask me that another way?"
        return "Okay." if len(question) < 200 else "Okay, I understand."

    def _volunteer(self) -> str | None:
        """A talkative patient adds one history fact that has not been said yet."""
        unsaid = [f for f in self._facts if f.topic and id(f) not in self._said]
        return self._say(unsaid[0]) if unsaid else None


def _unique(parts: list[_Fact | str]) -> list[_Fact | str]:
    """Drop repeats (the same fact found by topic and by keyword), keeping order."""
    seen: set[int | str] = set()
    out = []
    for part in parts:
        key = id(part) if isinstance(part, _Fact) else part
        if key not in seen:
            seen.add(key)
            out.append(part)
    return out


def _first_sentence(text: str) -> str:
    match = re.match(r".+?[.!?](?=\s|$)", text)
    return match.group(0) if match else text
