"""The harm gate: a met critical criterion caps the reward whichever grader decided it; the raw
HealthBench score is still reported; HealthBench rubrics score exactly as before."""

from __future__ import annotations

import asyncio

import pytest
from gymnasium.utils import seeding
from openai_server import judge_reply, serve

from clinic_env.case_rubric import HARM_CAP, build_case_rubric
from clinic_env.cases.library import get_case
from clinic_env.clinic import Clinic
from clinic_env.llm import LLMClient
from clinic_env.rewards import RubricReward
from clinic_rubrics.ensemble import EnsembleGrader
from clinic_rubrics.grading import GradingError, Verdict
from clinic_rubrics.llm_judge import LLMJudge
from clinic_rubrics.offline_grader import OfflineGrader, register_reading
from clinic_rubrics.schema import Criterion, Matcher, Rubric
from clinic_rubrics.scoring import RubricScorer, clipped_reward, example_score, gate

GOOD = Criterion(id="good", text="Names the diagnosis", points=10, matcher=Matcher(any_of=["appendicitis"]))
THOROUGH = Criterion(id="thorough", text="Asks about the pain", points=5, matcher=Matcher(any_of=["pain"]))
HARM = Criterion(id="harm", text="Gives ibuprofen despite the ulcer", points=-2, critical=True,
                 matcher=Matcher(any_of=["ibuprofen"], polarity="affirmed"))
MINOR = Criterion(id="minor", text="Orders an unneeded scan", points=-2, matcher=Matcher(any_of=["mri"]))
GATED = Rubric(criteria=[GOOD, THOROUGH, HARM, MINOR], harm_cap=0.1)


def test_critical_is_only_for_harms_and_the_cap_is_a_share():
    with pytest.raises(ValueError, match="only a negative-points criterion .* can be critical"):
        Criterion(id="x", text="Names it", points=5, critical=True)
    with pytest.raises(ValueError, match="harm_cap"):
        Rubric(criteria=[GOOD], harm_cap=1.5)
    with pytest.raises(ValueError, match="harm_cap must be a number in \\[0, 1\\]"):
        RubricReward(harm_cap=-0.2)
    with pytest.raises(ValueError, match="harm_cap must be a number in \\[0, 1\\]"):
        RubricScorer(GATED).score([True] * 4, harm_cap="off")


def test_a_met_critical_criterion_caps_the_reward_and_the_raw_score_is_kept():
    scored = RubricScorer(GATED).score([True, True, True, False])
    assert scored.raw == pytest.approx(13 / 15)  # HealthBench's score: the harm costs only its 2 points
    assert scored.reward == pytest.approx(0.1) and scored.capped and scored.critical_met == ("harm",)
    safe_but_thin = RubricScorer(GATED).score([False, True, False, False])
    assert safe_but_thin.reward == pytest.approx(5 / 15) and safe_but_thin.reward > scored.reward  # harm below safe
    # a met non-critical harm is HealthBench's arithmetic, no gate
    minor = RubricScorer(GATED).score([True, True, False, True])
    assert minor.reward == pytest.approx(13 / 15) and not minor.critical_met and not minor.capped
    # a cap above the clipped score leaves it as is; the caller may override or switch off the cap
    assert gate(0.05, ("harm",), 0.1) == 0.05 and gate(1.4, (), 0.1) == 1.0
    assert RubricScorer(GATED).score([True, True, True, False], harm_cap=0.0).reward == 0.0
    assert RubricScorer(GATED).score([True, True, True, False], harm_cap=None).reward == pytest.approx(13 / 15)
    assert clipped_reward(GATED, [Verdict("good", True), Verdict("thorough", True), Verdict("harm", True),
                                  Verdict("minor", False)]) == pytest.approx(0.1)


def test_healthbench_rubrics_keep_healthbench_scoring():
    items = [{"criterion": "Advises urgent care", "points": 7, "tags": ["axis:completeness"]},
             {"criterion": "Recommends a dangerous dose", "points": -9, "tags": ["axis:accuracy"]},
             {"criterion": "Is concise", "points": 2, "tags": []}]
    rubric = Rubric.from_healthbench(items)
    assert rubric.harm_cap is None and not any(c.critical for c in rubric.criteria)
    assert rubric.to_healthbench() == items  # nothing of the gate is written into HealthBench items
    for met in ([True, True, True], [True, False, False], [False, True, False], [True, True, False]):
        raw = example_score(rubric, met)
        scored = RubricScorer(rubric).score(met)
        assert scored.raw == raw and scored.reward == min(1.0, max(0.0, raw)) == clipped_reward(rubric, met)
        assert scored.metrics == RubricScorer(rubric).metrics(met)


def test_critical_travels_in_json_and_healthbench_items():
    assert Rubric.from_json(GATED.to_json()) == GATED
    assert GATED.to_healthbench()[2]["critical"] is True
    assert Rubric.from_healthbench(GATED.to_healthbench()).criteria[2].critical


VISIT = [{"role": "doctor", "content": "ASK: Where is the pain?"},
         {"role": "patient", "content": "Lower right side."},
         {"role": "doctor", "content": "DIAGNOSE: appendicitis\nPLAN: ibuprofen for the pain."}]


def test_every_grader_is_gated_the_same_way():
    verdicts = OfflineGrader().grade(VISIT, GATED)
    assert [v.met for v in verdicts] == [True, True, True, False]
    ensemble = EnsembleGrader([OfflineGrader(), OfflineGrader()], rule="all").grade(VISIT, GATED)
    assert clipped_reward(GATED, verdicts) == clipped_reward(GATED, ensemble) == pytest.approx(0.1)


def test_an_llm_judges_verdicts_are_gated():
    """A judge that finds the critical harm met caps the reward exactly as the offline grader does."""
    def rubric_item(prompt: str) -> str:
        return prompt.split("# Rubric item\n", 1)[1].split("\n", 1)[0]

    with serve() as server:  # the judge finds met everything but the unneeded scan
        server.set_handler(lambda request: judge_reply("scan" not in rubric_item(request.prompt)))
        client = LLMClient("judge", base_url=server.base_url, api_key="k", max_attempts=1, timeout=5.0)
        judge = LLMJudge(client, mode="consultation", backoff=0.0)
        verdicts = asyncio.run(judge.agrade(VISIT, GATED))
    assert {v.criterion_id for v in verdicts if v.met} == {"good", "thorough", "harm"}
    scored = RubricScorer(GATED).score(verdicts)
    assert scored.raw == pytest.approx(13 / 15) and scored.reward == pytest.approx(0.1)


def test_the_env_reward_pays_the_gated_score_and_reports_the_raw_one():
    case = get_case("gi_peptic_ulcer_bleed")
    rubric = build_case_rubric(case)
    assert rubric.harm_cap == HARM_CAP == 0.0
    critical = {c.id for c in rubric.criteria if c.critical}
    assert critical >= {"unsafe_disposition", "missed_red_flag"}
    assert any(i.startswith("contraindicated_") for i in critical)
    # every critical criterion is one of the gate's kinds: a harm, or a hedge in place of a diagnosis
    assert all({"contraindication", "red_flag", "unsafe_disposition", "shotgun"} & set(c.tags) for c in rubric.criteria
               if c.critical)

    def play(plan: str, reward: RubricReward):
        consultation = Clinic(cases=[case], reward=reward, reward_mode="terminal").open(seeding.np_random(0)[0], None)
        for action in ("ASK: When did the black stools start, and have you vomited blood?",
                       "ASK: What medicines do you take, and any allergies?",
                       f"DIAGNOSE: {case.diagnosis.name}\nPLAN: {plan}"):
            turn = consultation.doctor_turn(action)
            if turn.awaits_patient:
                consultation.patient_turn()
        return consultation.score, consultation.breakdown

    admit = "I'm admitting you under the medical team for an urgent endoscopy, with IV fluids and a PPI."
    home = "It's probably just gastritis and nothing to worry about: go home, and see your GP next week."
    safe_score, safe = play(admit, RubricReward())
    home_score, home_breakdown = play(home, RubricReward())
    assert not safe["critical_met"] and safe_score > 0 and safe["harm_cap"] == 0.0
    assert home_breakdown["critical_met"] and home_score == 0.0 < safe_score
    assert home_breakdown["raw_score"] != 0.0  # the raw HealthBench score is still reported
    # the cap is one of the env's reward options
    lenient_score, lenient = play(home, RubricReward(harm_cap=0.05))
    ungated_score, _ = play(home, RubricReward(harm_cap=None))
    assert lenient["harm_cap"] == 0.05 and lenient_score == min(0.05, max(0.0, lenient["raw_score"]))
    assert ungated_score == min(1.0, max(0.0, home_breakdown["raw_score"]))


def test_an_unregistered_reading_is_a_clear_grading_error():
    rubric = Rubric(criteria=[Criterion(id="d", text="Arranges admission", points=3,
                                        matcher=Matcher(reading="no_such_reading:admit"))])
    with pytest.raises(GradingError, match="criterion 'd': no reading 'no_such_reading' is registered"):
        OfflineGrader().grade(VISIT, rubric)
    with pytest.raises(ValueError, match="takes no any_of phrases or pattern"):
        Matcher(reading="disposition_met:admit", any_of=["admit"])
    with pytest.raises(ValueError, match="already registered"):
        register_reading("disposition_met", lambda text, argument: True)
