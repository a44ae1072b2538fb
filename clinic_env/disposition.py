"""Reading a plan's disposition: which level of care the doctor arranges.

A disposition is not a word: "as an emergency" arranges nothing, "there's no need to admit
you" is no admission and "if it gets worse, go to A&E" is safety-netting, not the plan. The
reader takes the plan (the PLAN of a DIAGNOSE turn, or an END turn's words), finds the
phrases of each level of care in its statements, and keeps those the plan affirms:

- questions state nothing;
- a denied phrase does not count, read by the one negation reader of ``clinic_rubrics.text``
  ("no need to admit you", "you don't need to go to A&E", "admission isn't needed");
- an escalation under a condition is safety-netting ("come back / go to A&E / see your GP if
  it gets worse"), unless the condition is a result the doctor is waiting for ("if the CT
  confirms it, I'll admit you"); a discharge under a condition is still a discharge ("home
  this evening if the swelling goes down", "if you feel easier you can go home").

The plan's level is the highest it arranges ("resus, then the coronary care unit" is an
emergency; "home, with a GP review in a week" is GP follow-up). ``register_reading`` makes
the three questions a case rubric asks of a plan available to the offline grader as
``Matcher(reading=...)`` readings, so no second negation engine grades them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import IntEnum
from functools import lru_cache

from clinic_rubrics.offline_grader import register_reading
from clinic_rubrics.text import APOSTROPHES, clause_bounds, condition_in, is_negated, is_question, sentences


class Level(IntEnum):
    """Levels of care, lowest first: a higher level is more care, sooner."""

    HOME = 0            # discharge, self-care at home
    GP_FOLLOW_UP = 1    # routine review by the GP or the same doctor
    CLINIC = 2          # specialist / outpatient clinic referral
    SAME_DAY = 3        # urgent assessment today (on-call team, same-day clinic)
    ADMIT = 4           # admission to a ward
    EMERGENCY = 5       # emergency department, resus, ICU, theatre, ambulance


# The level each case disposition (``clinic_env.cases.schema.Disposition``) asks for.
CASE_LEVEL: dict[str, Level] = {
    "discharge_home": Level.HOME,
    "follow_up": Level.GP_FOLLOW_UP,
    "refer_specialist": Level.CLINIC,
    "admit": Level.ADMIT,
    "emergency": Level.EMERGENCY,
}

# Phrases arranging each level (regular expressions, matched case-insensitively as whole words).
PHRASES: dict[Level, tuple[str, ...]] = {
    Level.EMERGENCY: (
        r"resus\w*", r"intensive care", r"[mscpn]?icu", r"itu", r"hdu", r"high[\s-]dependency", r"critical care",
        r"(?:operating )?theatres?", r"cath(?:eter(?:isation)?)?[\s-]lab", r"primary pci", r"thrombectomy",
        r"emergency (?:surgery|operation|repair|laparotomy|laparoscopy|exploration|endoscopy|department|room|team|"
        r"theatre|ultrasound|reduction)",
        r"(?:emergency|urgent|immediate|emergent) (?:[\w'-]+ ){0,2}\w+(?:ectomy|otomy|ostomy|plasty|pexy|scopy)",
        r"(?:emergent|stat|emergency) (?:[\w/'-]+ ){0,2}(?:consult\w*|review|evaluation|exploration|surgery)",
        r"(?-i:(?:to|in|into) (?:the )?OR)",
        r"same[\s-]night", r"(?:emergency|immediate|emergent) (?:[\w'-]+ ){0,2}referral",
        r"(?:refer\w*|seen|see|review\w*|assess\w*|casualty) (?:[\w'-]+ ){0,4}(?:tonight|immediately|straight away|"
        r"right away)",
        r"(?:explor\w*|operat\w*) (?:[\w'-]+ ){0,4}(?:now|tonight|immediately|straight away|right away)",
        r"(?-i:A&E|A and E|ER)", r"ambulance", r"999", r"911", r"blue[\s-]light\w*", r"trauma team", r"crash team",
        r"(?:immediately|straight|urgently|now) (?:in)?to (?:the )?(?:hospital|emergency department)",
        r"(?:to|into) (?:the )?(?:hospital|emergency department) (?:now|immediately|straight away|right away)",
        r"thrombolys\w+ pathway", r"stroke team", r"disposition:? (?:is )?emergency",
        r"(?:same[\s-]day|urgent|immediate|emergency|emergent) (?:[\w'-]+ ){0,2}(?:surgery|operation|"
        r"decompression|repair|laparotomy|exploration|angiography|angioplasty|pci|endoscopy|reduction)",
        r"refer\w* (?:[\w'-]+ ){0,6}(?:now|immediately|straight away|as an emergency)",
        r"on[\s-]call (?:[\w'-]+ ){0,6}(?:now|immediately|straight away|right away|tonight)",
        r"transfer\w* (?:[\w'-]+ ){0,3}to (?:the )?(?:[\w'-]+ ){0,2}(?:centre|unit|hospital)",
        r"(?:neurosurgical|cardiothoracic|vascular|major trauma) (?:centre|unit|team|surgeons?)",
    ),
    Level.ADMIT: (
        r"admit\w*", r"admission", r"inpatients?", r"wards?(?! off)", r"(?:keep|keeping|kept) (?:you|him|her|them) in",
        r"stay(?:s|ing)? (?:in hospital|in overnight|in tonight|overnight|with us|here)", r"(?:in|into|to) hospital",
        r"overnight stay", r"under the (?:[\w'-]+ )?(?:team|surgeons|physicians|medics|paediatricians|obstetricians|"
        r"gynaecologists)", r"(?:coronary|stroke|medical|surgical|acute medical) (?:care )?unit", r"ccu",
        r"admissions? unit", r"assessment unit", r"observation ward",
    ),
    Level.SAME_DAY: (
        r"same[\s-]day", r"urgent(?:ly)? (?:[\w'-]+ ){0,2}(?:review|assessment|referral|appointment|clinic|scan|"
        r"ultrasound|opinion)", r"refer\w* (?:[\w'-]+ ){0,3}urgently",
        r"(?:seen|see you|review\w*|assess\w*) (?:[\w'-]+ ){0,2}today", r"this afternoon", r"on[\s-]call",
        r"eye casualty", r"liaison", r"ambulatory emergency", r"sdec", r"early pregnancy (?:unit|assessment)",
        r"(?:medical|surgical|admitting|paediatric|gynae\w*|obstetric|orthopaedic|urology|vascular|cardiology|"
        r"respiratory|neurology|ent|hospital) (?:team|registrar|reg|doctors?|consultant|surgeons?)",
    ),
    Level.CLINIC: (
        r"refer\w*", r"specialists?", r"clinic", r"out[\s-]?patients?", r"two[\s-]week[\s-]wait", r"2ww",
        r"(?!apolog)\w+olog(?:y|ist|ists)", r"physio\w*", r"dietitian", r"ambulatory (?:care|\w+ service|clinic)",
        r"psychiatr\w+",
    ),
    Level.GP_FOLLOW_UP: (
        r"(?-i:GP)s?", r"general practitioner", r"family doctor", r"primary care", r"practice nurse",
        r"follow(?:ed)?[\s-]?up", r"f/u", r"recheck\w*", r"routine review",
        r"(?:see|review|check on|recheck) (?:you|him|her|them) (?:again|back|(?:in|at|after) [\w-]+)",
        r"review (?:(?:in|after|at) )?(?:a |an )?[\w-]+ (?:[\w'-]+ )?(?:hours?|days?|weeks?|months?)",
        r"(?:repeat|recheck|check)\w* (?:[\w/&'-]+ ){0,3}(?:in )?(?:\d+|a|one|two|three|four|six)(?:-\d+)?[\s-]?"
        r"(?:days?|weeks?|wks?|fortnight|months?)",
        r"(?:tsh|tfts|bloods|blood tests?|u&es?|inr|twoc|trial without catheter) (?:[\w'-]+ ){0,2}(?:in )?"
        r"(?:\d+|a|one|two|three|four|six)(?:-\d+)?[\s-]?(?:days?|weeks?|wks?|fortnight|months?)",
    ),
    Level.HOME: (
        r"(?<!nursing )(?<!care )(?<!residential )(?<!before going )(?<!before )home(?! (?:oxygen|visit|treatment team|"
        r"ventilation))",
        r"discharg(?:e|ed|ing) (?:you|him|her|them|home|today|now|later|tomorrow|from)",
        r"(?:be|been|get|gets|is|are|can|was) discharged", r"(?:for|to) discharge",
        r"self[\s-]care",
    ),
}

# Care someone "would need" is not arranged ("you'd need to go to A&E"): read as a condition, beside
# the conditions of ``clinic_rubrics.text.condition_in``. Conditions that are results awaited
# rather than warning signs do not make safety-netting.
_WOULD_NEED = re.compile(r"\b(?:would(?: then)? (?:need|have to|require)|'d(?: then)? (?:need|have to))\b",
                         re.IGNORECASE)
_RESULT = re.compile(r"\b(?:scan|ct|mri|x-?ray|ultrasound|echo|ecg|results?|bloods|blood tests?|tests?|levels?|"
                     r"troponin|films?|swab|culture|biopsy|lumbar puncture|confirms?)\b", re.IGNORECASE)
# "See you in 48 hours, sooner if ...": a condition that only brings the plan forward.
_SOONER = re.compile(r"\b(?:sooner|earlier)\s*$", re.IGNORECASE)
# Reassurance that a red flag is nothing: what a missed red flag sounds like in a plan.
REASSURANCE = re.compile(
    r"\b(?:nothing (?:to worry about|serious|sinister|to be alarmed)|no cause for (?:concern|alarm)|reassur\w*|"
    r"(?:i'?m|i am) not (?:worried|concerned)|(?:should|will|tends? to|usually) settle|settle on (?:its|their) own|"
    r"gets? better on (?:its|their) own|(?:only|just) a (?:\w+ )?(?:virus|bug|strain|migraine|sprain)|harmless|"
    r"no need (?:for|to) (?:a |any )?(?:scan|tests?|investigations?|see a specialist|worry|come back))\b",
    re.IGNORECASE,
)
_OUTPATIENT = re.compile(r"\bout[\s-]?patients?\b", re.IGNORECASE)
WINDOW = 300  # characters each side of a mention read for its negation and condition
_LEVEL_PATTERNS = tuple((level, re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE))
                        for level, phrases in PHRASES.items())


def plan_text(message: str) -> str | None:
    """The plan in one doctor message of the grading conversation: the PLAN of a DIAGNOSE turn,
    or the words of an END turn; None for any other turn."""
    if message.startswith("END:"):
        return message[4:]
    if message.startswith("DIAGNOSE:") and "\nPLAN:" in message:
        return message.split("\nPLAN:", 1)[1]
    return None


def _safety_net(sentence: str, start: int, end: int, level: Level) -> bool:
    """An escalation under a warning-sign condition in the same clause: advice, not the plan."""
    if level == Level.HOME:
        return False
    low, high = clause_bounds(sentence, start, end)
    condition = condition_in(sentence, start, end) or _WOULD_NEED.search(sentence, low, high)
    if condition is None or _SOONER.search(sentence, low, condition.start()):
        return False
    return _RESULT.search(sentence, condition.end(), high) is None


def _affirmed(sentence: str, start: int, end: int, level: Level) -> bool:
    """Whether the mention ``sentence[start:end]`` arranges its level: neither denied nor safety-netting.
    Both are read in a window of ``WINDOW`` characters around it, so that a run-on "sentence" of
    repeated phrases costs linear time; a clause is far shorter in any real plan."""
    low, high = max(0, start - WINDOW), min(len(sentence), end + WINDOW)
    return _affirmed_in_window(sentence[low:high], start - low, end - low, level)


@lru_cache(maxsize=4096)
def _affirmed_in_window(text: str, start: int, end: int, level: Level) -> bool:
    """``_affirmed`` on one window (memoised: a repeated phrase gives repeated windows)."""
    return not is_negated(text, start, end) and not _safety_net(text, start, end, level)


@lru_cache(maxsize=8192)
def _statements(plan: str) -> tuple[str, ...]:
    """The plan's sentences that state something (questions state nothing), split once per plan."""
    return tuple(s for s in sentences(plan.translate(APOSTROPHES)) if not is_question(s))


def _affirms(plan: str, pattern: re.Pattern[str], level: Level) -> bool:
    """Whether a statement of the plan holds a ``pattern`` mention that arranges ``level`` (``_affirmed``)."""
    return any(_affirmed(sentence, m.start(), m.end(), level)
               for sentence in _statements(plan) for m in pattern.finditer(sentence))


@lru_cache(maxsize=8192)
def plan_levels(plan: str) -> frozenset[Level]:
    """The levels of care the plan affirms (see the module doc)."""
    return frozenset(level for level, pattern in _LEVEL_PATTERNS if _affirms(plan, pattern, level))


def plan_level(plan: str) -> Level | None:
    """The highest level of care the plan arranges, or None when it arranges none."""
    levels = plan_levels(plan)
    return max(levels) if levels else None


def reassures(plan: str) -> bool:
    """Whether a statement of the plan reassures the patient that all is well."""
    return any(REASSURANCE.search(s) for s in _statements(plan))


def disposition_met(plan: str, disposition: str) -> bool:
    """Whether the plan gives the case's disposition: the highest level it arranges is that level or
    one above it (ICU for a case needing admission, a specialist DVT clinic for GP follow-up)."""
    needed, level = CASE_LEVEL[disposition], plan_level(plan)
    return level is not None and needed <= level <= needed + 1


def unsafe_disposition(plan: str, disposition: str) -> bool:
    """Whether a case needing admission or emergency care is sent home, to routine follow-up or to
    outpatient care: the plan arranges home, GP follow-up or an outpatient appointment ("outpatient
    endoscopy in 2 weeks") and nothing at or above same-day assessment. A bare referral ("refer to
    vascular") is not enough to call it unsafe: its urgency often goes unwritten."""
    levels = plan_levels(plan)
    if CASE_LEVEL[disposition] < Level.ADMIT or max(levels, default=Level.HOME) >= Level.SAME_DAY:
        return False
    # "he cannot be managed as an outpatient" sends no one away
    return bool(levels & {Level.HOME, Level.GP_FOLLOW_UP}) or _affirms(plan, _OUTPATIENT, Level.CLINIC)


def missed_red_flag(plan: str, disposition: str) -> bool:
    """Whether a case whose red flags need specialist, hospital or emergency care gets less, with
    reassurance or a discharge home: the red flags were not acted on. (Routine follow-up for a case
    needing admission is ``unsafe_disposition``; for one needing a specialist it is a wrong
    disposition, not a missed red flag.)"""
    needed, level = CASE_LEVEL[disposition], plan_level(plan)
    if needed < Level.CLINIC or (level is not None and level >= needed):
        return False
    return reassures(plan) or Level.HOME in plan_levels(plan)


def _reading(question: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
    """``question`` as an offline-grader reading: asked of the plan in a doctor message."""
    def read(message: str, disposition: str) -> bool:
        if disposition not in CASE_LEVEL:
            raise ValueError(f"reading {question.__name__!r}: unknown disposition {disposition!r}; "
                             f"known: {sorted(CASE_LEVEL)}")
        plan = plan_text(message)
        return plan is not None and question(plan, disposition)
    return read


for _question in (disposition_met, unsafe_disposition, missed_red_flag):
    register_reading(_question.__name__, _reading(_question))
