"""The scripted baseline doctor: its knowledge base, its reading of text, and whole consultations.

Consultations run through the Gymnasium env on the builtin splits; the file takes a few seconds.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import gymnasium as gym
import pytest

import clinic_env  # noqa: F401  (registers the env)
from clinic_agents import knowledge_base as kb
from clinic_agents import scripted_doctor as sd
from clinic_agents.scripted_doctor import ScriptedDoctor, is_bare_denial, prior, read, read_patient, strip_report
from clinic_env.actions import Ask, Diagnose, Examine, OrderTests, parse_action
from clinic_env.cases.library import load_cases
from clinic_env.cases.schema import Specialty
from clinic_env.doctor import Doctor
from clinic_env.exam_systems import EXAM_SYSTEMS, resolve_system
from clinic_env.history_topics import SECTION_PATTERNS, TOPIC_PATTERNS
from clinic_env.investigations import lookup
from clinic_env.patient.offline import JARGON

SPECIALTIES = {"ent", "ophthalmology", "geriatrics", "cardiology", "pulmonology", "gastroenterology", "neurology", "endocrinology", "infectious_disease",
               "paediatrics", "obstetrics_gynaecology", "psychiatry", "dermatology", "emergency", "nephrology_urology",
               "rheumatology", "haematology"}
DISPOSITIONS = {"discharge_home", "follow_up", "refer_specialist", "same_day", "admit", "emergency"}
TEST_CASES = [case.id for case in load_cases(split="test")]
TRAIN_CASES = [case.id for case in load_cases(split="train")]


class UninformativePatient:
    """A patient who says nothing useful: the doctor has only the exam and the tests to go on."""

    def reset(self, profile, persona, seed=None, *, forbidden_names=()) -> str:
        return "I don't know."

    def reply(self, doctor_message, messages) -> str:
        return "I don't know."


def run_episode(env: gym.Env, doctor, case_id: str, seed: int, scrub_info: bool = False):
    """One consultation: the doctor's actions and the final info."""
    observation, info = env.reset(seed=seed, options={"case_id": case_id})
    doctor.reset(seed=seed)
    actions = []
    while True:
        shown = {"messages": info["messages"]} if scrub_info else info
        action = doctor.act(observation, shown)
        actions.append(action)
        observation, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return actions, info


def run_split(split: str, patient=None) -> list[tuple[str, list[str], dict]]:
    env = gym.make("clinic_env/Consultation-v0", split=split, reward="diagnosis_match", **({"patient": patient} if patient else {}))
    doctor = ScriptedDoctor()
    runs = []
    for seed in (0, 1):
        for k, case_id in enumerate(TEST_CASES if split == "test" else TRAIN_CASES):
            actions, info = run_episode(env, doctor, case_id, seed * 1000 + k)
            runs.append((case_id, actions, info))
    return runs


def mean_score(runs) -> float:
    return sum(info["score"] for _, _, info in runs) / len(runs)


@pytest.fixture(scope="module")
def test_runs():
    return run_split("test")


@pytest.fixture(scope="module")
def train_runs():
    return run_split("train")


# ---- the knowledge base ----------------------------------------------------------------------


def test_knowledge_base_is_small_broad_and_well_formed():
    assert 90 <= len(kb.CONDITIONS) <= 110  # one entry per condition of the builtin library, about
    assert SPECIALTIES <= {c.specialty for c in kb.CONDITIONS} <= set(get_args(Specialty))
    names = [c.name for c in kb.CONDITIONS]
    assert len(set(names)) == len(names)
    for c in kb.CONDITIONS:
        assert 5 <= len(c.features) <= 10 and c.symptoms, c.name
        assert 1 <= len(c.exam) <= 3 and set(c.exam) <= set(EXAM_SYSTEMS), c.name
        assert 2 <= len(c.tests) <= 4 and all(lookup(t) is not None and lookup(t).name == t for t in c.tests), c.name
        assert c.plan and c.disposition in DISPOSITIONS, c.name
        assert c.ages[0] < c.ages[1] and c.sex in (None, "male", "female") and c.pregnancy in (None, "required")
        for keys, weight in c.features:
            assert keys and weight > 0, c.name
            assert all(k == k.lower() and k.strip() and not k.startswith(" ") for k in keys), (c.name, keys)


def test_targeted_questions_use_plain_words():
    """A patient with low health literacy asks what jargon means, so the asked-about words are lay ones."""
    for c in kb.CONDITIONS:
        for keys, _ in c.symptoms:
            assert JARGON.search(keys[0]) is None, (c.name, keys[0])


def test_scripted_questions_reach_the_topics_and_sections_they_ask_about():
    for wordings in sd.OPQRST + sd.OTHER_SYMPTOMS:
        for question in wordings:
            assert any(p.search(question) for p in TOPIC_PATTERNS.values()), question
    sections = {sd.PAST_HISTORY: "past_history", sd.MEDICINES: "medications", sd.ALLERGIES: "allergies",
                sd.SOCIAL: "social", sd.SOCIAL_CHILD: "social", sd.FAMILY: "family", sd.PERIODS: "obstetric",
                sd.PREGNANCY: "obstetric"}
    for question, section in sections.items():
        # A topic cue would be answered first and hide the section, so there must be none.
        assert SECTION_PATTERNS[section].search(question), question
        assert not any(p.search(question) for p in TOPIC_PATTERNS.values()), question


# ---- reading text ----------------------------------------------------------------------------


def test_a_denied_symptom_does_not_count():
    yes, no = read("No, I haven't had any fever.")
    assert "fever" not in yes and "fever" in no
    yes, no = read("I haven't noticed a temperature, and I don't feel sick.")
    assert not {"a temperature", "feel sick"} & yes and {"a temperature", "feel sick"} <= no
    yes, no = read("I've had a fever since Tuesday.")
    assert "fever" in yes and "fever" not in no


def test_a_denial_reaches_only_its_own_clause():
    yes, no = read("I've been coughing but no fever.")
    assert "cough" in yes and "fever" in no
    yes, no = read("No cough. I've had a fever though.")
    assert "fever" in yes and "cough" in no


def test_denials_read_as_the_grader_reads_them():
    """The doctor reads patients with clinic_rubrics.text, as the grader reads doctors."""
    _, no = read("Nobody in the family has had bowel cancer.")
    assert "bowel cancer" in no
    yes, _ = read("I can't get my breath, doctor.")  # an inability is the symptom
    assert "get my breath" in yes
    yes, no = read("I haven't been able to pass water since last night, and my lower tummy is agony.")
    assert "lower tummy" in yes and "lower tummy" not in no


def test_keywords_match_where_words_start():
    yes, _ = read("I'm so tired and achy.")
    assert "red and" not in yes and "tired" in yes
    yes, _ = read("It's red and hot to touch.")
    assert "red and" in yes and "hot to touch" in yes


def test_reports_read_as_text_with_normal_findings_denied():
    yes, no = read(strip_report("[Examination: respiratory] Chest clear; no crackles or wheeze."))
    assert not yes and "crackles" in no
    yes, _ = read(strip_report("[Examination: respiratory] Coarse crackles and bronchial breathing at the right base."))
    assert {"crackles", "bronchial breathing"} <= yes
    yes, _ = read(strip_report("[Test: urinalysis] Urine dipstick: negative for leucocytes, nitrites, blood [reference: All negative] (cost $5, 0.1 h)"))
    assert not yes
    yes, _ = read("Sinus rhythm 80/min; 3 mm ST elevation in II, III and aVF.")
    assert "st elevation" in yes
    yes, _ = read("Temperature 38.9°C, heart rate 112/min")
    assert {"temperature 38", "heart rate 1"} <= yes
    yes, _ = read("Temperature 36.8°C, heart rate 76/min, SpO2 98% on room air.")
    assert not yes


def test_bare_denials():
    assert is_bare_denial("No, nothing like that.")
    assert is_bare_denial("Nope.")
    assert not is_bare_denial("I'm not sure, doctor. Could you ask me that another way?")
    assert not is_bare_denial("Now that you mention it, yes.")


# ---- who the patient is, and priors ------------------------------------------------------------


def test_reads_age_sex_and_pregnancy_from_the_system_prompt():
    def patient(system: str):
        return read_patient([{"role": "system", "content": system}, {"role": "user", "content": "Hello"}])

    adult = patient("You are a doctor seeing a 58-year-old male.\nReply with one command.")
    assert (adult.age, adult.sex, adult.pregnant) == (58.0, "male", False)
    infant = patient("You are a doctor seeing a 4-month-old male, accompanied by their parent who answers for them.")
    assert infant.age == pytest.approx(4 / 12) and infant.sex == "male"
    assert patient("You are a doctor seeing a 33-year-old female (pregnant).").pregnant
    assert patient("No demographics here.") == sd.Patient()


def test_priors_rule_out_impossible_conditions():
    by_name = {c.name: c for c in kb.CONDITIONS}
    man, woman = sd.Patient(30, "male"), sd.Patient(30, "female")
    assert prior(by_name["Ectopic pregnancy"], man) < -50 < prior(by_name["Ectopic pregnancy"], woman)
    assert prior(by_name["Pre-eclampsia"], woman) < -50 < prior(by_name["Pre-eclampsia"], sd.Patient(30, "female", True))
    assert prior(by_name["Croup"], man) < 0 == prior(by_name["Croup"], sd.Patient(2, "male"))


# ---- the script --------------------------------------------------------------------------------


def play(reply, system: str = "You are a doctor seeing a 35-year-old male.", seed: int = 0):
    """A consultation against a function from the doctor's text to the observation."""
    doctor = ScriptedDoctor()
    doctor.reset(seed=seed)
    info = {"messages": [{"role": "system", "content": system}]}
    observation, actions = reply(""), []
    while not actions or not actions[-1].startswith("DIAGNOSE"):
        actions.append(doctor.act(observation, info))
        observation = reply(actions[-1])
    return doctor, actions


def test_targeted_questions_follow_the_leading_conditions_and_do_not_repeat():
    doctor = ScriptedDoctor()
    doctor.affirmed |= {"cough", "phlegm", "fever"}
    asked = []
    for _ in range(3):
        leaders = doctor.top(3)
        question = doctor._targeted_question()
        phrase = question.removeprefix("ASK: Have you had any ").removesuffix("?")
        feature = next(keys for c in leaders for keys, _ in c.symptoms if keys == doctor._targeted)
        assert feature[0].replace("my ", "your ") == phrase and not doctor._known(feature)
        asked.append(phrase)
        doctor._read("No, nothing like that.")  # the plain denial counts against what was asked
        assert feature[0] in doctor.denied
    assert len(set(asked)) == 3


def test_family_history_and_allergies_are_not_the_patients_symptoms():
    def reply(action: str) -> str:
        if "family" in action or "allergies" in action:
            return "My father had a stroke; my lips swell up with penicillin."
        return "I'm not sure, doctor."

    doctor, _ = play(reply)
    assert not doctor.affirmed & {"swollen lips", "lips swell"}


def test_a_clear_story_leads_the_differential_and_the_plan():
    def reply(action: str) -> str:
        if action.startswith("EXAMINE"):
            return "[Examination: respiratory] Coarse crackles and bronchial breathing at the left base."
        if action.startswith("ORDER"):
            return "[Test: chest x-ray] Left lower lobe consolidation."
        return "I've had a cough with green phlegm and a high temperature for four days."

    _, actions = play(reply)
    final = parse_action(actions[-1])
    assert final.differential[0] == "Community-acquired pneumonia" and "amoxicillin" in final.plan
    assert "chest x-ray" in parse_action(next(a for a in actions if a.startswith("ORDER"))).tests


def test_women_of_childbearing_age_are_asked_about_periods_and_men_are_not():
    _, woman = play(lambda a: "I'm not sure.", "You are a doctor seeing a 28-year-old female.")
    _, man = play(lambda a: "I'm not sure.", "You are a doctor seeing a 28-year-old male.")
    _, pregnant = play(lambda a: "I'm not sure.", "You are a doctor seeing a 28-year-old female (pregnant).")
    assert f"ASK: {sd.PERIODS}" in woman and f"ASK: {sd.PERIODS}" not in man
    assert f"ASK: {sd.PREGNANCY}" in pregnant and len(woman) == len(man) + 1


# ---- whole consultations ------------------------------------------------------------------------


def test_follows_the_doctor_protocol():
    assert isinstance(ScriptedDoctor(), Doctor)


def test_completes_every_test_case_with_a_ranked_differential_and_a_plan(test_runs):
    assert len(test_runs) == 2 * len(TEST_CASES) > 0
    for case_id, actions, info in test_runs:
        parsed = [parse_action(a) for a in actions]
        final = parsed[-1]
        assert isinstance(final, Diagnose) and info["doctor_turns"] == len(actions) <= 28, case_id
        assert len(final.differential) == len(set(final.differential)) == 3 and final.plan, case_id
        assert all(isinstance(a, Ask) and a.text for a in parsed[:-3]), case_id
        exam, order = parsed[-3], parsed[-2]
        assert isinstance(exam, Examine) and all(resolve_system(s) for s in exam.systems), case_id
        assert isinstance(order, OrderTests) and 1 <= len(order.tests) <= 5, case_id
        assert all(lookup(t) is not None for t in order.tests), case_id
        assert 18 <= len(actions) <= 24, case_id
        assert info["reward_breakdown"]["diagnosed"], case_id


def test_never_reads_the_case():
    allowed = {"__future__", "random", "re", "dataclasses", "functools", "typing", "collections.abc", "json", "pathlib",
               "clinic_agents.knowledge_base", "clinic_env.investigations", "clinic_env.exam_systems",
               "clinic_rubrics.text"}
    for module in (sd, kb):
        imported = set()
        for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module)
        assert imported <= allowed, (module.__name__, imported - allowed)


def test_plays_the_same_when_shown_only_the_messages(test_runs):
    env = gym.make("clinic_env/Consultation-v0", split="test", reward="diagnosis_match")
    for k, case_id in enumerate(TEST_CASES):
        scrubbed, _ = run_episode(env, ScriptedDoctor(), case_id, k, scrub_info=True)
        assert scrubbed == test_runs[k][1], case_id


def test_deterministic_for_a_seed_and_the_seed_only_changes_wording():
    env = gym.make("clinic_env/Consultation-v0", split="train", reward="diagnosis_match")
    doctor = ScriptedDoctor()
    differ = 0
    for case_id in TRAIN_CASES[:6]:
        first, _ = run_episode(env, doctor, case_id, seed=7)
        again, _ = run_episode(env, ScriptedDoctor(), case_id, seed=7)
        assert first == again, case_id
        other, _ = run_episode(env, doctor, case_id, seed=8)
        differ += first != other
    assert differ > 0


def test_beats_chance_on_the_train_split(train_runs):
    # Chance, ranking 3 of 45 conditions at random, is about 0.04.
    assert mean_score(train_runs) > 0.15


def test_needs_the_patient_to_do_well(train_runs):
    blank = run_split("train", patient=UninformativePatient())
    assert all(info["reward_breakdown"]["diagnosed"] for _, _, info in blank)
    assert mean_score(blank) < mean_score(train_runs) - 0.2


def test_ranking_reads_only_the_features_of_keywords_heard(monkeypatch):
    """act() is fast (about 0.1 ms: benchmarks/bench_scripted_doctor.py) because ranking the
    conditions walks the index of the keywords heard or denied (``FEATURES_BY_KEYWORD``), not
    every feature of every condition: counted here, not timed."""
    reads = [0]

    class CountedFeatures(tuple):
        """A condition's features, counting each one read (by position or by iteration)."""

        def __getitem__(self, index):
            reads[0] += 1
            return tuple.__getitem__(self, index)

        def __iter__(self):
            for feature in tuple.__iter__(self):
                reads[0] += 1
                yield feature

    monkeypatch.setattr(sd, "FEATURE_SETS", tuple((c, CountedFeatures(fs)) for c, fs in sd.FEATURE_SETS))
    every_feature = sum(len(fs) for _, fs in sd.FEATURE_SETS)
    per_ranking = []  # (features read, features with a keyword heard or denied) per scores() call
    scores = ScriptedDoctor.scores

    def counted_scores(self):
        before = reads[0]
        ranked = scores(self)
        relevant = {f for k in self.affirmed | self.denied for f in sd.FEATURES_BY_KEYWORD.get(k, ())}
        per_ranking.append((reads[0] - before, len(relevant)))
        return ranked

    monkeypatch.setattr(ScriptedDoctor, "scores", counted_scores)
    env = gym.make("clinic_env/Consultation-v0", split="test", reward="diagnosis_match")
    for k, case_id in enumerate(TEST_CASES):
        run_episode(env, ScriptedDoctor(), case_id, k)
    assert len(per_ranking) >= 3 * len(TEST_CASES) and any(read for read, _ in per_ranking)
    assert all(read <= relevant < every_feature for read, relevant in per_ranking)
    assert sum(read for read, _ in per_ranking) < 0.25 * every_feature * len(per_ranking)  # a scan reads them all
