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
  this evening if the swelling goes down", "if you feel easier you can go home"). So are
  warning signs under a heading ("Red flags: ...", "### Return advice") and "return to the ER
  for fever"; a purpose ("review in 4 weeks to see if ..."), "if needed" and a condition of a
  second action ("... and repeat the X-ray if it's still sore") are not;
- care the patient had before is history ("you were admitted last year", "seen in ED on
  Saturday", "two ICU admissions in the past"), and care weighed and set aside ("I did think
  about admitting you, but ..."), declined or only to be thought about arranges nothing;
- same-day words in a letter, a routine or an outpatient pathway ("urgent suspected-cancer
  referral", "I'll write to the surgeons") are not care today.

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
from clinic_rubrics.text import APOSTROPHES, NEGATION, clause_bounds, condition_in, is_negated, is_question, sentences


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
    "same_day": Level.SAME_DAY,
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
        r"(?-i:A&E|A and E|ER)", r"(?<!non-emergency )(?<!non emergency )ambulance", r"999", r"911", r"blue[\s-]light\w*", r"trauma team", r"crash team",
        r"(?:immediately|straight|urgently|now) (?:in)?to (?:the )?(?:hospital|emergency department)",
        r"(?:to|into) (?:the )?(?:hospital|emergency department) (?:now|immediately|straight away|right away)",
        r"thrombolys\w+ pathway", r"stroke team", r"disposition:? (?:is )?emergency",
        r"(?:same[\s-]day|urgent|immediate|emergency|emergent) (?:[\w'-]+ ){0,2}(?:surgery|operation|"
        r"decompression|repair|laparotomy|exploration|angiography|angioplasty|pci|endoscopy|reduction)",
        r"refer\w* (?:[\w'-]+ ){0,6}(?:now|immediately|straight away|as an emergency)",
        r"on[\s-]call (?:[\w'-]+ ){0,6}(?:now|immediately|straight away|right away|tonight)",
        r"transfer\w* (?:[\w'-]+ ){0,3}to (?:the |a |an )?(?:[\w'-]+ ){0,2}(?:cent(?:re|er)|hospital)",
        r"helicopter", r"air ambulance",
        r"(?:neurosurgical|cardiothoracic|vascular|major trauma) (?:centre|unit|team|surgeons?)",
    ),
    Level.ADMIT: (
        r"admit\w*", r"(?<!on )(?<!at )(?<!since )admission", r"inpatients?", r"wards?(?! off)(?!'s)", r"amu", r"(?:place|placed|admit\w*) (?:in|into|to) (?:observation|obs)\b", r"(?:keep|keeping|kept) (?:you|him|her|them) in",
        r"stay(?:s|ing)? (?:in hospital|in overnight|in tonight|overnight|with us|here)", r"(?:in|into|to) hospital",
        r"overnight stay", r"under the (?:[\w'-]+ )?(?:team|surgeons|physicians|medics|paediatricians|obstetricians|"
        r"gynaecologists)", r"(?:coronary|stroke|medical|surgical|acute medical) (?:care )?unit", r"ccu",
        r"admissions? unit", r"observation (?:ward|unit|bay)", r"obs unit", r"clinical decision unit", r"cdu",
    ),
    Level.SAME_DAY: (
        r"same[\s-]day", r"urgent(?:ly)? (?:[\w'-]+ ){0,2}(?:review|assessment|referral|appointment|clinic|scan|"
        r"ultrasound|opinion)", r"refer\w* (?:[\w'-]+ ){0,3}urgently",
        r"(?:seen|see (?:you|him|her|them)|review\w*|assess\w*) (?:[\w'-]+ ){0,2}today", r"this afternoon", r"on[\s-]call",
        r"eye casualty", r"liaison", r"ambulatory emergency", r"sdec", r"early pregnancy (?:unit|assessment)",
        r"day (?:case|unit)", r"come in (?:[\w'-]+ ){0,2}today", r"fast[\s-]track (?:[\w'-]+ ){0,2}(?:referral|clinic|pathway)",
        r"assessment (?:unit|suite|centre|area)", r"maternity triage", r"day assessment",
        r"crisis assessment",
        r"(?:medical|surgical|admitting|paediatric|gynae\w*|obstetric|orthopaedic|urology|vascular|cardiology|"
        r"respiratory|neurology|ent|hospital) (?:team|registrar|reg|doctors?|consultant|surgeons?)",
    ),
    Level.CLINIC: (
        r"(?<!self-)(?<!self )refer\w*", r"specialists?", r"consultants?", r"clinic", r"out[\s-]?patients?", r"two[\s-]week[\s-]wait", r"2ww",
        r"(?!apolog)\w+olog(?:y|ist|ists)", r"physio\w*(?! exercises)", r"dietitian", r"ambulatory (?:care|\w+ service|clinic)",
        r"psychiatr\w+", r"(?:write|writing|letter) to (?:the |a |your )?(?:[\w'-]+ ){0,2}(?:team|surgeons?|"
        r"specialists?|consultants?|physicians|clinic|department)",
    ),
    Level.GP_FOLLOW_UP: (
        r"(?-i:GP)s?", r"general practitioner", r"family doctor", r"primary care", r"practice nurse",
        r"follow(?:ed)?[\s-]?up(?! prn| as needed| if needed)", r"f/u(?! prn| as needed| if needed)", r"recheck\w*",
        r"routine review", r"review (?:is )?due", r"appointment with (?:me|us|the (?:practice )?nurse|your gp)",
        r"(?:see|review|check on|recheck) (?:you|him|her|them) (?:again|back|(?:in|at|after) [\w-]+)",
        r"review (?:(?:in|after|at) )?(?:a |an )?[\w-]+ (?:[\w'-]+ )?(?:hours?|days?|weeks?|months?)",
        r"(?:repeat|recheck|check)\w* (?:[\w/&'-]+ ){0,3}(?:in )?(?:\d+|a|one|two|three|four|six)(?:-\d+)?[\s-]?"
        r"(?:days?|weeks?|wks?|fortnight|months?)",
        r"(?:tsh|tfts|bloods|blood tests?|u&es?|inr|twoc|trial without catheter|urate|lfts?|fbc|hba1c|a1c|bmp|cmp|"
        r"lipids|levels?|creatinine|kidney (?:blood )?tests?|bp|blood pressure) (?:[\w'-]+ ){0,2}(?:in )?"
        r"(?:\d+|a|one|two|three|four|six)(?:-\d+)?[\s-]?(?:days?|weeks?|wks?|fortnight|months?)",
        r"(?:see|meet|review)\w* (?:me|us) (?:again|back|(?:in|at|after) [\w-]+)", r"see you back", r"pop back", r"rtc",
        r"(?:come|pop|call|drop) (?:back )?(?:in )?(?:and|to) see (?:me|us|the (?:practice )?nurse)",
        r"(?:book|booked|schedul\w+|arrang\w+|make) (?:[\w'-]+ ){0,3}(?:appointment|review|follow\w*|check)",
        r"appointment (?:is |has been )?(?:booked|scheduled|made|arranged)",
        r"(?:booked|book) (?:in )?with (?:me|us|the (?:practice |asthma |diabetes )?nurse|reception)",
        r"(?:let's|we'll|i'll|we will|i will) (?:review|meet|see (?:you|how))",
        r"review (?:with|by) (?:the |your |a )?(?:[\w'-]+ ){0,2}(?:nurse|doctor|me)",
        r"(?:i'll|we'll|i will|we will) (?:ring|call|phone) you", r"(?:phone|telephone) (?:check|review|follow\w*|call)",
        r"review at (?:the |your |her |his )?[\w-]+ (?:check|appointment|visit)",
        r"(?:check|review|recheck|repeat)\w* (?:[\w/&'-]+ ){0,3}(?:on )?(?:monday|tuesday|wednesday|thursday|friday|"
        r"next week)",
    ),
    Level.HOME: (
        r"(?<!nursing )(?<!care )(?<!residential )(?<!before going )(?<!before )home(?! (?:oxygen|visit|treatment team|"
        r"ventilation))",
        r"discharg(?:e|ed|ing) (?:you|him|her|them|home|today|now|later|tomorrow|from)",
        r"(?:be|been|get|gets|is|are|can|was) discharged", r"(?:for|to) discharge",
        r"self[\s-]care",
    ),
}

# Care someone "would need" is not arranged ("you'd need to go to A&E"), nor care for "any of those"
# signs: read as conditions, beside the conditions of ``clinic_rubrics.text.condition_in``. Conditions
# that are results awaited rather than warning signs do not make safety-netting, nor does a purpose
# ("review in 4 weeks to see if prophylaxis is needed").
_MORE_CONDITIONS = re.compile(r"\b(?:would(?: then)? (?:need|have to|require)|'d(?: then)? (?:need|have to)|"
                         r"(?:for |with |if )?any of (?:those|these|them|the above|this))\b", re.IGNORECASE)
_PURPOSE = re.compile(r"\bto (?:see|check|decide|find out|discuss|assess|know)\s*$", re.IGNORECASE)
# "GP to re-examine in 10 days and repeat the X-ray if it's still sore", "same-day assessment for fluids, then
# zoledronic acid if the calcium stays high": the condition is the second action's.
_SECOND_ACTION = re.compile(r"\band\s+(?:then\s+)?(?:repeat|recheck|re-?examine|do|get|arrange|start|give|take|book|send|"
                            r"check|consider|refer|increase|reduce|add|switch)\b|\bthen\b", re.IGNORECASE)
# A line that only heads what follows: "## Plan", "**Return advice:**", "Follow-up:".
_HEADING = re.compile(r"^\s*(?:#+\s*[^\n]*|\*\*[^*\n]{1,60}\*\*\s*:?|[\w /&'()-]{1,60}:)\s*$")
_ADVICE_AFTER = re.compile(r"\s+(?:return precautions|return advice|safety[\s-]?net\w*)\b", re.IGNORECASE)
_NO_WARNING = re.compile(r"whether|if (?:needed|necessary|required|appropriate|indicated)\b", re.IGNORECASE)
# A line of warning signs ("Red flags: ...", "Return precautions: ...", "When to get help urgently
# (999 or A&E): ...") and "return to ED for fever" are safety-netting, with no "if".
_SAFETY_NET_HEADING = re.compile(
    r"^[\s#*>\u2022\d.)-]*(?:red[\s-]flags?|return (?:precautions|advice)|safety[\s-]?net\w*|"
    r"(?:come back|return|go)(?: to [\w&' ]{1,30})? if\b|when to (?:come back|return|worry)|when to (?:get|seek|call for) "
    r"(?:urgent |medical |emergency |immediate )?help|(?:warning|worrying|danger) signs|seek (?:urgent |immediate |"
    r"medical |emergency )*(?:help|advice|attention|care))\b", re.IGNORECASE)
_RETURN = re.compile(r"\b(?:return|come back|re-?attend|go back|head back|back|call|ring|dial|phone)\s+"
                     r"(?:straight\s+|directly\s+)?"
                     r"(?:to\s+)?(?:the\s+|your\s+)?$", re.IGNORECASE)
_FOR_SIGNS = re.compile(
    r"\s+(?:for|with)\s+(?!(?:him|her|them|you|me|us|this|that|the patient)\b)"
    r"(?!(?:a |an |your |the |his |her |some )?(?:review|follow|check|appointment|results?|bloods|"
    r"blood tests?|scan|dressing|repeat|reassessment|further|ongoing|treatment|surgery|admission|iv|antibiotics|"
    r"management|observation|monitoring|assessment|tests?|imaging|x-?ray|ct|mri|ultrasound|injection|removal)\b)",
    re.IGNORECASE)
# Care the patient had before is history, not the plan: "you were in hospital last year", "she was
# admitted to PICU aged 7", "two ICU admissions in the past", "seen in ED 3 days ago", "after your
# admission in May" (a patient's past tense earlier in the clause, with no "today", "now" or future
# between; a time in the past just after it; "previous", "after your" just before it).
_HISTORY_BEFORE = re.compile(
    r"\b(?:you|he|she|they|patient|mum|dad|baby|son|daughter)\s+(?:were|was|had|spent|went|came|ended up|got taken)\b"
    r"(?![^.;\n]*\b(?:today|now|tonight|this (?:morning|afternoon|evening)|will|'ll|going to|need|needs)\b)",
    re.IGNORECASE)
_HISTORY_JUST_BEFORE = re.compile(
    r"\b(?:previous|prior|past|last|recent|earlier|(?:after|since|during|before) (?:your|his|her|their|the))"
    r"(?:\s+[\w'-]+)?\s+$", re.IGNORECASE)
_HISTORY_AFTER = re.compile(
    r"\s+discharge (?:letter|summary)|"
    r"(?:\s+[\w'&-]+){0,4}?\s+(?:last (?:week|month|year|time|night|summer|winter|spring|autumn)|in (?:19|20)\d\d|"
    r"\d+ (?:days?|weeks?|months?|years?) ago|ago|in the past|aged? \d+|as a (?:child|baby|teenager)|previously)\b",
    re.IGNORECASE)
# The verbs that withhold a treatment: their reach over a list ends at a comma for a level of care.
_WITHHOLDING = re.compile(r"stop|stopping|withhold\w*|withheld|hold|holding|discontinu\w*|suspend\w*|cease|omit|"
                         r"avoid\w*|d/c", re.IGNORECASE)
# What was done before this plan, in a note's course ("Seen in ER Sat", "stabilised in resus", "NIV
# started in ED"): a participle opening its clause just before the mention ("can be seen in" is no course).
_COURSE = re.compile(r"(?:^|[.;:\n]\s*)[\W\d]*(?:[\w-]+\s+){0,2}(?<!be )(?:seen|stabili[sz]ed|resuscitated|treated|started|"
                     r"given)\s+(?:in|at|by|on)\s+(?:the\s+)?$", re.IGNORECASE)
# Care weighed and set aside: "I did consider admitting you, but ...", "admission discussed with the
# medics - not required", "we talked about a referral but you'd rather try physio".
_WEIGHED = re.compile(r"\b(?:thought about|think about|thinking about|consider(?:ed|ing)?|discuss(?:ed|ing)|"
                      r"talked about|recommended|offered|suggested|wondered about|debated)\b", re.IGNORECASE)
_SET_ASIDE = re.compile(r"\b(?:but|however|not (?:required|needed|necessary|indicated|warranted|wanted)|declined|"
                        r"(?:do|does|did)(?:n't| not)\b(?! (?:worry|hesitate|delay|wait))|"
                        r"decided against|would rather|'d rather|prefers?|preferred)\b", re.IGNORECASE)
_WEIGHED_REACH = 60  # characters before a mention read for the weighing verb
# Care refused or only to be thought about: "pt declined endocrinology referral", "we'll think about
# hepatology" (a few words before it).
_NOT_TAKEN_UP = re.compile(r"\b(?:declined|refused|refuses|turned down|(?:does|did)n't want|(?:does|did) not want|"
                           r"(?:we'll|i'll|we will|i will|may|might|could|can) (?:think about|consider|discuss))"
                           r"(?:\s+[\w'-]+){0,3}\s+$", re.IGNORECASE)
# Same-day words in a letter, a routine or an outpatient pathway do not arrange care today ("I'll
# write to the ENT surgeons", "urgent suspected-cancer referral", "urgent direct-access endoscopy
# via the cancer pathway", "urgent cardiology outpatient appointment within 2 weeks").
_NOT_TODAY = re.compile(r"\b(?:write|writing|letter|routine|non-?urgent|out[\s-]?patients?|clinic|2ww|two[\s-]week|"
                        r"suspected cancer|cancer pathway|within \w+ weeks?|rapid[\s-]access|direct[\s-]access|"
                        r"next (?:week|month)|weekly|(?:once|twice|three times) (?:a|per) week|every \w+ (?:days|weeks))\b",
                        re.IGNORECASE)
_TODAY = re.compile(r"\b(?:today|tonight|now|this (?:morning|afternoon|evening)|same[\s-]day|within the hour|"
                    r"at \d{1,2}(?::\d\d)?\s*(?:am|pm)|at \d{1,2}(?:pm|am))\b", re.IGNORECASE)
_RESULT = re.compile(r"\b(?:scan|ct|mri|x-?ray|ultrasound|echo|ecg|results?|bloods|blood tests?|tests?|levels?|"
                     r"troponin|films?|swab|culture|biopsy|lumbar puncture|confirms?)\b", re.IGNORECASE)
# "See you in 48 hours, sooner if ...": a condition that only brings the plan forward.
_SOONER = re.compile(r"\b(?:sooner|earlier)\s*$", re.IGNORECASE)
# Reassurance that a red flag is nothing: what a missed red flag sounds like in a plan.
REASSURANCE = re.compile(
    r"\b(?:nothing (?:to worry about|serious|sinister|to be alarmed)|no cause for (?:concern|alarm)|reassur\w*|"
    r"(?:i'?m|i am) not (?:worried|concerned)|(?:should|will|tends? to|usually) settles?|"
    r"(?:settles?|clears? up|clear|goes? away|gets? better|resolves?) (?:by|on) (?:itself|themselves|its own|their own)|"
    r"(?:only|just) a (?:\w+ )?(?:virus|bug|strain|migraine|sprain)|harmless|"
    r"no need (?:for|to) (?:a |an |any )?(?:[\w-]+ )?(?:scan|tests?|investigations?|referral|imaging|see a specialist|"
    r"worry|come back))\b",
    re.IGNORECASE,
)
# Care put off to a clinic date: "outpatient endoscopy", "routine referral", "they'll see her next week".
_OUTPATIENT = re.compile(r"\b(?:out[\s-]?patients?|routine (?:[\w-]+ )?(?:referral|clinic|appointment|review)|next week|"
                         r"the week after|"
                         r"(?:in|within) (?:a|one|two|three|four|six|\d+)(?:-\d+)? (?:weeks?|months?)|2ww|"
                         r"two[\s-]week[\s-]wait)\b", re.IGNORECASE)
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
    """An escalation under a warning-sign condition in the same clause, in a line of warning signs
    or back to hospital "for fever": advice, not the plan."""
    if level == Level.HOME:
        return False
    if (_SAFETY_NET_HEADING.match(sentence) or _ADVICE_AFTER.match(sentence, end)
            or (_RETURN.search(sentence, max(0, start - 40), start) and _FOR_SIGNS.match(sentence, end))):
        return True
    low, high = clause_bounds(sentence, start, end)
    condition = (condition_in(sentence, start, end) or _MORE_CONDITIONS.search(sentence, low, high)
                 or _opening_condition(sentence, low))
    if (condition is None or _SOONER.search(sentence, low, condition.start())
            or (condition.start() > end and _SECOND_ACTION.search(sentence, end, condition.start()))
            or _PURPOSE.search(sentence, max(low, condition.start() - 20), condition.start())
            or _NO_WARNING.match(sentence, condition.start())):
        return False
    # a result awaited in the condition itself ("if the CT confirms it, ..."), not in the care it leads to
    return _RESULT.search(sentence, condition.end(), start if condition.end() <= start else high) is None


def _opening_condition(sentence: str, low: int) -> re.Match[str] | None:
    """The condition of the clause just before a clause opening at ``low`` after a comma, when a
    condition opens that clause: "if it's changed, I'll refer to dermatology"."""
    if low < 1 or sentence[low - 1] != ",":
        return None
    before, _ = clause_bounds(sentence, low - 1)
    condition = condition_in(sentence, low - 1, low - 1)
    opening = condition is not None and sentence[before:condition.start()].strip(" -").lower() in ("", "and", "but", "so", "or")
    return condition if opening else None


def _denied(text: str, start: int, end: int) -> bool:
    """``is_negated``, except that a withholding verb's scope ends at a comma: in "omeprazole, stop
    the ibuprofen, GP follow-up in a week" the follow-up is arranged (a level of care is never
    what "stop" or "hold" lists)."""
    if not is_negated(text, start, end):
        return False
    low, _ = clause_bounds(text, start, end)
    comma = text.rfind(",", low, start)
    if comma < 0 or NEGATION.search(text, comma, start):
        return True
    cues = [m.group() for m in NEGATION.finditer(text, low, comma)]
    if not cues or not all(_WITHHOLDING.fullmatch(cue) for cue in cues):
        return True
    return is_negated(text[comma + 1:], start - comma - 1, end - comma - 1)


def _past(sentence: str, start: int, end: int) -> bool:
    """Care the patient had before (``_HISTORY_BEFORE``, ``_HISTORY_JUST_BEFORE``, ``_COURSE``, ``_HISTORY_AFTER``)."""
    low, high = clause_bounds(sentence, start, end)
    return (_HISTORY_BEFORE.search(sentence, low, start) is not None
            or _HISTORY_JUST_BEFORE.search(sentence, max(low, start - 30), start) is not None
            or _COURSE.search(sentence, max(0, start - 40), start) is not None
            or _HISTORY_AFTER.match(sentence, end, high) is not None)


def _set_aside(sentence: str, start: int, end: int) -> bool:
    """Care weighed and set aside in the sentence (``_WEIGHED`` near it, ``_SET_ASIDE`` after it), refused
    or only to be thought about (``_NOT_TAKEN_UP``)."""
    weighed = (_WEIGHED.search(sentence, max(0, start - _WEIGHED_REACH), start)
               or _WEIGHED.match(sentence, end, min(len(sentence), end + 20)) or _WEIGHED.search(
                   sentence, end, min(len(sentence), end + 20)))
    return (weighed is not None and _SET_ASIDE.search(sentence, end) is not None) or _NOT_TAKEN_UP.search(
        sentence, max(0, start - _WEIGHED_REACH), start) is not None


def _not_today(sentence: str, start: int, end: int, level: Level) -> bool:
    """A same-day or "urgent ..." mention in a clause about a letter, a routine or an outpatient pathway."""
    if level != Level.SAME_DAY and not sentence[start:end].lower().startswith("urgent"):
        return False
    low, high = clause_bounds(sentence, start, end)
    return _NOT_TODAY.search(sentence, low, high) is not None and _TODAY.search(sentence, low, high) is None


def _affirmed(sentence: str, start: int, end: int, level: Level) -> bool:
    """Whether the mention ``sentence[start:end]`` arranges its level: neither denied nor safety-netting.
    Both are read in a window of ``WINDOW`` characters around it, so that a run-on "sentence" of
    repeated phrases costs linear time; a clause is far shorter in any real plan."""
    low, high = max(0, start - WINDOW), min(len(sentence), end + WINDOW)
    return _affirmed_in_window(sentence[low:high], start - low, end - low, level)


@lru_cache(maxsize=4096)
def _affirmed_in_window(text: str, start: int, end: int, level: Level) -> bool:
    """``_affirmed`` on one window (memoised: a repeated phrase gives repeated windows)."""
    return not (_denied(text, start, end) or _safety_net(text, start, end, level) or _past(text, start, end)
                or _set_aside(text, start, end) or _not_today(text, start, end, level))


@lru_cache(maxsize=8192)
def _statements(plan: str) -> tuple[str, ...]:
    """The plan's sentences that state something (questions state nothing, nor the lines under a
    heading of warning signs), split once per plan."""
    return tuple(s for line in _outside_advice(plan.translate(APOSTROPHES)) for s in sentences(line)
                 if not is_question(s))


def _outside_advice(plan: str) -> list[str]:
    """The plan's lines without its headings and without the block under a heading of warning signs
    ("### Return advice", "**Safety net:**"), which runs to the next heading."""
    kept, advice = [], False
    for line in plan.split("\n"):
        if _HEADING.match(line):  # a heading arranges nothing; one of warning signs opens advice
            advice = _SAFETY_NET_HEADING.match(line) is not None
            continue
        if not advice:
            kept.append(line)
    return kept


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
    """Whether a case needing same-day, hospital or emergency care is sent home, to routine
    follow-up or to care at a later date: the plan arranges home, GP follow-up or an appointment
    put off ("outpatient endoscopy", "they'll see her next week") and nothing at or above same-day
    assessment. A bare referral ("refer to vascular") is not enough to call it unsafe: its urgency
    often goes unwritten."""
    levels = plan_levels(plan)
    if CASE_LEVEL[disposition] < Level.SAME_DAY or max(levels, default=Level.HOME) >= Level.SAME_DAY:
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
