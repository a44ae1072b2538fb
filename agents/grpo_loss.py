"""Baichuan-M2's GRPO objective: group advantages, the dynamic length reward and the clipped loss.

Baichuan-M2 trains with GRPO changed in four ways, each a setting here so it can be ablated:

1. no KL term (there is no reference model in this loss at all);
2. asymmetric clipping of the probability ratio (``eps_low`` 0.2, ``eps_high`` 0.28: the
   ratio of a token with a positive advantage may grow further than it may shrink);
3. length normalisation by a fixed maximum length ``L``: each response's per-token losses
   are summed and divided by ``L``, not by the response's own length (``length_norm=
   "fixed"``), then averaged over responses; so a long response is not diluted and a short
   one not inflated ("sequence" divides by the own length, "token" by all tokens of the batch);
4. the advantage is the reward minus its group's mean, not divided by the group's std
   (``scale_by_std=True`` restores the original GRPO).

With those settings the loss and its gradients equal TRL's ``loss_type="dr_grpo"``
(``beta=0``, ``epsilon_high``, ``scale_rewards="none"``) exactly. verl's
``loss_agg_mode="seq-mean-token-sum-norm"`` with ``loss_scale_factor=L`` (and
``norm_adv_by_std_in_grpo=False``) sums the responses of a micro-batch instead of averaging
them, so it is this loss times the number of responses (``tests/test_grpo_loss.py`` shows
both).

A sample whose reward could not be computed (the judge was down) has reward ``NaN``: it
is left out of its group's mean and gets no advantage and no loss, never a 0 reward. A
group whose valid rewards are all equal has zero advantages and so contributes no gradient.

The dynamic length reward (``length_bonus``): when most of a group already scores above a
threshold (the ``quantile`` of the group's rewards is at or above ``threshold``), each
response above the threshold earns a bonus inversely proportional to its length,
``scale * shortest / length`` over those responses, so among good answers the concise
ones are preferred; no bonus otherwise, so brevity never pays before the task is solved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

LengthNorm = Literal["fixed", "sequence", "token"]


@dataclass(frozen=True)
class GRPOConfig:
    """The objective's settings (Baichuan-M2's by default)."""

    eps_low: float = 0.2
    eps_high: float = 0.28
    max_length: int = 1024  # L: the fixed normaliser of "fixed" length_norm
    length_norm: LengthNorm = "fixed"
    scale_by_std: bool = False
    std_eps: float = 1e-6
    length_threshold: float = 0.8
    length_quantile: float = 0.5
    length_scale: float = 0.0  # 0 turns the dynamic length reward off

    def __post_init__(self) -> None:
        if not (0 <= self.eps_low < 1 and self.eps_high >= 0):
            raise ValueError(f"eps_low must be in [0, 1) and eps_high >= 0, got {self.eps_low}, {self.eps_high}")
        if self.max_length < 1:
            raise ValueError(f"max_length must be positive, got {self.max_length}")
        if self.length_norm not in ("fixed", "sequence", "token"):
            raise ValueError(f"length_norm must be 'fixed', 'sequence' or 'token', got {self.length_norm!r}")
        if not 0 <= self.length_quantile <= 1 or self.length_scale < 0:
            raise ValueError("length_quantile must be in [0, 1] and length_scale >= 0")


def length_bonus(rewards: torch.Tensor, lengths: torch.Tensor, threshold: float, quantile: float,
                 scale: float) -> torch.Tensor:
    """The dynamic length reward of one group (see the module doc); ``NaN`` rewards get none."""
    bonus = torch.zeros_like(rewards, dtype=torch.float32)
    valid = ~torch.isnan(rewards)
    if scale == 0 or not valid.any():
        return bonus
    if torch.quantile(rewards[valid].float(), quantile) < threshold:
        return bonus
    good = valid & (rewards >= threshold)
    shortest = lengths[good].float().min().clamp(min=1.0)
    bonus[good] = scale * shortest / lengths[good].float().clamp(min=1.0)
    return bonus


def group_advantages(rewards: torch.Tensor, group_size: int, scale_by_std: bool = False,
                     eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages (reward minus its group's mean) and the mask of samples that count.

    ``rewards`` is flat, groups of ``group_size`` consecutive samples. ``NaN`` rewards are
    left out of the mean and get advantage 0 and ``valid`` False. ``scale_by_std`` divides
    by the group's (unbiased) std plus ``eps``, as the original GRPO does.
    """
    if rewards.dim() != 1 or rewards.numel() % group_size:
        raise ValueError(f"rewards must be flat with a multiple of group_size={group_size} items, "
                         f"got shape {tuple(rewards.shape)}")
    grouped = rewards.view(-1, group_size)
    grouped = grouped if grouped.is_floating_point() else grouped.float()
    valid = ~torch.isnan(grouped)
    count = valid.sum(dim=1, keepdim=True)
    filled = torch.where(valid, grouped, torch.zeros_like(grouped))
    mean = filled.sum(dim=1, keepdim=True) / count.clamp(min=1)
    advantages = torch.where(valid, grouped - mean, torch.zeros_like(grouped))
    if scale_by_std:
        var = (advantages ** 2).sum(dim=1, keepdim=True) / (count - 1).clamp(min=1)
        std = torch.where(count > 1, var.sqrt(), torch.ones_like(var))
        advantages = advantages / (std + eps)
    return advantages.view(-1), valid.view(-1)


def grpo_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
              config: GRPOConfig = GRPOConfig(), valid: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, dict[str, float]]:
    """The clipped surrogate loss, aggregated as ``config.length_norm`` says, and its metrics.

    ``logprobs`` / ``old_logprobs``: (responses, tokens), the current policy's and the
    generating policy's log-probabilities of the generated tokens; ``advantages``: one per
    response; ``mask``: 1 on the tokens that carry loss (the doctor's own tokens);
    ``valid``: the responses that count (``group_advantages``' mask): the others are out
    of the loss and of its average, as if never sampled. Metrics: the share of masked
    tokens clipped low and high, and the mean approximate KL to the generating policy.
    """
    mask = mask.to(logprobs.dtype)
    if valid is not None:
        keep = valid.to(torch.bool)
        logprobs, old_logprobs, advantages, mask = logprobs[keep], old_logprobs[keep], advantages[keep], mask[keep]
        if not keep.any():
            return logprobs.sum() * 0.0, {"clip_low_fraction": 0.0, "clip_high_fraction": 0.0, "approx_kl": 0.0}
    ratio = torch.exp(logprobs - old_logprobs)
    clipped = torch.clamp(ratio, 1 - config.eps_low, 1 + config.eps_high)
    advantage = advantages.to(logprobs.dtype).unsqueeze(1)
    per_token = -torch.min(ratio * advantage, clipped * advantage)
    summed = (per_token * mask).sum(dim=1)
    if config.length_norm == "fixed":
        loss = (summed / config.max_length).mean()
    elif config.length_norm == "sequence":
        loss = (summed / mask.sum(dim=1).clamp(min=1)).mean()
    else:
        loss = summed.sum() / mask.sum().clamp(min=1)
    with torch.no_grad():
        tokens = mask.sum().clamp(min=1)
        metrics = {
            "clip_low_fraction": float(((ratio < 1 - config.eps_low) & (advantage < 0)).to(mask.dtype).mul(mask).sum()
                                       / tokens),
            "clip_high_fraction": float(((ratio > 1 + config.eps_high) & (advantage > 0)).to(mask.dtype).mul(mask).sum()
                                        / tokens),
            "approx_kl": float((((ratio - 1) - (logprobs - old_logprobs)) * mask).sum() / tokens),
        }
    return loss, metrics
