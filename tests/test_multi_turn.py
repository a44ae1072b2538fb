"""Multi-turn GRPO rollouts on a tiny model built from a config: the ids the policy generated,
its generation-time log-probs, and a loss mask on the doctor's tokens only."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import gymnasium as gym  # noqa: E402

import clinic_env  # noqa: E402,F401
from clinic_agents.grpo_loss import group_advantages  # noqa: E402
from clinic_agents.multi_turn import Sampler, play, rollout_group  # noqa: E402
from clinic_env.rewards import RubricReward  # noqa: E402
from clinic_rubrics.grading import GradingError, WholeConversationGrader  # noqa: E402

CASE = "pulm_cap_adult"


def make_env(**kwargs):
    return gym.make("clinic_env/Consultation-v0", cases=[CASE], max_turns=3, **kwargs)


@pytest.fixture(scope="module")
def sampler(tiny_doctor_parts):
    model, tokenizer = tiny_doctor_parts
    return Sampler(model, tokenizer, temperature=1.0, max_new_tokens=6, device="cpu")


def segments(trajectory):
    """Runs of (mask value, ids) in order."""
    out = []
    for token, flag in zip(trajectory.token_ids, trajectory.loss_mask):
        if out and out[-1][0] == flag:
            out[-1][1].append(token)
        else:
            out.append((flag, [token]))
    return out


def test_the_trajectory_is_the_generated_ids_with_the_turns_between(sampler):
    tokenizer = sampler.tokenizer
    trajectory = play(make_env(), sampler, seed=0, sample_seed=1)
    messages = trajectory.info["messages"]
    opening = tokenizer.apply_chat_template(messages[:2], add_generation_prompt=True, tokenize=False)
    assert trajectory.token_ids[:trajectory.prompt_length] == tokenizer(opening, add_special_tokens=False)["input_ids"]
    assert len(trajectory.token_ids) == len(trajectory.loss_mask) == len(trajectory.logprobs)
    runs = segments(trajectory)
    generated = [ids for flag, ids in runs if flag == 1]
    doctor_said = [m["content"] for m in messages if m["role"] == "assistant"]
    assert trajectory.doctor_turns == 3 and len(doctor_said) == 3
    assert [tokenizer.decode(ids, skip_special_tokens=True) for ids in generated] == doctor_said
    assert trajectory.generated_tokens == sum(len(ids) for ids in generated)
    for flag, ids in runs[1:]:  # what came back between turns: the template's markers and the replies, no loss
        if flag == 0:
            text = tokenizer.decode(ids)
            assert text.startswith("<|user|>") and text.rstrip().endswith("<|assistant|>")
    assert all(lp == 0.0 for lp, flag in zip(trajectory.logprobs, trajectory.loss_mask) if not flag)
    assert trajectory.reward == trajectory.info["score"] and 0.0 <= trajectory.reward <= 1.0


def test_generation_time_logprobs_match_a_teacher_forced_pass(sampler):
    trajectory = play(make_env(), sampler, seed=1, sample_seed=2)
    ids = torch.tensor([trajectory.token_ids])
    with torch.no_grad():
        logits = sampler.model(ids).logits[0].float() / sampler.temperature
    logprobs = torch.log_softmax(logits[:-1], dim=-1).gather(1, ids[0, 1:].unsqueeze(1)).squeeze(1)
    positions = [i for i, flag in enumerate(trajectory.loss_mask) if flag]
    recomputed = torch.stack([logprobs[i - 1] for i in positions])
    torch.testing.assert_close(recomputed, torch.tensor([trajectory.logprobs[i] for i in positions]),
                               rtol=1e-4, atol=1e-4)  # no re-tokenisation anywhere: same ids, same probabilities


def test_a_group_shares_case_persona_and_opening_and_differs_in_samples(sampler):
    group = rollout_group(make_env, sampler, seed=3, group_size=4)
    assert len(group) == 4 and {t.case_id for t in group} == {CASE} and {t.seed for t in group} == {3}
    openings = {tuple(t.token_ids[:t.prompt_length]) for t in group}
    assert len(openings) == 1  # same case, persona and patient: the same first prompt
    assert len({tuple(t.token_ids) for t in group}) > 1  # the policy's samples differ
    again = rollout_group(make_env, sampler, seed=3, group_size=4)
    assert [t.token_ids for t in again] == [t.token_ids for t in group]  # seeded


class DownGrader(WholeConversationGrader):
    async def agrade_conversation(self, conversation, rubric):
        raise GradingError("judge unreachable")


def test_a_failed_grading_gives_nan_and_is_left_out_of_the_group(sampler):
    trajectory = play(make_env(reward=RubricReward(grader=DownGrader())), sampler, seed=0, sample_seed=0)
    assert math.isnan(trajectory.reward) and trajectory.generated_tokens > 0
    rewards = torch.tensor([0.4, trajectory.reward, 0.8, 0.6])
    advantages, valid = group_advantages(rewards, 4)
    assert valid.tolist() == [True, False, True, True] and advantages[1] == 0
    torch.testing.assert_close(advantages[[0, 2, 3]], torch.tensor([-0.2, 0.2, 0.0]))


def test_sampling_is_required(tiny_doctor_parts):
    model, tokenizer = tiny_doctor_parts
    with pytest.raises(ValueError, match="temperature must be positive"):
        Sampler(model, tokenizer, temperature=0.0)
