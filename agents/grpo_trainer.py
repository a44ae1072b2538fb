"""The GRPO update for a transformers causal LM: groups of trajectories in, one optimiser step out.

    trainer = GRPOTrainer(model, TrainConfig(lr=1e-5, micro_batch=4, log_path="runs/grpo/log.jsonl"))
    metrics = trainer.step(groups)          # groups: lists of trajectories of one case and seed
    trainer.save("runs/grpo/checkpoint")    # model, optimiser, step, RNG: resumable with load()

A trajectory is anything with ``token_ids``, ``loss_mask``, ``logprobs`` (generation-time,
per token) and ``reward`` (``clinic_agents.multi_turn.Trajectory``). Per group: the rewards (plus
the dynamic length bonus when its scale is set) become advantages (``group_advantages``:
reward minus the group mean, ``NaN`` rewards left out); then every trajectory is
re-scored by the current model (teacher forcing on the ids it generated), the clipped loss
of ``clinic_agents.grpo_loss`` is taken over the masked tokens, and gradients are accumulated over
micro-batches before one optimiser step. The loss of each micro-batch is weighted by its
share of the batch, so accumulation gives the gradient of the whole batch.

Each step appends one JSON line to ``log_path``: step, loss, mean reward and its share of
failed samples, per-dimension scores when the trajectories carry them, generated length,
clip fractions, entropy of the policy on the generated tokens, approximate KL, gradient
norm; and writes the same scalars to TensorBoard when it is installed and ``tensorboard_dir``
is set.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from clinic_agents.grpo_loss import GRPOConfig, group_advantages, grpo_loss, length_bonus


@dataclass
class TrainConfig:
    lr: float = 1e-5
    weight_decay: float = 0.0
    micro_batch: int = 8
    max_grad_norm: float = 1.0
    temperature: float = 1.0  # the sampling temperature: log-probs are of the logits over it, as at generation
    grpo: GRPOConfig = field(default_factory=GRPOConfig)
    log_path: str | None = None
    tensorboard_dir: str | None = None


def _pad(rows: Sequence[Sequence[float]], value: float, dtype: torch.dtype) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([list(r) + [value] * (width - len(r)) for r in rows], dtype=dtype)


class GRPOTrainer:
    def __init__(self, model: Any, config: TrainConfig | None = None, device: str | None = None) -> None:
        config = config or TrainConfig()
        self.model, self.config = model, config
        self.device = device or next(model.parameters()).device.type
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.step_count = 0
        self._tensorboard = None
        if config.tensorboard_dir:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tensorboard = SummaryWriter(config.tensorboard_dir)
            except ImportError:  # TensorBoard is optional; the JSONL log is always written
                self._tensorboard = None

    # ---- one update ------------------------------------------------------------------------------

    def advantages(self, groups: Sequence[Sequence[Any]]) -> tuple[list[Any], torch.Tensor, torch.Tensor]:
        """The flat trajectories, their advantages and the mask of those that count."""
        flat, advantages, valid = [], [], []
        grpo = self.config.grpo
        for group in groups:
            rewards = torch.tensor([float(t.reward) for t in group], dtype=torch.float64)
            if grpo.length_scale:
                lengths = torch.tensor([sum(t.loss_mask) for t in group])
                rewards = rewards + length_bonus(rewards, lengths, grpo.length_threshold, grpo.length_quantile,
                                                 grpo.length_scale).double()
            adv, ok = group_advantages(rewards, len(group), grpo.scale_by_std, grpo.std_eps)
            flat += list(group)
            advantages.append(adv)
            valid.append(ok)
        return flat, torch.cat(advantages), torch.cat(valid)

    def step(self, groups: Sequence[Sequence[Any]], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """One optimiser step on the groups; returns (and logs) the step's metrics, with ``extra``
        fields (a stage's name...) added to the record."""
        trajectories, advantages, valid = self.advantages(groups)
        kept = [i for i in range(len(trajectories)) if valid[i]]
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        totals = {"loss": 0.0, "clip_low_fraction": 0.0, "clip_high_fraction": 0.0, "approx_kl": 0.0, "entropy": 0.0}
        for start in range(0, len(kept), self.config.micro_batch):
            chunk = kept[start:start + self.config.micro_batch]
            weight = len(chunk) / len(kept)
            loss, metrics = self._micro_batch([trajectories[i] for i in chunk], advantages[chunk])
            (loss * weight).backward()
            totals["loss"] += float(loss.detach()) * weight
            for key, value in metrics.items():
                totals[key] += value * weight
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)) if kept \
            else 0.0
        if kept:
            self.optimizer.step()
        self.step_count += 1
        record = {**self._record(trajectories, valid, totals, grad_norm), **(extra or {})}
        self._log(record)
        return record

    def _micro_batch(self, batch: list[Any], advantages: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        ids = _pad([t.token_ids for t in batch], 0, torch.long).to(self.device)
        mask = _pad([t.loss_mask for t in batch], 0, torch.float32).to(self.device)
        old = _pad([t.logprobs for t in batch], 0.0, torch.float32).to(self.device)
        attention = _pad([[1] * len(t.token_ids) for t in batch], 0, torch.long).to(self.device)
        logits = self.model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
        logits = logits / self.config.temperature
        log_softmax = torch.log_softmax(logits, dim=-1)
        logprobs = log_softmax.gather(2, ids[:, 1:].unsqueeze(2)).squeeze(2)
        token_mask, old = mask[:, 1:], old[:, 1:]
        loss, metrics = grpo_loss(logprobs, old, advantages.to(self.device), token_mask, self.config.grpo)
        with torch.no_grad():
            entropy = -(log_softmax.exp() * log_softmax).sum(-1)
            metrics["entropy"] = float((entropy * token_mask).sum() / token_mask.sum().clamp(min=1))
        return loss, metrics

    def _record(self, trajectories: list[Any], valid: torch.Tensor, totals: dict[str, float],
                grad_norm: float) -> dict[str, Any]:
        rewards = [float(t.reward) for t in trajectories]
        scored = [r for r in rewards if not math.isnan(r)]
        record: dict[str, Any] = {
            "step": self.step_count, **{k: round(v, 6) for k, v in totals.items()},
            "reward": sum(scored) / len(scored) if scored else None,
            "failed_fraction": 1 - len(scored) / len(rewards) if rewards else 0.0,
            "generated_length": sum(sum(t.loss_mask) for t in trajectories) / max(1, len(trajectories)),
            "grad_norm": grad_norm, "samples": len(trajectories), "samples_used": int(valid.sum()),
        }
        dimensions: dict[str, list[float]] = {}
        for t in trajectories:
            info = getattr(t, "info", None) or {}
            for name, value in ((info.get("reward_breakdown") or {}).get("dimensions") or {}).items():
                dimensions.setdefault(name, []).append(value)
        if dimensions:
            record["dimensions"] = {k: sum(v) / len(v) for k, v in dimensions.items()}
        return record

    def _log(self, record: dict[str, Any]) -> None:
        if self.config.log_path:
            path = Path(self.config.log_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if self._tensorboard is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)) and value is not None:
                    self._tensorboard.add_scalar(f"grpo/{key}", value, self.step_count)

    # ---- checkpoints -----------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Model weights, optimiser state, step and RNG states: ``load`` carries on from here."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        torch.save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "step": self.step_count, "config": asdict(self.config),
                    "rng": {"torch": torch.get_rng_state(), "python": random.getstate()}},
                   directory / "trainer.pt")
        return directory

    def load(self, directory: str | Path) -> None:
        state = torch.load(Path(directory) / "trainer.pt", weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step_count = state["step"]
        torch.set_rng_state(state["rng"]["torch"])
        random.setstate(state["rng"]["python"])
