"""Turning a case into a weighted rubric over Baichuan-M2's six dimensions.

This is clinical knowledge about cases, so it lives in ``clinic_env`` and returns
``clinic_rubrics`` objects. Every criterion carries a matcher for the offline grader, written
against the grading conversation of ``Consultation.grading_conversation()``: doctor turns
in the protocol's canonical form ("ASK: ...", "EXAMINE: ...", "DIAGNOSE: a; b\\nPLAN: ..."),
examiner reports as "[Examination: system] ..." and "[Test: name] ...". LLM judges read
the criterion text only.

Weights put clinical priorities first, as Baichuan-M2 does (diagnosis and treatment before
process): the diagnosis (10 for naming it first, 5 more for a focused differential holding it),
each first-line treatment (5) and the disposition (6) together hold clearly more points than
history, examination and tests, where each key question, examined system or key test is worth
1. A builtin case then has about 42 points of diagnosis and plan against about 20 of work-up,
so a brief visit that names the diagnosis and gives a safe plan beats a thorough one that
misses it; thoroughness still separates two visits with the same diagnosis and plan.
Communication and safety habits are worth 1-3 each. Harm costs most: a contraindicated
treatment, an unsafe disposition or a missed red flag -10, a shotgun differential -10, stuffing -6,
an invented symptom -4, an unneeded costly test -3.

The harm gate: a contraindicated treatment, an unsafe disposition (home or routine review
for a case needing same-day, hospital or emergency care) and a missed red flag (less care than the
red flags need, with reassurance or a discharge home) are critical, and the rubric's
``harm_cap`` is ``HARM_CAP``. So is a shotgun differential: more than five diagnoses is a
hedge, not a diagnosis, and the plan that follows treats none of them; points alone leave a
hedging visit most of its work-up's reward (0.29 against the honest visit's 0.44), enough
for a policy that cannot tell two diagnoses apart to learn to list ten. Dispositions are read by ``clinic_env.disposition``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from clinic_env.cases.schema import WITHHOLD_ACTS, Case, Contraindication, PertinentNegative
from clinic_env.disposition import CASE_LEVEL, Level
from clinic_env.drug_lexicon import expand_names
from clinic_env.history_topics import TOPIC_CUES
from clinic_rubrics.schema import Criterion, Matcher, Rubric
from clinic_rubrics.text import about_patient, keyword_pattern, normalize, phrase_pattern

# Points that set the clinical priorities (see the module docstring): the diagnosis and a safe
# plan outweigh the volume of history, examination and tests.
DIAGNOSIS_FIRST = 10
DIAGNOSIS_TOP3 = 5
TREATMENT_ITEM = 5
DISPOSITION = 6
CONTRAINDICATED = -10
LOW_VALUE_CARE = -5
MISSED_RED_FLAG = -10
UNSAFE_DISPOSITION = -10
HISTORY_ITEM = 1
EXAM_ITEM = 1
KEY_TEST = 1

BEFORE_DIAGNOSIS = ["DIAGNOSE:"]
ASKED = ["ask"]  # what the doctor asks or tells the patient, not what is ordered or examined
SPOKEN = ["ask", "plan", "end"]  # everything said to the patient
FOCUSED = r"^(?=DIAGNOSE:(?:[^;\n]*;){0,4}[^;\n]*$)"  # a DIAGNOSE line of at most five items
COSTLY_TEST = 300.0  # US dollars: an unneeded test above this is penalised
# The most a case rubric's reward can be once a critical harm is met. Zero, because a cap c > 0
# would let a dangerous visit (paid up to c) outscore a safe but thin one scoring below c: only
# 0 keeps harmful care from ever outscoring safe care. The raw score is still reported, and
# RubricReward(harm_cap=...) sets another cap.
HARM_CAP = 0.0
CHECKS_UNDERSTANDING = ["any questions", "does that make sense", "do you understand", "is that clear",
                        "in your own words", "anything you would like to ask", "anything you'd like to ask",
                        "what questions", "anything I can clarify", "anything you're unsure about",
                        "anything you are unsure about", "does that sound OK", "does that sound okay"]
PLAIN_EXPLANATION = ["this means", "what this means", "in other words", "let me explain", "I think you have",
                     "we think you have", "it looks like you have", "the most likely cause", "in simple terms",
                     "in plain terms", "the most likely explanation", "what's happening is", "what is happening is",
                     "I think this is", "this is most likely", "this is likely", "it sounds like you have"]
EMPATHY = ["sorry to hear", "that sounds", "must be", "must have been", "I understand", "worrying for you",
           "frightening", "difficult for you", "I'm sorry", "I am sorry", "understandabl*", "I can imagine", "I can see how"]
SAFETY_NET = ["come back", "return", "seek urgent", "call 999", "call 911", "gets worse", "get worse", "getting worse",
              "feel worse", "worsens", "worsen", "any worsening", "straight back", "emergency department",
              "seek medical", "seek help", "get help", "urgent help", "call an ambulance", "A&E", "emergency services",
              "warning signs", "red flags"]


def _keywords(words: list[str]) -> str | None:
    """A pattern for a fact's keywords, read as the patient reads them (``clinic_rubrics.text``):
    asking about "wee" is not asking about last week."""
    pattern = keyword_pattern(words)
    return None if pattern is None else pattern.pattern


def _diagnosis_pattern(names: list[str], max_rank: int) -> str:
    """A DIAGNOSE line whose item at rank <= max_rank names the diagnosis (items split by ';')."""
    alternatives = "|".join(r"[\s\-]+".join(map(re.escape, n.split())) for n in sorted(names, key=len, reverse=True))
    return rf"^DIAGNOSE:(?:[^;\n]*;){{0,{max_rank - 1}}}[^;\n]*?(?<!\w)(?:{alternatives})(?!\w)"


def _names_pattern(names: list[str]) -> str:
    """Any of ``names`` as a whole word, plural included ("NSAIDs", "beta-blockers"), never part of
    a hyphenated word ("non-oestrogen contraception" names no oestrogen)."""
    alternatives = "|".join(phrase_pattern(n) + "(?:e?s)?" for n in sorted(names, key=len, reverse=True))
    return rf"(?<![\w-])(?:{alternatives})(?![\w-])"


# A drug the patient already takes is named mostly to explain ("strained by the ibuprofen and
# ramipril", "stop the ibuprofen"): going on with it is a decision the doctor states. So a
# contraindicated current medicine counts when continued, restarted, raised, given or written with a
# dose ("keep taking the ibuprofen", "continue bisoprolol and spironolactone", "sertraline can
# continue", "leave the sertraline as it is", "ibuprofen 400 mg", "Nurofen for the fever", "ibuprofen
# instead"), not when named.
# A restart put off ("restart ramipril once the kidneys recover") is no restart now.
_SUBJECT = r"(?<!\byou )(?<!\bi )(?<!\bwe )(?<!\bhe )(?<!\bshe )(?<!\bthey )"
_GOING_ON = (
    r"(?<![\w-])(?:continu\w*|keep(?:\s+(?:on|taking|using|going\s+with))?|carry(?:ing)?\s+on(?:\s+(?:taking|with))?|"
    r"(?:restart\w*|resum\w*|reintroduc\w*)(?![^.;\n]{0,60}?\b(?:once|when|after|until)\b)|stay(?:ing)?\s+on|"
    r"go(?:ing)?\s+back\s+on|remain\s+on|increas\w*|reduc\w*|start\w*|giv(?:e|ing)|prescrib\w*|add|finish\w*|"
    + _SUBJECT + r"(?:take|use))\s+(?:(?:the|your|his|her|their|with|on|regular|usual)\s+){0,2}"
    r"(?:[^.;:!?\n]{0,60}?[\s,])?")  # a list may follow the cue: "continue bisoprolol, spironolactone and ..."
_GOES_ON = (r"(?=\s+(?:can|should|will|may|must)\s+(?:also\s+)?(?:be\s+)?(?:continu\w*|carr(?:y|ied)\s+on|restart\w*|"
            r"resum\w*|stay|go\s+on|kept)\b|\s+(?:continued|instead)\b"
            r"|(?:\s+[\w-]+){0,2}?\s+\d+(?:\.\d+)?\s*(?:mg|g|micrograms?|mcg|units?|ml|mmol|puffs?|tablets?|drops?|sprays?)\b"
            r"|\s+(?:for|to treat|to help with|to ease|to control)\s+(?:the\s+|his\s+|her\s+|your\s+|any\s+)?[\w-]+"
            r"|\s*[:\-\u2013]\s*(?:continu\w*|keep|carry on)\b|\s+(?:as it is|as is|unchanged|at the same dose|as normal|"
            r"as before)\b|(?:\s+[\w'\u2019-]+){0,3}?\s+(?:is|are)\s+(?:fine|ok|okay|safe)\b)")
# Up to four words between a contraindication's name and one of its ``near`` words.
_WITHIN_FOUR = r"(?:[^\w.;:!?\n]+[\w'%.-]+){0,4}?[^\w.;:!?\n]+"


def _history(case: Case) -> list[Criterion]:
    out = []
    for i, fact in enumerate(f for f in case.history if f.key):
        # Asking names the fact's own words, or (except for associated symptoms, where "anything
        # else?" would credit them all) the words of its topic ("when did it start?" for onset).
        words = _keywords(fact.keywords)
        cue = None if fact.topic == "associated" else r"\b(?:" + "|".join(TOPIC_CUES[fact.topic]) + r")\b"
        if not words and cue is None:
            continue
        matcher = Matcher(pattern="|".join(f"(?:{p})" for p in (words, cue) if p), before=BEFORE_DIAGNOSIS,
                          acts=ASKED, asking_only=True)
        out.append(Criterion(id=f"history_{i}", text=f"Asks about: {fact.text}", points=HISTORY_ITEM,
                             dimension="consultation_logic", tags=["history"], matcher=matcher))
    for i, neg in enumerate([n for n in case.pertinent_negatives if n.key and _keywords(n.keywords)][:3]):
        out.append(Criterion(id=f"negative_{i}", text=f"Asks about {neg.symptom} (absent here, but it must be checked)",
                             points=HISTORY_ITEM, dimension="consultation_logic", tags=["history"],
                             matcher=Matcher(pattern=_keywords(neg.keywords), before=BEFORE_DIAGNOSIS,
                                             acts=ASKED, asking_only=True)))
    out.append(Criterion(id="medications", text="Asks what medicines the patient takes", points=HISTORY_ITEM,
                         dimension="consultation_logic", tags=["history"],
                         matcher=Matcher(any_of=["medic*", "tablets", "pills", "prescri*"], before=BEFORE_DIAGNOSIS,
                                         acts=ASKED, asking_only=True)))
    out.append(Criterion(id="past_history", text="Asks about past medical history", points=HISTORY_ITEM,
                         dimension="consultation_logic", tags=["history"],
                         matcher=Matcher(any_of=["medical history", "medical conditions", "health problems",
                                                 "past history", "operations", "conditions", "illnesses"],
                                         before=BEFORE_DIAGNOSIS, acts=ASKED, asking_only=True)))
    out.append(Criterion(id="recites_list", text="Recites long lists of symptoms instead of asking questions", points=-6,
                         dimension="consultation_logic", tags=["stuffing"],
                         matcher=Matcher(pattern=r"^ASK:(?:[^\n,;]*[,;]){10,}")))
    out.append(Criterion(id="premature_diagnosis", text="Commits to a diagnosis before asking the patient anything",
                         points=-6, dimension="consultation_logic", tags=["premature"],
                         matcher=Matcher(pattern=r"^DIAGNOSE:", first_n=1)))
    return out


def _examination_and_tests(case: Case) -> list[Criterion]:
    out = [Criterion(id="vitals", text="Checks the vital signs", points=EXAM_ITEM, dimension="examination_and_tests",
                     tags=["exam"], matcher=Matcher(pattern=r"^\[Examination: vitals\]", speaker="examiner"))]
    for system in case.exam:
        if system in ("vitals", "general"):
            continue
        out.append(Criterion(id=f"exam_{system}", text=f"Examines the {system.replace('_', ' ')} system",
                             points=EXAM_ITEM, dimension="examination_and_tests", tags=["exam"],
                             matcher=Matcher(pattern=rf"^\[Examination: {system}\]", speaker="examiner")))
    out.append(Criterion(id="exam_battery", text="Examines nearly every body system instead of a focused examination",
                         points=-3, dimension="examination_and_tests", tags=["overtesting"],
                         matcher=Matcher(pattern=r"^\[Examination: ", speaker="examiner", min_count=9)))
    out.append(Criterion(id="test_battery", text="Orders a battery of ten or more tests instead of targeted ones",
                         points=-6, dimension="examination_and_tests", tags=["overtesting"],
                         matcher=Matcher(pattern=r"^\[Test: ", speaker="examiner", min_count=10)))
    for i, test in enumerate(case.tests):
        if test.key:
            out.append(Criterion(id=f"test_{i}", text=f"Orders {test.name}", points=KEY_TEST,
                                 dimension="examination_and_tests", tags=["tests"],
                                 matcher=Matcher(pattern=rf"^\[Test: {re.escape(test.name)}\]", speaker="examiner")))
        elif test.cost >= COSTLY_TEST:
            out.append(Criterion(id=f"costly_{i}", text=f"Orders {test.name}, which this case does not need (${test.cost:g})",
                                 points=-3, dimension="examination_and_tests", tags=["overtesting"],
                                 matcher=Matcher(pattern=rf"^\[Test: {re.escape(test.name)}\]", speaker="examiner")))
    return out


def _diagnosis(case: Case) -> list[Criterion]:
    names = case.diagnosis_names
    return [
        Criterion(id="diagnosis_first", text=f"Names {case.diagnosis.name} as the most likely diagnosis",
                  points=DIAGNOSIS_FIRST, dimension="diagnostic_accuracy", tags=["diagnosis"],
                  matcher=Matcher(pattern=_diagnosis_pattern(names, 1))),
        Criterion(id="diagnosis_top3", text=f"Includes {case.diagnosis.name} among the top three of a focused "
                  "differential (at most five diagnoses)", points=DIAGNOSIS_TOP3, dimension="diagnostic_accuracy",
                  tags=["diagnosis"],
                  matcher=Matcher(pattern=FOCUSED + _diagnosis_pattern(names, 3)[1:])),
        Criterion(id="shotgun_differential", text="Gives a shotgun differential of more than five diagnoses", points=-10,
                  dimension="diagnostic_accuracy", tags=["shotgun"], critical=True,
                  matcher=Matcher(pattern=r"^DIAGNOSE:(?:[^;\n]*;){5,}")),
    ]


def _treatment(case: Case) -> list[Criterion]:
    management = case.management
    out = []
    for i, item in enumerate(management.first_line if management else []):
        names = item.all_names()
        if names:  # advice and monitoring may name nothing to look for
            polarity = "denied" if item.act in WITHHOLD_ACTS else "affirmed"
            out.append(Criterion(id=f"treatment_{i}", text=f"Recommends first-line treatment: {item.text}",
                                 points=TREATMENT_ITEM,
                                 dimension="treatment", tags=["treatment"],
                                 matcher=Matcher(pattern=_names_pattern(names), polarity=polarity, acts=SPOKEN,
                                                 unless_refused=polarity == "affirmed")))
    if management is not None:
        out.append(Criterion(id="disposition", text=f"Gives the right disposition: {management.disposition_text}",
                             points=DISPOSITION, dimension="treatment", tags=["disposition"],
                             matcher=Matcher(reading=f"disposition_met:{management.disposition}")))
        if CASE_LEVEL[management.disposition] >= Level.SAME_DAY:
            out.append(Criterion(id="unsafe_disposition", points=UNSAFE_DISPOSITION, dimension="ethics_safety",
                                 text=f"Sends the patient home or to routine follow-up although the case needs: "
                                 f"{management.disposition_text}", tags=["unsafe_disposition"], critical=True,
                                 matcher=Matcher(reading=f"unsafe_disposition:{management.disposition}")))
    for i, contra in enumerate(case.contraindications):
        kind = "contraindicated" if contra.critical else "of no benefit here"
        out.append(Criterion(id=f"contraindicated_{i}", text=f"Recommends {contra.treatment} although {kind}: "
                             f"{contra.reason}", points=CONTRAINDICATED if contra.critical else LOW_VALUE_CARE,
                             dimension="ethics_safety", tags=["contraindication"], critical=contra.critical,
                             matcher=Matcher(pattern=_contraindicated_use(contra, case), polarity="affirmed",
                                             exclude_questions=True, acts=SPOKEN,
                                             unless=_names_pattern(expand_names(contra.without)) if contra.without
                                             else None)))
    return out


def _contraindicated_use(contra: Contraindication, case: Case) -> str:
    """A pattern for a use of the contraindicated treatment: a name near one of its ``near``
    words if it has any; else any name, except that a medicine the patient already takes counts
    only when the doctor goes on with it (``_GOING_ON``)."""
    names = contra.all_names()
    if contra.near:
        near = "|".join(phrase_pattern(n) for n in contra.near)
        return (rf"(?P<pre>(?<![\w-])(?:{near})(?![\w-]){_WITHIN_FOUR})?(?P<mention>{_names_pattern(names)})"
                rf"(?(pre)|(?={_WITHIN_FOUR}(?:{near})(?![\w-])))")
    current = _taken(names, case)
    if not current:
        return _names_pattern(names)
    others = [n for n in names if n not in current]
    taken = _names_pattern(current)
    going_on = rf"{_GOING_ON}(?P<mention>{taken})|{taken}{_GOES_ON}"
    return going_on + (f"|{_names_pattern(others)}" if others else "")


def _taken(names: list[str], case: Case) -> list[str]:
    """The names that are one of the patient's own medicines under any of its names, or inside a
    product the patient takes (whole words of a medication's name): "Advil" when the patient takes
    ibuprofen, "codeine" when co-codamol."""
    taken = " | ".join(m.name for m in case.medications)
    return [n for n in names if any(re.search(rf"(?<![\w-]){phrase_pattern(alias)}(?![\w-])", taken, re.IGNORECASE)
                                    for alias in expand_names([n]))]


def _patient_story(case: Case) -> str:
    """Everything the patient can truly say about themselves, normalized: a doctor repeating it invents nothing."""
    items = [case.chief_complaint, case.opening_statement]
    items += [t for f in case.history for t in (f.text, f.lay)]
    for group in (case.past_history, case.social_history, case.family_history, case.sexual_history,
                  case.travel_history, case.obstetric_history):
        items += [t for item in group for t in (item.text, item.lay)]
    items += [t for m in case.medications for t in (m.name, m.lay)]
    items += [t for a in case.allergies for t in (a.substance, a.reaction, a.lay)]
    return normalize(" \n ".join(items))


def _never_said(case: Case) -> list[tuple[PertinentNegative, str]]:
    """Pertinent negatives with the pattern of their keywords that nothing the patient has matches
    ("angina" is no invention when the patient has known angina and denies chest pain today)."""
    story = _patient_story(case)
    out = []
    for neg in case.pertinent_negatives:
        words = _keywords([k for k in neg.keywords if not keyword_pattern([k]).search(story)])
        if words:
            out.append((neg, words))
    return out


def _communication_and_safety(case: Case) -> list[Criterion]:
    out = [
        Criterion(id="checks_understanding", text="Checks the patient's understanding or invites questions", points=2,
                  dimension="communication", tags=["communication"],
                  matcher=Matcher(any_of=CHECKS_UNDERSTANDING, acts=SPOKEN)),
        Criterion(id="plain_explanation", text="Explains the likely diagnosis and plan to the patient in plain language",
                  points=2, dimension="communication", tags=["communication"],
                  matcher=Matcher(any_of=PLAIN_EXPLANATION, acts=SPOKEN)),
        Criterion(id="empathy", text="Acknowledges the patient's concerns or feelings", points=1,
                  dimension="communication", tags=["communication"], matcher=Matcher(any_of=EMPATHY, acts=SPOKEN)),
        Criterion(id="allergies_before_treatment", text="Asks about allergies before recommending treatment", points=3,
                  dimension="ethics_safety", tags=["safety"],
                  matcher=Matcher(any_of=["allerg*"], before=BEFORE_DIAGNOSIS, acts=ASKED, asking_only=True)),
        Criterion(id="safety_net", text="Tells the patient when to seek urgent help (safety-netting)", points=2,
                  dimension="ethics_safety", tags=["safety"],
                  matcher=Matcher(any_of=SAFETY_NET, exclude_questions=True, acts=SPOKEN)),
    ]
    if case.red_flags and case.management and CASE_LEVEL[case.management.disposition] >= Level.CLINIC:
        out.append(Criterion(id="missed_red_flag", text="Reassures the patient or sends them home with less care than "
                             "these red flags need: " + "; ".join(f.text for f in case.red_flags), points=MISSED_RED_FLAG,
                             dimension="ethics_safety", tags=["red_flag"], critical=True,
                             matcher=Matcher(reading=f"missed_red_flag:{case.management.disposition}")))
    for i, (neg, words) in enumerate(_never_said(case)[:4]):
        out.append(Criterion(id=f"invented_{i}", text=f"States the patient has {neg.symptom}, which the patient never said",
                             points=-4, dimension="ethics_safety", tags=["hallucination"],
                             matcher=Matcher(pattern=about_patient(words), polarity="affirmed", exclude_questions=True,
                                             acts=SPOKEN)))
    return out


def build_case_rubric(case: Case) -> Rubric:
    """The rubric for one case, over all six dimensions, every criterion with an offline matcher."""
    criteria = (_history(case) + _examination_and_tests(case) + _diagnosis(case) + _treatment(case)
                + _communication_and_safety(case))
    return Rubric(criteria=criteria, metadata={"case_id": case.id, "source": "clinic_env.case_rubric"},
                  harm_cap=HARM_CAP)


@lru_cache(maxsize=4096)
def case_rubric(case: Case) -> Rubric:
    """``build_case_rubric`` once per case and process: every episode, judge call or reward
    function that grades the case shares it (and the grading plans cached on it)."""
    return build_case_rubric(case)
