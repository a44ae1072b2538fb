"""The scripted baseline doctor: its knowledge base, its reading of text, and whole consultations.

The consultation tests run the Gymnasium env on the builtin test split; the whole file
takes a few seconds.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import gymnasium as gym
import pytest

import clinic_env  # noqa: F401  (registers the env)
from agents import knowledge_base as kb
from agents import scripted_doctor as sd
from agents.scripted_doctor import Beliefs, ScriptedDoctor, prior, read_demographics, scan, score_condition
from clinic_env.actions import Diagnose, parse_action
from clinic_env.cases.library import load_cases
from clinic_env.doctor import Doctor
from clinic_env.exam_systems import NORMAL_FINDINGS
from clinic_env.history_topics import TOPIC_PATTERNS
from clinic_env.investigations import CATALOG, lookup
from clinic_env.patient import JARGON

AGENT_FILES = [Path(sd.__file__), Path(kb.__file__)]
TEST_CASES = [case.id for case in load_cases(split="test")]


def run_episode(env: gym.Env, doctor, case_id: str, seed: int, scrub_info: bool = False) -> tuple[list[str], float, dict]:
    """One consultation; returns the doctor's actions, the summed reward and the last info."""
    observation, info = env.reset(seed=seed, options={"case_id": case_id})
    doctor.reset(seed=seed)
    actions, total = [], 0.0
    while True:
        shown = {"messages": info["messages"]} if scrub_info else info
        action = doctor.act(observation, shown)
        actions.append(action)
        observation, reward, terminated, truncated, info = env.step(action)
        total += reward
        if terminated or truncated:
            return actions, total, info


@pytest.fixture(scope="module")
def test_env() -> gym.Env:
    return gym.make("clinic_env/Consultation-v0", split="test")


@pytest.fixture(scope="module")
def test_split_runs(test_env) -> list[tuple[str, int, list[str], float, dict]]:
    """Every test-split case with seeds 0 and 1 and sampled personas, run once for several tests."""
    runs = []
    for seed in (0, 1):
        for k, case_id in enumerate(TEST_CASES):
            actions, total, info = run_episode(test_env, ScriptedDoctor(), case_id, seed * 1000 + k)
            runs.append((case_id, seed, actions, total, info))
    return runs


# ---- the knowledge base ---------------------------------------------------------------------------


def test_knowledge_base_is_broad_and_consistent():
    kb.validate()
    assert len(kb.CONDITIONS) >= 35
    specialties = {c.specialty for c in kb.CONDITIONS}
    assert {"cardiology", "pulmonology", "gastroenterology", "neurology", "endocrinology", "infectious_disease",
            "paediatrics", "obstetrics_gynaecology", "psychiatry", "dermatology", "emergency"} <= specialties
    names = [c.name for c in kb.CONDITIONS]
    assert len(set(names)) == len(names)
    for condition in kb.CONDITIONS:
        assert condition.plan and condition.disposition and condition.cues and condition.exam
        assert all(lookup(test).name == test for test in condition.tests)
        assert any(weight >= 2.5 for weight in condition.features.values()), condition.name


def test_every_feature_is_weighed_and_every_numeric_rule_sets_a_known_feature():
    weighed = {key for c in kb.CONDITIONS for key in (*c.features, *c.against, *c.cues)}
    assert weighed == set(kb.FEATURES)
    assert {rule.feature for rule in sd.NUMERIC_RULES} <= set(kb.FEATURES)


def test_validate_catches_a_typo(monkeypatch):
    broken = kb._c("typo", "cardiology", "chest_pain", "chest_pian:3", "", "cardiovascular", "ecg", "plan", "home")
    monkeypatch.setattr(kb, "CONDITIONS", kb.CONDITIONS + (broken,))
    with pytest.raises(ValueError, match="chest_pian"):
        kb.validate()


def test_questions_are_plain_words_a_low_literacy_patient_understands():
    for feature in kb.FEATURES.values():
        if feature.question:
            assert JARGON.search(feature.question) is None, feature.question
            assert feature.question.endswith("?")


def test_targeted_questions_avoid_unintended_history_topics():
    """A question that also names an OPQRST topic gets that topic's facts first from a terse patient."""
    intended = {"radiation_arm_jaw": {"radiation"}, "sudden_onset": {"onset"}, "worst_ever": {"severity"},
                "sick_contacts": {"context"}}
    for key, feature in kb.FEATURES.items():
        if feature.question:
            topics = {t for t, pattern in TOPIC_PATTERNS.items() if pattern.search(feature.question)}
            assert topics <= intended.get(key, set()), (key, topics)


def test_opening_question_wordings_ask_the_same_topic():
    for wordings in sd.OPENING_QUESTIONS:
        topics = [{t for t, p in TOPIC_PATTERNS.items() if p.search(w)} for w in wordings]
        assert topics[0] and all(t == topics[0] for t in topics), wordings


# ---- reading text -----------------------------------------------------------------------------------


def affirmed(text: str) -> frozenset[str]:
    return scan(text, tuple(kb.FEATURES.values()))[0]


def negated(text: str) -> frozenset[str]:
    return scan(text, tuple(kb.FEATURES.values()))[1]


@pytest.mark.parametrize("text", [
    "No, I haven't had any fever.",
    "No fevers, no weight loss.",
    "I haven't noticed any temperature.",
    "My temperature has been normal, I don't think I've had a fever.",
])
def test_a_denied_symptom_is_negated_not_affirmed(text):
    assert "fever" not in affirmed(text)
    assert "fever" in negated(text)


@pytest.mark.parametrize("text, feature", [
    ("I've been burning up and then shaking with chills.", "fever"),
    ("I'm a bit short of breath now, but no cough.", "breathless"),
    ("My motions have been black for two days.", "melaena"),
    ("My heart races and thumps and I can't get enough air.", "palpitations"),
    ("He won't finish his bottles.", "poor_feeding"),
    ("It's the worst headache of my life, like being hit with a bat.", "worst_ever"),
])
def test_lay_wording_is_recognised(text, feature):
    assert feature in affirmed(text)


def test_negation_stays_in_its_clause():
    text = "I'm a bit short of breath now, but no cough. No blood when I cough, just some yellow phlegm."
    assert "cough" in negated(text) and "haemoptysis" in negated(text)
    assert {"breathless", "sputum"} <= affirmed(text)
    assert "haemoptysis" not in affirmed(text)


def test_report_wording_negation():
    assert "strep_pos" in affirmed("Group A streptococcus detected.")
    assert "strep_pos" not in affirmed("Group A streptococcus not detected")
    assert "crackles" in negated("Chest clear; no crackles or wheeze.")
    assert "ct_bleed" in negated("No intracranial haemorrhage, mass or infarct.")


def test_remote_history_is_not_a_current_symptom():
    assert "dry_skin_flexures" not in affirmed("Just eczema when I was a kid.")
    assert "asthma_hx" in affirmed("Just eczema when I was a kid.")  # atopy still counts as a risk factor


def test_numbers_in_results_and_vitals():
    assert sd.numeric_findings("troponin", "hs-troponin I 486 ng/L")[0] == {"raised_troponin"}
    assert sd.numeric_findings("troponin", "hs-troponin I 4 ng/L")[1] == {"raised_troponin"}
    assert "hyperglycaemia" in sd.numeric_findings("blood glucose", "Glucose 28.4 mmol/L")[0]
    assert "low_tsh" in sd.numeric_findings("thyroid function tests", "TSH <0.01 mU/L, free T4 48 pmol/L")[0]
    abnormal, normal = sd.vital_findings("Temperature 38.9°C, heart rate 104/min, blood pressure 132/84 mmHg, "
                                         "respiratory rate 24/min, SpO2 93% on room air.", age=58, pregnant=False)
    assert abnormal == {"pyrexia", "tachycardia", "tachypnoea", "hypoxia"}
    assert {"hypotension", "high_bp", "bradycardia"} <= normal
    assert "hypotension" in sd.vital_findings("blood pressure 96/58 mmHg lying and 78/50 mmHg sitting", 60, False)[0]
    assert "tachycardia" not in sd.vital_findings("heart rate 150/min", age=0.5, pregnant=False)[0]


def _corpus() -> list[str]:
    """Every patient-, exam- and test-visible string of the library, plus the normal findings."""
    texts = list(NORMAL_FINDINGS.values()) + [item.normal_result for item in CATALOG]
    for case in load_cases():
        profile = case.patient_view()
        texts += [profile.opening_statement, *profile.review_of_systems.values(), *case.exam.values()]
        texts += [t.result for t in case.tests]
        texts += [f.lay for f in profile.history] + [f.text for f in profile.history]
        texts += [n.lay for n in profile.pertinent_negatives]
        for items in (profile.past_history, profile.social_history, profile.family_history, profile.obstetric_history):
            texts += [i.lay for i in items]
    return texts


def test_the_literal_screen_never_hides_a_match():
    """The trigram/literal screen is only a speed-up: any feature whose regex matches must pass it."""
    for text in _corpus():
        hits = sd._literal_hits(text.lower())
        for key, feature in kb.FEATURES.items():
            if feature.pattern.search(text):
                assert key in hits, (key, text)


# ---- beliefs ------------------------------------------------------------------------------------------


def test_incremental_scores_equal_scores_from_scratch(test_env):
    doctor = ScriptedDoctor()
    run_episode(test_env, doctor, TEST_CASES[0], seed=3)
    beliefs = doctor.beliefs
    assert beliefs.present and beliefs.absent
    for i, condition in enumerate(doctor.conditions):
        expected = score_condition(condition, beliefs.present, beliefs.absent, prior(condition, doctor.patient))
        assert beliefs.scores[i] == pytest.approx(expected)


def test_a_denial_never_undoes_a_finding():
    beliefs = Beliefs(kb.CONDITIONS, [0.0] * len(kb.CONDITIONS))
    beliefs.affirm({"cough"})
    beliefs.deny({"cough", "fever"})
    assert "cough" in beliefs.present and "cough" not in beliefs.absent and "fever" in beliefs.absent


def test_priors_respect_sex_and_age():
    ectopic = next(c for c in kb.CONDITIONS if c.name == "ectopic pregnancy")
    croup = next(c for c in kb.CONDITIONS if c.name == "croup")
    man = read_demographics([{"role": "system", "content": "You are a doctor seeing a 30-year-old male.\n..."}])
    infant = read_demographics([{"role": "system",
                                 "content": "You are a doctor seeing a 18-month-old female, accompanied by their parent"}])
    assert (man.age, man.sex, infant.age, infant.sex) == (30, "male", 1.5, "female")
    assert prior(ectopic, man) <= -100 < prior(ectopic, infant)
    assert prior(croup, infant) > prior(croup, man)


# ---- whole consultations ----------------------------------------------------------------------------


def test_it_is_a_doctor():
    assert isinstance(ScriptedDoctor(), Doctor)


def test_completes_every_test_case_with_a_ranked_diagnosis(test_split_runs):
    for case_id, seed, actions, total, info in test_split_runs:
        final = parse_action(actions[-1])
        assert isinstance(final, Diagnose), (case_id, actions[-1])
        assert len(final.differential) == 3 and final.plan
        assert info["reward_breakdown"]["diagnosed"] is True
        assert 15 <= len(actions) <= 28, (case_id, len(actions))
        assert info["exams"] >= 2 and 1 <= info["tests"] <= 8
        kinds = [parse_action(a).__class__.__name__ for a in actions]
        assert kinds.count("Examine") == 1 and 1 <= kinds.count("OrderTests") <= 2


def test_accuracy_on_the_test_split_is_well_above_chance(test_split_runs):
    rewards = [total for *_, total, _ in test_split_runs]
    assert sum(rewards) / len(rewards) > 0.2  # chance is about 1/len(kb.CONDITIONS)


class SilentPatient:
    """A patient who tells the doctor nothing: what the doctor gets right now, it got from the case."""

    def reset(self, profile, persona, seed=None) -> str:
        return "I'm not feeling well, doctor."

    def reply(self, doctor_message, messages) -> str:
        return "I'm not sure."


def test_accuracy_comes_from_the_consultation_not_the_case(test_split_runs):
    """With nothing to hear, examine or test, the same doctor falls to near chance on the same cases."""
    env = gym.make("clinic_env/Consultation-v0", split="test", patient=SilentPatient())
    blind = ScriptedDoctor(examine=False, max_first_tests=0, max_second_tests=0)
    rewards = [run_episode(env, blind, case_id, seed=k)[1] for k, case_id in enumerate(TEST_CASES)]
    informed = [total for *_, total, _ in test_split_runs]
    assert sum(rewards) / len(rewards) < 0.3
    assert sum(informed) / len(informed) - sum(rewards) / len(rewards) > 0.4


def test_never_reads_the_case_or_the_env_internals():
    """Statically: the agent modules import nothing that holds a case."""
    forbidden = ("clinic_env.cases", "clinic_env.examiner", "clinic_env.consultation", "clinic_env.rewards",
                 "clinic_env.leaks", "clinic_env.patient", "clinic_env.gym_env", "clinic_env.consultation_v0")
    for path in AGENT_FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
        assert "case_id" not in path.read_text()


def test_sees_only_observation_and_messages(test_env, monkeypatch):
    """The same transcript with info reduced to the chat view, and with the case library unreachable."""
    case_id = TEST_CASES[1]
    full, _, _ = run_episode(test_env, ScriptedDoctor(), case_id, seed=11)

    def unreachable(*args, **kwargs):
        raise AssertionError("the doctor touched the case library")

    import clinic_env.cases.library as library
    for name in ("load_cases", "get_case", "builtin_cases", "load_case_file", "parse_case"):
        monkeypatch.setattr(library, name, unreachable)
    scrubbed, _, info = run_episode(test_env, ScriptedDoctor(), case_id, seed=11, scrub_info=True)
    assert scrubbed == full
    assert isinstance(parse_action(scrubbed[-1]), Diagnose)


def test_deterministic_for_a_seed(test_env):
    case_id = TEST_CASES[2]
    first = run_episode(test_env, ScriptedDoctor(), case_id, seed=5)[0]
    again = run_episode(test_env, ScriptedDoctor(), case_id, seed=5)[0]
    assert first == again
    doctor = ScriptedDoctor()
    openings = set()
    for seed in range(6):
        doctor.reset(seed=seed)
        openings.add(tuple(doctor.act("I've had a cough for a few days.", {"messages": []}) for _ in range(3)))
    assert len(openings) > 1  # the seed varies the wording


def test_diagnoses_by_the_turn_limit_whatever_happens():
    doctor = ScriptedDoctor(max_actions=5)
    doctor.reset(seed=0)
    actions = [doctor.act("I'm not sure.", {"messages": []}) for _ in range(5)]
    assert isinstance(parse_action(actions[-1]), Diagnose)
    assert not any(isinstance(parse_action(a), Diagnose) for a in actions[:-1])


def test_act_is_fast(test_env):
    sd.find_features.cache_clear()  # cold: no reply seen before
    doctor, elapsed, steps = ScriptedDoctor(), 0.0, 0
    for k, case_id in enumerate(TEST_CASES):
        observation, info = test_env.reset(seed=100 + k, options={"case_id": case_id})
        doctor.reset(seed=k)
        while True:
            start = time.perf_counter()
            action = doctor.act(observation, info)
            elapsed += time.perf_counter() - start
            steps += 1
            observation, _, terminated, truncated, info = test_env.step(action)
            if terminated or truncated:
                break
    assert elapsed / steps < 2e-3, f"{1000 * elapsed / steps:.3f} ms per act"
