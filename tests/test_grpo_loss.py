"""Baichuan-M2's GRPO objective against plain restatements of the published formulas, TRL's
``dr_grpo`` and verl's ``seq-mean-token-sum-norm`` (restated from their code here), on random tensors."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from clinic_agents.grpo_loss import GRPOConfig, group_advantages, grpo_loss, length_bonus  # noqa: E402

G, GROUPS, T, L = 4, 3, 12, 16  # group size, groups, tokens per response, fixed max length


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    old = -torch.rand(G * GROUPS, T, generator=g, dtype=torch.float64) * 3
    delta = (torch.randn(G * GROUPS, T, generator=g, dtype=torch.float64) * 0.3).clamp(-1.0, 1.0)  # ratios 0.37-2.7
    lengths = torch.randint(3, T + 1, (G * GROUPS,), generator=g)
    mask = (torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)).double()
    rewards = torch.rand(G * GROUPS, generator=g, dtype=torch.float64)
    return old, old + delta, mask, rewards


# ---- restatements --------------------------------------------------------------------------------

def published(logprobs, old, rewards, mask, eps_low=0.2, eps_high=0.28, max_length=L):
    """J = 1/G sum_i 1/L sum_t min(r A, clip(r) A), A = R - mean(R of the group); loss = -J, by loops."""
    total, n = 0.0, logprobs.shape[0]
    for i in range(n):
        group = rewards[(i // G) * G:(i // G + 1) * G]
        advantage = rewards[i] - group.mean()
        for t in range(logprobs.shape[1]):
            if mask[i, t]:
                r = torch.exp(logprobs[i, t] - old[i, t])
                total = total + torch.min(r * advantage, torch.clamp(r, 1 - eps_low, 1 + eps_high) * advantage)
    return -total / (n * max_length)


def trl_dr_grpo(logprobs, old, rewards, mask, eps_low=0.2, eps_high=0.28, max_completion_length=L):
    """TRL's GRPO with loss_type="dr_grpo", beta=0, scale_rewards="none", as its documentation states it:
    advantage = reward - group mean; per-token loss -min(r A, clip(r) A); the masked sum over the
    whole batch divided by (number of completions x max_completion_length)."""
    advantage = rewards - rewards.view(-1, G).mean(dim=1).repeat_interleave(G)
    r = torch.exp(logprobs - old)
    surrogate = torch.min(r * advantage[:, None], torch.clamp(r, 1 - eps_low, 1 + eps_high) * advantage[:, None])
    return -(surrogate * mask).sum() / (logprobs.shape[0] * max_completion_length)


def verl_seq_mean_token_sum_norm(logprobs, old, rewards, mask, eps_low=0.2, eps_high=0.28, dual_clip=3.0,
                                 loss_scale_factor=L):
    """verl with adv_estimator=grpo, norm_adv_by_std_in_grpo=False, the vanilla clipped policy loss (its
    dual clip at 3 for negative advantages included, log-ratio clamped to +-20) and
    loss_agg_mode="seq-mean-token-sum-norm": each response's masked token sum, summed over the
    responses and divided by loss_scale_factor."""
    advantage = torch.stack([rewards[i] - rewards[(i // G) * G:(i // G + 1) * G].mean()
                             for i in range(rewards.shape[0])])[:, None] * mask
    r = torch.exp(torch.clamp(logprobs - old, -20.0, 20.0))
    clipped = torch.maximum(-advantage * r, -advantage * torch.clamp(r, 1 - eps_low, 1 + eps_high))
    token_loss = torch.where(advantage < 0, torch.minimum(-advantage * dual_clip, clipped), clipped)
    return (token_loss * mask).sum(dim=-1).sum() / loss_scale_factor


def ours(logprobs, old, rewards, mask, **settings):
    advantages, valid = group_advantages(rewards, G)
    assert valid.all()
    return grpo_loss(logprobs, old, advantages, mask, GRPOConfig(max_length=L, **settings))[0]


def value_and_grad(fn, logprobs, *args):
    x = logprobs.clone().requires_grad_(True)
    value = fn(x, *args)
    (grad,) = torch.autograd.grad(value, x)
    return value.detach(), grad


# ---- parity --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_loss_and_gradients_equal_the_published_formula_trl_and_verl(seed):
    old, logprobs, mask, rewards = batch(seed)
    assert torch.exp(logprobs - old).max() < 3  # verl's dual clip (c = 3) stays inactive
    value, grad = value_and_grad(ours, logprobs, old, rewards, mask)
    for reference in (published, trl_dr_grpo):
        ref_value, ref_grad = value_and_grad(reference, logprobs, old, rewards, mask)
        torch.testing.assert_close(value, ref_value, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(grad, ref_grad, rtol=1e-12, atol=1e-14)
    verl_value, verl_grad = value_and_grad(verl_seq_mean_token_sum_norm, logprobs, old, rewards, mask)
    n = logprobs.shape[0]  # verl sums the micro-batch's responses where TRL and Baichuan-M2 average them
    torch.testing.assert_close(value * n, verl_value, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad * n, verl_grad, rtol=1e-12, atol=1e-14)
    ratio = torch.exp(logprobs - old)
    assert ((ratio > 1.2) & (ratio < 1.28)).any() and (ratio > 1.28).any() and (ratio < 0.8).any()  # every regime


def test_asymmetric_clipping_stops_the_gradient_only_outside_its_own_bounds():
    old = torch.zeros(2, 3, dtype=torch.float64)
    ratios = torch.tensor([[1.25, 1.35, 0.75], [1.25, 1.35, 0.75]], dtype=torch.float64)
    logprobs = torch.log(ratios).requires_grad_(True)
    advantages = torch.tensor([1.0, -1.0], dtype=torch.float64)
    loss, metrics = grpo_loss(logprobs, old, advantages, torch.ones(2, 3), GRPOConfig(max_length=3))
    (grad,) = torch.autograd.grad(loss, logprobs)
    # positive advantage: 1.25 is inside (1 - 0.2, 1 + 0.28) so it still learns (symmetric 0.2 would stop it);
    # 1.35 is past eps_high: no gradient. Negative advantage: 0.75 is below 1 - eps_low: no gradient.
    assert grad[0, 0] < 0 and grad[0, 1] == 0 and grad[0, 2] < 0
    assert grad[1, 0] > 0 and grad[1, 1] > 0 and grad[1, 2] == 0
    assert metrics["clip_high_fraction"] == pytest.approx(1 / 6) and metrics["clip_low_fraction"] == pytest.approx(1 / 6)


def test_length_normalisation_options():
    old, logprobs, mask, rewards = batch(3)
    advantages, _ = group_advantages(rewards, G)
    per_token = -torch.min(torch.exp(logprobs - old) * advantages[:, None],
                           torch.clamp(torch.exp(logprobs - old), 0.8, 1.28) * advantages[:, None]) * mask
    fixed = grpo_loss(logprobs, old, advantages, mask, GRPOConfig(max_length=L))[0]
    own = grpo_loss(logprobs, old, advantages, mask, GRPOConfig(max_length=L, length_norm="sequence"))[0]
    token = grpo_loss(logprobs, old, advantages, mask, GRPOConfig(max_length=L, length_norm="token"))[0]
    torch.testing.assert_close(fixed, per_token.sum(1).div(L).mean())
    torch.testing.assert_close(own, (per_token.sum(1) / mask.sum(1)).mean())
    torch.testing.assert_close(token, per_token.sum() / mask.sum())


# ---- advantages ----------------------------------------------------------------------------------

def test_a_group_with_equal_rewards_gives_no_gradient():
    old, logprobs, mask, _ = batch(1)
    rewards = torch.tensor([0.7] * G + [0.1, 0.9, 0.5, 0.3] + [0.2] * G, dtype=torch.float64)
    _, grad = value_and_grad(ours, logprobs, old, rewards, mask)
    assert torch.all(grad[:G] == 0) and torch.all(grad[2 * G:] == 0) and torch.any(grad[G:2 * G] != 0)


def test_failed_rewards_are_left_out_never_scored_zero():
    rewards = torch.tensor([1.0, float("nan"), 0.0, 0.5, 0.2, 0.2, float("nan"), 0.8])
    advantages, valid = group_advantages(rewards, 4)
    assert valid.tolist() == [True, False, True, True, True, True, False, True]
    torch.testing.assert_close(advantages[:4], torch.tensor([0.5, 0.0, -0.5, 0.0]))  # mean of 1, 0, 0.5 is 0.5
    torch.testing.assert_close(advantages[4:], torch.tensor([-0.2, -0.2, 0.0, 0.4]))  # not (0.2+0.2+0+0.8)/4
    scaled, _ = group_advantages(rewards, 4, scale_by_std=True)
    std = torch.tensor([1.0, 0.0, 0.5]).std()
    torch.testing.assert_close(scaled[0], 0.5 / (std + 1e-6))
    with pytest.raises(ValueError, match="multiple of group_size=4"):
        group_advantages(torch.zeros(6), 4)


def test_a_failed_sample_is_out_of_the_loss_as_if_never_sampled():
    old, logprobs, mask, rewards = batch(4)
    rewards[5] = float("nan")
    advantages, valid = group_advantages(rewards, G)
    with_failure = grpo_loss(logprobs, old, advantages, mask, GRPOConfig(max_length=L), valid=valid)[0]
    keep = torch.arange(len(rewards)) != 5
    without = grpo_loss(logprobs[keep], old[keep], advantages[keep], mask[keep], GRPOConfig(max_length=L))[0]
    torch.testing.assert_close(with_failure, without)
    nothing = grpo_loss(logprobs, old, advantages, mask, GRPOConfig(max_length=L), valid=torch.zeros(len(rewards)))[0]
    assert nothing == 0


def test_scale_by_std_matches_the_original_grpo():
    rewards = torch.rand(G * GROUPS, dtype=torch.float64)
    scaled, _ = group_advantages(rewards, G, scale_by_std=True)
    grouped = rewards.view(-1, G)
    expected = (grouped - grouped.mean(1, keepdim=True)) / (grouped.std(1, keepdim=True) + 1e-6)
    torch.testing.assert_close(scaled, expected.view(-1))


# ---- the dynamic length reward -------------------------------------------------------------------

def test_length_bonus_rewards_concise_good_answers_once_the_group_mostly_succeeds():
    lengths = torch.tensor([100, 200, 400, 50])
    mostly_good = torch.tensor([0.9, 0.85, 0.95, 0.3])
    bonus = length_bonus(mostly_good, lengths, threshold=0.8, quantile=0.5, scale=0.1)
    assert bonus[3] == 0  # below the threshold: no bonus however short
    assert bonus[0] == pytest.approx(0.1) and bonus[1] == pytest.approx(0.05) and bonus[2] == pytest.approx(0.025)
    mostly_bad = torch.tensor([0.9, 0.2, 0.3, 0.1])
    assert torch.all(length_bonus(mostly_bad, lengths, 0.8, 0.5, 0.1) == 0)  # the task is not solved yet
    with_failure = torch.tensor([0.9, float("nan"), 0.95, 0.85])
    bonus = length_bonus(with_failure, lengths, 0.8, 0.5, 0.1)
    assert bonus[1] == 0 and bonus[0] == pytest.approx(0.1 * 50 / 100) and not math.isnan(float(bonus.sum()))
    assert torch.all(length_bonus(mostly_good, lengths, 0.8, 0.5, 0.0) == 0)  # scale 0: off


def test_config_rejects_bad_settings():
    with pytest.raises(ValueError, match="eps_low"):
        GRPOConfig(eps_low=1.2)
    with pytest.raises(ValueError, match="length_norm"):
        GRPOConfig(length_norm="bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_length"):
        GRPOConfig(max_length=0)
