"""The LLM rubric generator and an LLM-judged rubric reward, against a real local OpenAI-style server."""

import json

import gymnasium as gym
import pytest
from openai_server import judge_reply, serve

import clinic_env  # noqa: F401
from clinic_env.llm import LLMClient
from clinic_env.rewards import RubricReward
from clinic_env.rubric_generator import LLMRubricGenerator, RubricGenerationError, parse_rubric
from clinic_rubrics.grading import GradingError
from clinic_rubrics.llm_judge import LLMJudge
from clinic_rubrics.schema import DIMENSIONS


def rubric_answer(dimensions=DIMENSIONS, negative=True, n=10, critical=True, harm_points=-8) -> str:
    criteria = [{"id": f"c{i}", "text": f"Does good thing {i}", "points": 3,
                 "dimension": dimensions[i % len(dimensions)], "tags": []} for i in range(n)]
    if negative:
        criteria.append({"id": "bad", "text": "Prescribes amoxicillin despite the allergy", "points": harm_points,
                         "dimension": "ethics_safety", "tags": ["safety"], "critical": critical})
    return "```json\n" + json.dumps({"criteria": criteria}) + "\n```"


def client(server):
    return LLMClient("test-model", base_url=server.base_url, api_key="test")


def test_generates_a_valid_rubric(pneumonia_case):
    with serve(replies=[rubric_answer()]) as server:
        rubric = LLMRubricGenerator(client(server))(pneumonia_case)
        prompt = server.requests[0].messages
    assert len(rubric.criteria) == 11 and {c.dimension for c in rubric.criteria} == set(DIMENSIONS)
    assert rubric.metadata["case_id"] == "pulm_cap_adult"
    assert "community-acquired pneumonia" in prompt[1]["content"]  # the generator sees the whole case


def test_a_case_rubric_is_written_once_per_generator(pneumonia_case, cases):
    other = next(c for c in cases if c.id != pneumonia_case.id)
    with serve(replies=[rubric_answer()] * 3) as server:
        generator = LLMRubricGenerator(client(server))
        first, again = generator(pneumonia_case), generator(pneumonia_case)
        generator(other)
        assert len(server.requests) == 2  # one per case, however many episodes reset on it
    assert again is first


def test_invalid_answers_are_sent_back_with_the_reason(pneumonia_case):
    replies = ["not json at all", rubric_answer(dimensions=DIMENSIONS[:2]), rubric_answer()]
    with serve(replies=replies) as server:
        rubric = LLMRubricGenerator(client(server), max_attempts=3)(pneumonia_case)
        requests = server.requests
    assert len(requests) == 3 and len(rubric.criteria) == 11
    assert "not valid JSON" in requests[1].messages[-1]["content"]
    assert "does not cover the dimension(s)" in requests[2].messages[-1]["content"]


def test_a_rubric_without_a_critical_harm_is_sent_back(pneumonia_case):
    with serve(replies=[rubric_answer(critical=False), rubric_answer()]) as server:
        rubric = LLMRubricGenerator(client(server), max_attempts=2)(pneumonia_case)
        requests = server.requests
    assert "no critical criterion" in requests[1].messages[-1]["content"]
    assert [c.id for c in rubric.criteria if c.critical] == ["bad"] and rubric.harm_cap == 0.0


@pytest.mark.parametrize("harm_met", [True, False])
def test_a_generated_rubric_gates_harm_like_a_builtin_one(pneumonia_case, harm_met):
    """Three good things and a critical harm worth only -1: points alone would pay 8/30; the gate pays 0."""
    def judge(request):
        good = any(f"[3] Does good thing {i}" in request.prompt for i in range(3))
        return judge_reply(good or (harm_met and "[-1] Prescribes amoxicillin" in request.prompt))

    with serve(replies=[rubric_answer(harm_points=-1)], handler=judge) as server:
        reward = RubricReward(grader=LLMJudge(client(server), mode="consultation"),
                              builder=LLMRubricGenerator(client(server)))
        env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case], reward=reward, reward_mode="terminal")
        env.reset(seed=0)
        _, score, _, _, info = env.step("DIAGNOSE: pneumonia\nPLAN: amoxicillin")
    breakdown = info["reward_breakdown"]
    assert breakdown["raw_score"] == pytest.approx((9 - 1) / 30 if harm_met else 9 / 30)
    assert breakdown["critical_met"] == (["bad"] if harm_met else [])
    assert score == (0.0 if harm_met else pytest.approx(9 / 30))


def test_gives_up_with_a_clear_error(pneumonia_case):
    with serve(replies=[rubric_answer(negative=False)] * 2) as server:
        with pytest.raises(RubricGenerationError, match="pulm_cap_adult: no valid rubric after 2 attempt.*no negative"):
            LLMRubricGenerator(client(server), max_attempts=2)(pneumonia_case)
        assert len(server.requests) == 2


@pytest.mark.parametrize("answer, reason", [
    ('{"criteria": [{"id": "a", "text": "abc", "points": 0, "dimension": "treatment"}]}', "points must be non-zero"),
    ('{"criteria": "none"}', 'a "criteria" list'),
    ('[1, 2]', 'a "criteria" list'),
])
def test_parse_rubric_names_the_problem(answer, reason):
    with pytest.raises(ValueError, match=reason):
        parse_rubric(answer, "x", min_criteria=1)


def test_env_reward_with_an_llm_judge(pneumonia_case):
    """An LLM-judged rubric reward in the env: every criterion is one judge call; met ones count."""
    rubric_text = rubric_answer(n=6)

    def judge(request):
        # The judge says "met" for criterion c0 and the negative one, "not met" otherwise.
        return judge_reply("[3] Does good thing 0" in request.prompt or "[-8]" in request.prompt)

    with serve(replies=[rubric_text], handler=judge) as server:
        generator = LLMRubricGenerator(client(server), min_criteria=5)
        reward = RubricReward(grader=LLMJudge(client(server), mode="consultation"), builder=generator)
        env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case], reward=reward, reward_mode="terminal")
        env.reset(seed=0)
        env.step("ASK: When did it start?")
        _, score, terminated, _, info = env.step("DIAGNOSE: pneumonia\nPLAN: doxycycline")
    assert terminated
    assert info["reward_breakdown"]["raw_score"] == pytest.approx((3 - 8) / 18)
    assert score == 0.0  # clipped
    assert info["reward_breakdown"]["verdicts"] == {"c0": True, "c1": False, "c2": False, "c3": False,
                                                     "c4": False, "c5": False, "bad": True}


def test_a_dead_judge_fails_loudly(pneumonia_case):
    from openai_server import Reply

    with serve(replies=[rubric_answer()], handler=lambda request: Reply(status=500)) as server:
        reward = RubricReward(grader=LLMJudge(client(server), max_attempts=2, backoff=0.0),
                              builder=LLMRubricGenerator(client(server)))
        env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case], reward=reward, reward_mode="terminal")
        env.reset(seed=0)
        with pytest.raises(GradingError):
            env.step("DIAGNOSE: pneumonia")
