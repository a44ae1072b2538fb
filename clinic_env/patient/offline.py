"""The offline rule-based patient: answers from the case's facts, no model needed.

It works out what a doctor's question asks for, then answers from the ``PatientProfile``
only, in the lay wording of the case, shaped by a ``Persona``: an invitation gets the opening
story; a history section ("any allergies?") its facts, or its plain "none"; an OPQRST topic its
facts; a named symptom the facts and denials that name it. Facts sharing the question's telling
words come first (``clinic_env.patient.matching``), and when nothing is routed the words alone
find the fact ("do you feel the cold more than others?"). A symptom the case neither has nor
lists is denied, consistently (the same question gets the same answer); a relative speaking for
a patient who cannot give a history does not know a sensation the case does not record. It
cannot know the diagnosis; it could only echo a name the doctor used, and it drops any sentence
naming one of the ``forbidden_names`` given to ``reset`` (as the environment does for every
patient).
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from clinic_env.cases.schema import Item, PatientProfile, PertinentNegative
from clinic_env.history_topics import (
    DIAGNOSIS_QUESTION_PATTERN,
    ROS_PATTERNS,
    SECTION_PATTERNS,
    SENSITIVE_SECTIONS,
    TOPIC_PATTERNS,
)
from clinic_env.leaks import redact_leaks
from clinic_env.patient.matching import MATCH_THRESHOLD, FactIndex, holds_one, terms
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
VAGUE_TERMS = terms(" ".join(VAGUE_SYMPTOMS))

REASSURANCE = re.compile(r"\b(confidential|private|privacy|no judge?ment|won't judge|safe to|routine|ask everyone|important (for|to))\b", re.IGNORECASE)
# A greeting opens the visit; an invitation to tell the presenting complaint, anywhere in the turn
# ("Morning, I'm one of the doctors. What's brought you in today?"), asks for the opening story.
GREETING = re.compile(
    r"^\W*(hi|hiya|hello|hey|morning|afternoon|evening|good (morning|afternoon|evening)|how are you)\b", re.IGNORECASE)
INVITATION = re.compile(
    r"\b(what('s| has| have)? brought you|what brings you|how can (i|we) help|what can (i|we) (do|help)|"
    r"what seems to be the (problem|trouble|matter)|what's (been )?(going on|happening|the (matter|problem|trouble))|"
    r"what (has )?happened|tell me what('s| has) been (going on|happening)|what('s| has) been happening)\b", re.IGNORECASE)
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

# Sensations only the patient can report: a relative speaking for someone who cannot tell them
# does not know them unless the case records them. The qualities of a pain are sensations of
# their own ("is the pain sharp or throbbing?" is not answered by "he's been crying with it").
SENSATIONS = re.compile(
    r"\b(dizz\w*|light.?headed\w*|numb\w*|tingl\w*|pins and needles|headaches?|nause\w*|feel(s|ing)? sick|"
    r"vision|double|flashing lights?|zig.?zag\w*|ringing|tinnitus|palpitations?|heart (racing|pounding)|"
    r"sharp|dull|throbbing|stabbing|burning|crushing|chest pain|pain\w*|hurt\w*|sore\w*|ache|aching)\b",
    re.IGNORECASE)
_VAGUE_SENSATIONS = frozenset({"pain", "painful", "hurt", "hurts", "hurting", "sore", "soreness", "ache", "aching"})


CONFIRM = "Yes, that's right."
# "Any new tablets lately?" asks what changed, not for the whole list.
NEW_MEDICINE = re.compile(r"\b(new|recent(ly)?|lately|changed?|started|starting)\b.{0,30}\b(medic\w*|tablets?|pills?|"
                          r"prescriptions?|drugs?|doses?)\b|\b(medic\w*|tablets?|pills?|prescriptions?|doses?)\b.{0,30}"
                          r"\b(recently|lately|changed|new)\b", re.IGNORECASE)
RECENTLY_STARTED = re.compile(r"\b(started|new|recently|just|changed|increased|reduced|switched|(days?|weeks?) ago)\b",
                              re.IGNORECASE)
# Habits a doctor asks about one by one: how the question names each, how a fact shows it, and
# the plain denial when the case records none ("any street drugs?" is not answered by the cigarettes).
HABITS: tuple[tuple[re.Pattern[str], re.Pattern[str], str], ...] = tuple(
    (re.compile(asked, re.IGNORECASE), re.compile(shown, re.IGNORECASE), denial) for asked, shown, denial in (
        (r"\b(drugs?|cannabis|cocaine|weed|heroin|ecstasy|speed|inject\w*)\b",
         r"\b(drugs?|cannabis|cocaine|heroin|weed|ecstasy|mdma|speed|amphetamines?|ketamine|joints?|inject\w*)\b",
         "No, I don't take any drugs."),
        (r"\b(smok\w*|cigarettes?|tobacco|vap\w*)\b", r"\b(smok\w*|cigar\w*|tobacco|vap\w*|roll.ups)\b",
         "No, I don't smoke."),
        (r"\b(alcohol|drink\w*|beer|wine|units|booze)\b",
         r"\b(alcohol|drink\w*|wine|beer|lager|cider|pints?|units|spirits|vodka|whisky|gin|sherry|teetotal|cans)\b",
         "No, I don't drink."),
    ))
# The words of pain: a vague question about pain is answered by any of them ("says her tummy hurts").
PAIN_TERMS = frozenset({"pain", "headach", "cramp", "colic", "tender", "migrain", "stitch"})


class _StandIn(str):
    """What a patient says when the case has nothing on what was asked ("nothing really helps"):
    dropped when a fact sharing telling words with the question answers."""


def _key(part: _Fact | str) -> int | str:
    return part if isinstance(part, str) else id(part)


def _of_family(part: _Fact | str) -> bool:
    return part == SECTION_NONE["family"] if isinstance(part, str) else part.section == "family"


def _named_symptoms(question: str) -> tuple[frozenset[str], ...]:
    """The stems of each specific symptom the question names ("chest pain": chest and pain)."""
    return tuple(terms(m.group(0)) for m in SYMPTOMS.finditer(question) if m.group(0).lower() not in VAGUE_SYMPTOMS)


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


# The words each review-of-systems cue asks with, so "any changes to your waterworks?" finds the
# system's answer even when the answer says "passing water".
ROS_WORDS: dict[str, str] = {system: " ".join(re.findall(r"[a-z]{3,}", pattern.pattern))
                             for system, pattern in ROS_PATTERNS.items()}

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
    keywords: tuple[str, ...] = ()

    @cached_property
    def words(self) -> frozenset[str]:
        """The stems of everything the fact is said in (lay and clinical words, keywords)."""
        return terms(" ".join((self.lay, self.clinical, *self.keywords)))


def _facts(profile: PatientProfile) -> list[_Fact]:
    """Every disclosable fact of a profile, history of the presenting complaint first."""
    facts = [_Fact(f.lay, f.text, _keyword_pattern(tuple(f.keywords)), topic=f.topic, keywords=tuple(f.keywords))
             for f in profile.history]
    sections: dict[str, list[Item]] = {
        "past_history": profile.past_history, "social": profile.social_history,
        "family": profile.family_history, "sexual": profile.sexual_history,
        "travel": profile.travel_history, "obstetric": profile.obstetric_history,
    }
    for section, items in sections.items():
        facts += [_Fact(i.lay, i.text, _keyword_pattern(tuple(i.keywords)), section=section, keywords=tuple(i.keywords))
                  for i in items]
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
    _index: FactIndex[_Fact | str] = field(default_factory=lambda: FactIndex.build([], []), init=False, repr=False)

    def reset(self, profile: PatientProfile, persona: Persona, seed: int | None = None, *,
              forbidden_names: Sequence[str] = ()) -> str:
        self._profile, self._persona, self._rng = profile, persona, random.Random(seed)
        self._forbidden = forbidden_tuple(forbidden_names)
        self._facts = _facts(profile)
        self._negatives = [(n, _keyword_pattern(tuple(n.keywords))) for n in profile.pertinent_negatives]
        self._index = _fact_index(self._facts, profile)
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
        parts = self._ranked(question)
        unknown = self._unknowable(question, parts)
        if unknown:
            parts = [unknown]
        elif not parts or all(isinstance(p, _StandIn) for p in parts):
            parts = parts or self._by_ros(question) or [self._fallback(question)]
        limit = self.max_facts_per_reply or {"low": 1, "medium": 2, "high": 3}[persona.verbosity]
        said = [self._say(p) if isinstance(p, _Fact) else str(p) for p in _unique(parts)[:limit]]
        if persona.verbosity == "low":
            said = [_first_sentence(p) for p in said]
        if persona.verbosity == "high":
            extra = self._volunteer()
            said.append(extra if extra else self._rng.choice(CHATTER))
        if persona.anxiety == "high" and self._rng.random() < 0.5:
            said.append(self._rng.choice(WORRIES))
        return " ".join(said)

    def _ranked(self, question: str) -> list[_Fact | str]:
        """What the question asks for, best first: an invitation's opening story; the facts of the
        history sections asked about; the facts of the topics asked about; the facts and denials
        the question's keywords name; and only when those find nothing, facts the
        question is about in its words alone (``clinic_env.patient.matching``), confirmed first
        when they are the complaint the patient came with. Within each, facts sharing telling
        words with the question come first. A stand-in ("it stays in the one place") gives way
        to a fact sharing telling words with the question ("has it spread?": "it's spread from my
        hands"), never to one that shares only a vague word ("does the pain go anywhere?")."""
        by_position = self._index.scores(question, _named_symptoms(question), VAGUE_TERMS)
        telling = {_key(self._index.items[i]): score for i, score in by_position.items() if score >= MATCH_THRESHOLD}
        tiers = [self._by_section(question, telling), self._by_topic(question), self._specific(question)]
        ranked: dict[int | str, tuple[float, float, int, _Fact | str]] = {}
        for tier, parts in enumerate(tiers):
            for order, part in enumerate(parts):
                ranked.setdefault(_key(part), (-tier, telling.get(_key(part), 0.0), -order, part))
        if INVITATION.search(question):  # the story comes first, above every tier, whatever the words find
            ranked[_key(self.profile.opening_statement)] = (1, math.inf, 0, self.profile.opening_statement)
        if all(isinstance(part, _StandIn) for *_, part in ranked.values()) and not GREETING.search(question):
            found = [self._index.items[i] for i in by_position if _key(self._index.items[i]) in telling]
            if found and isinstance(found[0], _Fact) and self._complaint_named(question):
                ranked[0] = (1, math.inf, 0, CONFIRM)
            for i, part in enumerate(found):
                ranked.setdefault(_key(part), (-len(tiers), telling[_key(part)], -i, part))
        # a fact sharing telling words with the question outranks one that was only asked for; but
        # asked about the family, the family answers first ("any heart trouble in the family?")
        best = sorted(ranked.values(), key=lambda r: (_of_family(r[3]), r[1] > 0, *r[:3]), reverse=True)
        # a stand-in gives way to a telling fact, or to any fact of its own tier or above ("where
        # is it, does it go anywhere?": the pain that "goes into my groin" is not then denied)
        answered = [tier for tier, score, _, part in best if not isinstance(part, _StandIn)]
        telling_fact = any(score for _, score, _, part in best if not isinstance(part, _StandIn))
        kept = [(tier, score, part) for tier, score, _, part in best
                if not (isinstance(part, _StandIn) and (telling_fact or any(t >= tier for t in answered)))]
        if not kept:
            return []
        # only what shares telling words with the question or answers its first concern (the
        # invitation, else the sections, else the topics asked): "how's your bowel habit?" does
        # not also get the day it all started
        top = max(tier for tier, _, _ in kept)
        return _distinct([part for tier, score, part in kept if tier == top or score])

    def _say(self, fact: _Fact) -> str:
        """A fact in this persona's words; marks it as disclosed."""
        self._said.add(id(fact))
        text = fact.lay[0].upper() + fact.lay[1:]  # a patient's own words, never the chart's
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
        named = _named_symptoms(question)
        matched = [f for f in self._facts if f.section != "family" and f.pattern and f.pattern.search(question)
                   and holds_one(f.words, named)]
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
                    out.append(_StandIn("No, I think that's everything."))
                    continue
                facts = unsaid
            out += facts or [_StandIn(TOPIC_NONE.get(topic, "I'm not sure, I haven't really noticed."))]
        return out

    def _by_section(self, question: str, telling: dict[int | str, float]) -> list[_Fact | str]:
        """The history sections asked about: the facts the question names (by keyword or by
        telling words), else everything in the section, or the section's plain "none". Asked
        what is new ("any new tablets lately?"), only what was started recently, or "nothing new"."""
        sections = [s for s in _asked_about(question)[1] if s in SECTION_NONE]
        if "allergies" in sections:  # "any allergies to medicines?" asks for allergies, not the medicine list
            sections = [s for s in sections if s != "medications"]
        answers = [self._section(section, question, telling) for section in sections]
        # one section after another would let the first fill the reply: "in hospital or abroad
        # recently?" answers both, first things first
        return [part for round_ in itertools.zip_longest(*answers) for part in round_ if part is not None]

    def _section(self, section: str, question: str, telling: dict[int | str, float]) -> list[_Fact | str]:
        facts = [f for f in self._facts if f.section == section]
        if section == "medications" and NEW_MEDICINE.search(question):
            new = [f for f in facts if RECENTLY_STARTED.search(f"{f.lay} {f.clinical}")]
            return self._disclose(new, question) if new else ["No, nothing new."]
        if section == "social" and any(asked.search(question) for asked, _, _ in HABITS):
            return self._habits(question, facts)
        named = [f for f in facts if (f.pattern and f.pattern.search(question)) or id(f) in telling]
        return self._disclose(named or facts, question) if facts else [SECTION_NONE[section]]

    def _habits(self, question: str, facts: list[_Fact]) -> list[_Fact | str]:
        """The habits asked about (smoking, alcohol, drugs): the facts that show each, or its plain
        denial; a pertinent negative of the case answers instead of the denial."""
        out: list[_Fact | str] = []
        negatives = [n.lay for n in self.profile.pertinent_negatives]
        for asked, shown, denial in HABITS:
            if asked.search(question):
                found = [f for f in facts if shown.search(f"{f.lay} {f.clinical}")]
                denied = [n for n in negatives if shown.search(n)]
                out += self._disclose(found, question) if found else denied or [denial]
        return out

    def _willing(self, section: str, question: str) -> bool:
        """A reluctant patient answers a sensitive section once reassured or asked a second time."""
        if self._persona.reluctance != "high" or REASSURANCE.search(question):
            return True
        asked_before = section in self._asked
        self._asked.add(section)
        return asked_before

    def _unknowable(self, question: str, parts: list[_Fact | str]) -> str | None:
        """A relative's answer about a sensation of the patient's that no fact of the answer
        records: they cannot know it, and they say so rather than deny it."""
        profile = self.profile
        if profile.informant == "patient":
            return None
        named = [m.group(0).lower() for m in SENSATIONS.finditer(question)]
        specific = [terms(n) for n in named if n not in _VAGUE_SENSATIONS]
        # "any pain?": any word of pain answers it
        sensations = specific or ([frozenset({t}) for t in PAIN_TERMS] if named else [])
        said = [terms(f"{p.lay} {p.clinical}" if isinstance(p, _Fact) else p) for p in parts if not isinstance(p, _StandIn)]
        if not sensations or any(s <= t for s in sensations for t in said):
            return None
        he = "she" if profile.demographics.sex == "female" else "he"
        if profile.demographics.age_years < 4:
            return f"{he.capitalize()}'s too little to tell us that, so I honestly don't know."
        return f"{he.capitalize()} hasn't said anything about that, but I'm not sure; {he} can't really tell us."

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
        if self._complaint_named(question):
            if word in VAGUE_SYMPTOMS:
                return "Nothing more than what I've told you already."
            return f"{CONFIRM} {self.profile.opening_statement}"
        return f"No, I haven't noticed any {word}."

    def _complaint_named(self, question: str) -> bool:
        """Whether the first symptom the question names is one the patient came in with."""
        symptom = SYMPTOMS.search(question)
        if symptom is None:
            return False
        word = symptom.group(0).lower()
        return (word[:5] if len(word) > 5 else word) in f"{self.profile.opening_statement} {self.profile.chief_complaint}".lower()

    def _fallback(self, question: str) -> str:
        if GREETING.search(question) or INVITATION.search(question):
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


def _fact_index(facts: list[_Fact], profile: PatientProfile) -> FactIndex[_Fact | str]:
    """The facts a question can find by its words: the patient's story and history, the denials
    of the pertinent negatives and the answers of the review of systems. A relative's illness, a
    medicine or an allergy is found only when its section is asked about or named: "have you
    noticed a rash?" is not answered by the rash penicillin gives."""
    own = [f for f in facts if f.section not in ("family", "medications", "allergies")]
    negatives, ros = profile.pertinent_negatives, profile.review_of_systems
    items: list[_Fact | str] = [*own, *(n.lay for n in negatives), *ros.values()]
    texts = [*(" ".join((f.lay, f.clinical, *f.keywords)) for f in own),  # the text of each fact's ``words``
             *(" ".join((n.lay, n.symptom, *n.keywords)) for n in negatives),
             *(f"{answer} {ROS_WORDS[system]}" for system, answer in ros.items())]
    return FactIndex.build(items, texts)


def _distinct(parts: list[_Fact | str]) -> list[_Fact | str]:
    """Parts that say something new: a fact a case holds twice (a peanut allergy in the story and
    in the allergy list) is said once, the first time."""
    kept: list[_Fact | str] = []
    seen: list[frozenset[str]] = []
    for part in parts:
        words = terms(part.lay if isinstance(part, _Fact) else part)
        if words and any(len(words & other) >= 0.6 * min(len(words), len(other)) for other in seen):
            continue
        kept.append(part)
        seen.append(words)
    return kept


def _unique(parts: list[_Fact | str]) -> list[_Fact | str]:
    """Drop repeats (the same fact found by topic and by keyword), keeping order."""
    first: dict[int | str, _Fact | str] = {}
    for part in parts:
        first.setdefault(_key(part), part)
    return list(first.values())


def _first_sentence(text: str) -> str:
    match = re.match(r".+?[.!?](?=\s|$)", text)
    return match.group(0) if match else text
