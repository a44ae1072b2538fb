"""The condition knowledge base and the seeded case generator, and the env's endless generated episodes."""

from __future__ import annotations

import re

import gymnasium as gym
import pytest

import clinic_env  # noqa: F401  (registers the env)
from clinic_env.cases.conditions import load_background, load_conditions
from clinic_env.cases.generator import DIFFICULTIES, CaseGenerator
from clinic_env.cases.library import load_cases
from clinic_env.cases.validator import case_conflicts, count_conflicts
from clinic_env.leaks import case_leaks

PNEUMONIA = "community_acquired_pneumonia"


@pytest.fixture(scope="module")
def conditions():
    return load_conditions()


def many(condition=PNEUMONIA, difficulty=None, n=60):
    generator = CaseGenerator(difficulty=difficulty)
    return [generator.generate(seed, condition) for seed in range(n)]


def test_the_knowledge_base_is_broad(conditions):
    assert len(conditions) >= 40
    assert len({c.specialty for c in conditions}) >= 12
    for c in conditions:
        assert sum(f.key for f in c.features if not f.atypical) >= 2 and any(f.atypical for f in c.features), c.id
        assert len(c.differential) >= 3 and c.management.first_line and c.tests, c.id
    ages = [c.ages for c in conditions]
    assert any(low < 2 for low, _ in ages) and any(high >= 80 for _, high in ages)  # infants to the old
    assert any(c.pregnancy == "always" for c in conditions)


def test_same_seed_same_case_and_persona():
    first, again, other = CaseGenerator().generate(11), CaseGenerator().generate(11), CaseGenerator().generate(12)
    assert first.case == again.case and first.persona == again.persona
    assert (other.case.id, other.case.model_dump()) != (first.case.id, first.case.model_dump())


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_condition_generates_valid_leak_free_cases(conditions, difficulty):
    generator = CaseGenerator(difficulty=difficulty)
    for condition in conditions:
        for seed in range(4):
            case = generator.generate(seed, condition).case  # validated by the case schema on the way
            assert case_leaks(case) == [] and case.split == "train" and case.difficulty == difficulty
            low, high = condition.ages
            assert low <= case.demographics.age_years <= high and case.demographics.sex in condition.sexes
            assert case.informant == ("parent" if case.demographics.age_years < condition.informant_below_age
                                      else condition.informant)


def test_difficulty_changes_how_typical_the_presentation_is(conditions):
    condition = next(c for c in conditions if c.id == PNEUMONIA)
    atypical = {f.text for f in condition.features if f.atypical}
    keys = {f.text for f in condition.features if f.key and not f.atypical}
    by = {d: many(difficulty=d) for d in DIFFICULTIES}
    for generated in by["easy"]:
        texts = {h.text for h in generated.case.history}
        assert not texts & atypical and keys <= texts and generated.case.opening_statement in condition.openings
    hard_texts = [{h.text for h in g.case.history} for g in by["hard"]]
    assert all(len(t & keys) >= 2 for t in hard_texts)  # still solvable
    assert sum(bool(t & atypical) for t in hard_texts) > len(hard_texts) / 2
    assert all(g.case.opening_statement in condition.atypical_openings for g in by["hard"])

    def typical(d):
        return sum(len({h.text for h in g.case.history} - atypical) for g in by[d]) / len(by[d])

    assert typical("easy") > typical("medium") > typical("hard")


def test_allergies_comorbidities_and_pregnancy_stay_consistent(conditions):
    condition = next(c for c in conditions if c.id == PNEUMONIA)
    comorbid_meds = {m.name: co for co in load_background().comorbidities for m in co.medications}
    seen_allergic = seen_pregnant = 0
    for generated in many(n=400):
        case = generated.case
        for medication in case.medications:  # every drug belongs to a condition the history names
            assert comorbid_meds[medication.name].text in {p.text for p in case.past_history}
        if any(a.substance == "penicillin" for a in case.allergies):
            seen_allergic += 1
            assert case.management.first_line == condition.if_allergic["penicillin"]
            assert not any("amoxicillin" in line.text for line in case.management.first_line)
            assert any(c.treatment == "penicillin" for c in case.contraindications)
        else:
            assert case.management.first_line == condition.management.first_line
        if case.demographics.pregnant:
            seen_pregnant += 1
            assert case.demographics.sex == "female" and 18 <= case.demographics.age_years <= 42
            assert case.obstetric_history and case.demographics.gestation_weeks
        smoking = [s for s in case.social_history if "smok" in s.text.lower()]
        assert len(smoking) <= 1 or len({s.text for s in smoking}) == len(smoking)
    assert seen_allergic >= 10 and seen_pregnant >= 3


def test_generated_cases_never_reuse_test_split_text():
    test_sentences = {text for case in load_cases(split="test")
                      for text in [case.opening_statement, *(h.lay for h in case.history), *(h.text for h in case.history),
                                   *case.exam.values(), *(t.result for t in case.tests)] if len(text) > 40}  # not stock phrases
    generator = CaseGenerator()
    for seed in range(150):
        case = generator.generate(seed).case
        ours = [case.opening_statement, *(h.lay for h in case.history), *(h.text for h in case.history),
                *case.exam.values(), *(t.result for t in case.tests)]
        assert not test_sentences & set(ours), case.id


def test_the_env_draws_a_new_generated_case_each_episode():
    env = gym.make("clinic_env/Consultation-v0", cases="generated")
    first, _ = env.reset(seed=3)
    case_id = env.unwrapped.consultation.case.id
    assert case_id.startswith("gen_") and env.reset(seed=3)[0] == first
    assert env.unwrapped.consultation.case.id == case_id
    ids = {case_id}
    for seed in range(4, 12):
        env.reset(seed=seed)
        ids.add(env.unwrapped.consultation.case.id)
    assert len(ids) == 9
    with pytest.raises(KeyError, match="generates its cases"):
        env.reset(seed=0, options={"case_id": case_id})
    with pytest.raises(ValueError, match="training cases"):
        gym.make("clinic_env/Consultation-v0", cases="generated", split="test")
    cardiology = gym.make("clinic_env/Consultation-v0", cases="generated", specialty="cardiology")
    cardiology.reset(seed=1)
    assert cardiology.unwrapped.consultation.case.specialty == "cardiology"


def test_the_runner_benchmarks_a_fixed_set_of_generated_cases(tmp_path):
    from clinic_env.bench import run_benchmark
    from clinic_env.cases.specs import CaseSpecError, resolve_cases

    cases = resolve_cases("generated:12")
    assert len(cases) == 12 and [c.id for c in cases] == [c.id for c in resolve_cases("generated:12")]
    result = run_benchmark(cases="generated:6", out=tmp_path / "run", progress=False)
    assert result.summary["n_ok"] == 6 and {r["case_id"] for r in result.records} == {c.id for c in cases[:6]}
    with pytest.raises(CaseSpecError, match="positive number"):
        resolve_cases("generated:x")
    with pytest.raises(CaseSpecError, match="only '\\+specialty:NAME'"):
        resolve_cases("generated:3+split:test")


def test_the_background_fits_the_patient_and_the_condition(conditions):
    background = load_background()
    parent_lays = {a.lay_parent.replace("{him}", pronoun) for a in background.allergies if a.lay_parent
                   for pronoun in ("him", "her")}
    comorbidity_text = {m.id: m.text for m in background.comorbidities}
    generator = CaseGenerator()
    for condition in conditions:
        excluded = {comorbidity_text[i] for i in condition.exclude_comorbidities}
        for seed in range(12):
            case = generator.generate(seed, condition).case
            if case.demographics.pregnant:
                low, high = condition.gestation_weeks
                assert low <= case.demographics.gestation_weeks <= high, case.id
            if case.informant == "parent":  # a parent speaks: no first-person adult background
                assert case.medications == [] and all(a.lay in parent_lays for a in case.allergies), case.id
            assert not excluded & {p.text for p in case.past_history}, case.id
            for habit in (h for h in background.habits if h.text in {s.text for s in case.social_history}):
                others = {k.lower() for s in case.social_history + case.past_history if s.text != habit.text
                          for k in s.keywords}
                assert not others & {k.lower() for k in habit.keywords}, case.id  # never smoker and ex-smoker


def test_generated_envs_pass_the_peers_checkers():
    from gymnasium.utils.env_checker import check_env
    from pettingzoo.test import api_test, seed_test

    from clinic_env import consultation_v0

    check_env(gym.make("clinic_env/Consultation-v0", cases="generated").unwrapped, skip_render_check=True)
    api_test(consultation_v0.env(cases="generated"), num_cycles=10)
    seed_test(lambda: consultation_v0.env(cases="generated"), num_cycles=10)


def test_generated_cases_have_no_clinical_conflicts(conditions):
    """The validator over 1,000 seeds (benchmarks/bench_case_validator.py runs 5,000)."""
    generator = CaseGenerator()
    by_id = {c.id: c for c in conditions}
    found = [conflict for seed in range(1000) for generated in [generator.generate(seed)]
             for conflict in case_conflicts(generated.case, by_id[generated.condition_id])]
    assert found == [], (count_conflicts(found), found[:5])


def test_a_relative_tells_a_delirious_patients_history_in_their_own_voice():
    """The carer's own words ("I checked") but the patient's background in the third person."""
    generator = CaseGenerator()
    for seed, pronoun in ((0, "she"), (1, "he")):
        case = next(g.case for s in range(seed, 60, 2) for g in [generator.generate(s, "delirium_from_urinary_infection")]
                    if g.case.demographics.sex == ("female" if pronoun == "she" else "male"))
        lays = [case.opening_statement, *(h.lay for h in case.history), *(n.lay for n in case.pertinent_negatives)]
        lays += [*(p.lay for p in case.past_history), *(m.lay for m in case.medications)]
        assert case.informant == "carer" and not any("{" in lay or re.search(r"\b[Mm]y\b", lay) for lay in lays), lays
        assert any(f" {pronoun} " in f" {lay.lower()} " for lay in lays), lays
        assert not any(lay.startswith(("I've been rushing", "My daughter says")) for lay in lays)


def test_a_child_with_ketoacidosis_gets_the_paediatric_protocol(conditions):
    dka = next(c for c in conditions if c.id == "diabetic_ketoacidosis")
    by_age = {}
    for seed in range(80):
        case = CaseGenerator().generate(seed, dka).case
        by_age.setdefault(case.demographics.age_years < 18, case)
    assert by_age[True].management == dka.child_management and by_age[False].management == dka.management
    assert "mL/kg" in by_age[True].management.first_line[0].text


def test_key_exam_findings_are_always_shown(conditions):
    pneumonia = next(c for c in conditions if c.id == PNEUMONIA)
    key = next(f for f in pneumonia.exam if f.key)
    assert key.frequency < 1 and all(key.text in g.case.exam[key.system] for g in many(n=40))


def test_a_parent_speaks_of_the_child_by_sex(conditions):
    generator = CaseGenerator()
    for condition in (c for c in conditions if c.ages[1] < 14):
        for seed in range(6):
            case = generator.generate(seed, condition).case
            lays = [case.opening_statement, *(h.lay for h in case.history), *(n.lay for n in case.pertinent_negatives),
                    *(a.lay for a in case.allergies)]
            words = {w.strip(".,;'").lower() for lay in lays for w in lay.split()}
            own, other = (("she", "her"), ("he", "his")) if case.demographics.sex == "female" else (("he", "his"), ("she",))
            assert case.informant == "parent" and not any("{" in lay for lay in lays), case.id
            assert words & set(own) and not words & set(other), (case.id, lays)


def test_care_escalates_with_the_feature_that_calls_for_it(conditions):
    gca = next(c for c in conditions if c.id == "giant_cell_arteritis")
    (escalation,) = gca.escalations
    seen = set()
    for seed in range(60):
        case = CaseGenerator().generate(seed, gca).case
        visual_loss = bool({h.text for h in case.history} & set(escalation.features))
        seen.add(visual_loss)
        assert case.management.disposition == ("emergency" if visual_loss else "same_day"), case.id
        assert (case.management.first_line == escalation.first_line) == visual_loss, case.id
        assert any(f.text == "transient visual loss" for f in case.red_flags) == visual_loss, case.id
    assert seen == {True, False}
