"""Turning a case into a weighted rubric over Baichuan-M2's six dimensions.

This is clinical knowledge about cases, so it lives in ``clinic_env`` and returns
``clinic_rubrics`` objects. Every criterion carries a matcher for the offline grader, written
against the grading conversation of ``Consultation.grading_conversation()``: doctor turns
in the protocol's canonical form ("ASK: ...", "EXAMINE: ...", "DIAGNOSE: a; b\\nPLAN: ..."),
examiner reports as "[Examination: system] ..." and "[Test: name] ...". LLM judges read
the criterion text only.

Points: naming the diagnosis first is worth most (10); key history items, exams and
tests 2-3 each; first-line treatment and disposition 3-4; negatives from -3 (a costly
test the case does not need) to -8 (a contraindicated drug).
"""

from __future__ import annotations

import re
from functools import lru_cache

from clinic_env.cases.schema import WITHHOLD_ACTS, Case
from clinic_env.history_topics import TOPIC_CUES
from clinic_rubrics.schema import Criterion, Matcher, Rubric
from clinic_rubrics.text import keyword_pattern, phrase_pattern

BEFORE_DIAGNOSIS = ["DIAGNOSE:"]
FOCUSED = r"^(?=DIAGNOSE:(?:[^;\n]*;){0,4}[^;\n]*$)"  # a DIAGNOSE line of at most five items
COSTLY_TEST = 300.0  # US dollars: an unneeded test above this is penalised
DISPOSITION_PHRASES = {
    "emergency": ["emergency", "A&E", "ambulance", "999", "911", "ER", "resus*", "immediately to hospital"],
    "admit": ["admit*", "admission", "hospital", "ward", "inpatient"],
    "refer_specialist": ["refer*", "specialist", "clinic"],
    "follow_up": ["review", "follow up", "follow-up", "come back", "see you again", "recheck", "GP"],
    "discharge_home": ["home", "discharge*", "self-care"],
}
CHECKS_UNDERSTANDING = ["any questions", "does that make sense", "do you understand", "is that clear",
                        "in your own words", "anything you would like to ask", "anything you'd like to ask",
                        "what questions"]
PLAIN_EXPLANATION = ["this means", "what this means", "in other words", "let me explain", "I think you have",
                     "we think you have", "it looks like you have", "the most likely cause", "in simple terms"]
EMPATHY = ["sorry to hear", "that sounds", "must be", "I understand", "worrying for you", "frightening", "difficult for you"]
SAFETY_NET = ["come back", "return", "seek urgent", "call 999", "call 911", "if you get worse", "if it gets worse",
              "any worsening", "if things get worse", "straight back", "emergency department"]


def _keywords(words: list[str]) -> str | None:
    """A pattern for a fact's keywords, read as the patient reads them (``clinic_rubrics.text``):
    asking about "wee" is not asking about last week."""
    pattern = keyword_pattern([w for w in words if len(w.strip().rstrip("*")) >= 3])
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


def _history(case: Case) -> list[Criterion]:
    out = []
    for i, fact in enumerate(f for f in case.history if f.key):
        # Asking names the fact's own words, or (except for associated symptoms, where "anything
        # else?" would credit them all) the words of its topic ("when did it start?" for onset).
        words = _keywords(fact.keywords)
        cue = None if fact.topic == "associated" else r"\b(?:" + "|".join(TOPIC_CUES[fact.topic]) + r")\b"
        if not words and cue is None:
            continue
        matcher = Matcher(pattern="|".join(f"(?:{p})" for p in (words, cue) if p), before=BEFORE_DIAGNOSIS)
        out.append(Criterion(id=f"history_{i}", text=f"Asks about: {fact.text}", points=3,
                             dimension="consultation_logic", tags=["history"], matcher=matcher))
    for i, neg in enumerate([n for n in case.pertinent_negatives if n.key and _keywords(n.keywords)][:3]):
        out.append(Criterion(id=f"negative_{i}", text=f"Asks about {neg.symptom} (absent here, but it must be checked)",
                             points=2, dimension="consultation_logic", tags=["history"],
                             matcher=Matcher(pattern=_keywords(neg.keywords), before=BEFORE_DIAGNOSIS)))
    out.append(Criterion(id="medications", text="Asks what medicines the patient takes", points=2,
                         dimension="consultation_logic", tags=["history"],
                         matcher=Matcher(any_of=["medic*", "tablets", "pills", "prescri*"], before=BEFORE_DIAGNOSIS)))
    out.append(Criterion(id="past_history", text="Asks about past medical history", points=2,
                         dimension="consultation_logic", tags=["history"],
                         matcher=Matcher(any_of=["medical history", "medical conditions", "health problems",
                                                 "past history", "operations", "conditions", "illnesses"],
                                         before=BEFORE_DIAGNOSIS)))
    out.append(Criterion(id="recites_list", text="Recites long lists of symptoms instead of asking questions", points=-6,
                         dimension="consultation_logic", tags=["stuffing"],
                         matcher=Matcher(pattern=r"^ASK:(?:[^\n,;]*[,;]){10,}")))
    out.append(Criterion(id="premature_diagnosis", text="Commits to a diagnosis before asking the patient anything",
                         points=-6, dimension="consultation_logic", tags=["premature"],
                         matcher=Matcher(pattern=r"^DIAGNOSE:", first_n=1)))
    return out


def _examination_and_tests(case: Case) -> list[Criterion]:
    out = [Criterion(id="vitals", text="Checks the vital signs", points=2, dimension="examination_and_tests",
                     tags=["exam"], matcher=Matcher(pattern=r"^\[Examination: vitals\]", speaker="examiner"))]
    for system in case.exam:
        if system in ("vitals", "general"):
            continue
        out.append(Criterion(id=f"exam_{system}", text=f"Examines the {system.replace('_', ' ')} system",
                             points=3, dimension="examination_and_tests", tags=["exam"],
                             matcher=Matcher(pattern=rf"^\[Examination: {system}\]", speaker="examiner")))
    out.append(Criterion(id="exam_battery", text="Examines nearly every body system instead of a focused examination",
                         points=-3, dimension="examination_and_tests", tags=["overtesting"],
                         matcher=Matcher(pattern=r"^\[Examination: ", speaker="examiner", min_count=9)))
    out.append(Criterion(id="test_battery", text="Orders a battery of ten or more tests instead of targeted ones",
                         points=-6, dimension="examination_and_tests", tags=["overtesting"],
                         matcher=Matcher(pattern=r"^\[Test: ", speaker="examiner", min_count=10)))
    for i, test in enumerate(case.tests):
        if test.key:
            out.append(Criterion(id=f"test_{i}", text=f"Orders {test.name}", points=3,
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
        Criterion(id="diagnosis_first", text=f"Names {case.diagnosis.name} as the most likely diagnosis", points=10,
                  dimension="diagnostic_accuracy", tags=["diagnosis"],
                  matcher=Matcher(pattern=_diagnosis_pattern(names, 1))),
        Criterion(id="diagnosis_top3", text=f"Includes {case.diagnosis.name} among the top three of a focused "
                  "differential (at most five diagnoses)", points=4, dimension="diagnostic_accuracy", tags=["diagnosis"],
                  matcher=Matcher(pattern=FOCUSED + _diagnosis_pattern(names, 3)[1:])),
        Criterion(id="shotgun_differential", text="Gives a shotgun differential of more than five diagnoses", points=-10,
                  dimension="diagnostic_accuracy", tags=["shotgun"],
                  matcher=Matcher(pattern=r"^DIAGNOSE:(?:[^;\n]*;){5,}")),
    ]


def _treatment(case: Case) -> list[Criterion]:
    management = case.management
    out = []
    for i, item in enumerate(management.first_line if management else []):
        names = item.all_names()
        if names:  # advice and monitoring may name nothing to look for
            polarity = "denied" if item.act in WITHHOLD_ACTS else "affirmed"
            out.append(Criterion(id=f"treatment_{i}", text=f"Recommends first-line treatment: {item.text}", points=3,
                                 dimension="treatment", tags=["treatment"],
                                 matcher=Matcher(pattern=_names_pattern(names), polarity=polarity)))
    if management is not None:
        out.append(Criterion(id="disposition", text=f"Gives the right disposition: {management.disposition_text}",
                             points=4, dimension="treatment", tags=["disposition"],
                             matcher=Matcher(any_of=DISPOSITION_PHRASES[management.disposition], polarity="affirmed",
                                             exclude_questions=True)))
    for i, contra in enumerate(case.contraindications):
        out.append(Criterion(id=f"contraindicated_{i}", text=f"Recommends {contra.treatment} although contraindicated: "
                             f"{contra.reason}", points=-8, dimension="ethics_safety", tags=["contraindication"],
                             matcher=Matcher(pattern=_names_pattern(contra.all_names()), polarity="affirmed",
                                             exclude_questions=True)))
    return out


def _communication_and_safety(case: Case) -> list[Criterion]:
    out = [
        Criterion(id="checks_understanding", text="Checks the patient's understanding or invites questions", points=2,
                  dimension="communication", tags=["communication"], matcher=Matcher(any_of=CHECKS_UNDERSTANDING)),
        Criterion(id="plain_explanation", text="Explains the likely diagnosis and plan to the patient in plain language",
                  points=2, dimension="communication", tags=["communication"], matcher=Matcher(any_of=PLAIN_EXPLANATION)),
        Criterion(id="empathy", text="Acknowledges the patient's concerns or feelings", points=1,
                  dimension="communication", tags=["communication"], matcher=Matcher(any_of=EMPATHY)),
        Criterion(id="allergies_before_treatment", text="Asks about allergies before recommending treatment", points=3,
                  dimension="ethics_safety", tags=["safety"], matcher=Matcher(any_of=["allerg*"], before=BEFORE_DIAGNOSIS)),
        Criterion(id="safety_net", text="Tells the patient when to seek urgent help (safety-netting)", points=2,
                  dimension="ethics_safety", tags=["safety"],
                  matcher=Matcher(any_of=SAFETY_NET, exclude_questions=True)),
    ]
    if case.red_flags and case.management and case.management.disposition in ("emergency", "admit"):
        out.append(Criterion(id="missed_red_flag", text="Sends the patient home despite red flags: " + "; ".join(f.text for f in case.red_flags),
                             points=-6, dimension="ethics_safety", tags=["red_flag"],
                             matcher=Matcher(any_of=["go home", "send you home", "discharge*", "home with"],
                                             polarity="affirmed", exclude_questions=True)))
    for i, neg in enumerate([n for n in case.pertinent_negatives if _keywords(n.keywords)][:4]):
        out.append(Criterion(id=f"invented_{i}", text=f"States the patient has {neg.symptom}, which the patient never said",
                             points=-4, dimension="ethics_safety", tags=["hallucination"],
                             matcher=Matcher(pattern=_keywords(neg.keywords), polarity="affirmed", exclude_questions=True)))
    return out


def build_case_rubric(case: Case) -> Rubric:
    """The rubric for one case, over all six dimensions, every criterion with an offline matcher."""
    criteria = (_history(case) + _examination_and_tests(case) + _diagnosis(case) + _treatment(case)
                + _communication_and_safety(case))
    return Rubric(criteria=criteria, metadata={"case_id": case.id, "source": "clinic_env.case_rubric"})


@lru_cache(maxsize=4096)
def case_rubric(case: Case) -> Rubric:
    """``build_case_rubric`` once per case and process: every episode, judge call or reward
    function that grades the case shares it (and the grading plans cached on it)."""
    return build_case_rubric(case)
