"""The mid-training update for a transformers causal LM: next-token loss on every block, plus
KL to a frozen reference (the starting model) on general and math blocks.

    trainer = MidTrainer(model, frozen_reference(model), MidConfig(lr=1e-5, beta=1.0))
    metrics = trainer.step(blocks)      # blocks of ``clinic_agents.mixture``: one optimiser step
    state = trainer.state_dict()        # weights, optimiser, step: trainer.load_state_dict(state) resumes

The loss of a step, over the loss tokens t of all its blocks (``loss_mask``; N of them)::

    L = 1/N * sum_t [ CE_t + beta * KL_t * (t is in a block whose source has kl) ]
    CE_t = -log p(x_t | x_<t)
    KL_t = sum_v p_ref(v | x_<t) * (log p_ref(v | x_<t) - log p(v | x_<t))   (the whole vocabulary)

KL(reference || model) penalises the model wherever it drops probability the starting model
gave, which is what keeps general and math ability while medical blocks (CE only) pull the
model towards medicine. Medical blocks carry no KL: moving away from the reference there is
the point. Dividing by the step's N (not per micro-batch) makes gradient accumulation give the
gradient of the whole step.

The reference (``frozen_reference``) is a deep copy in eval mode whose parameters need no
gradient, run under ``torch.no_grad()``, and only on the blocks that have KL. To save memory,
its log-probs can be computed ahead of time instead (``precompute_reference``: one pass over
the run's blocks, written to disk a step per file, after which the reference model is freed),
and kept for only the reference's ``top_k`` tokens per position: the KL is then taken over those
k tokens plus one bucket for the rest of the vocabulary, a lower bound of the full KL that
shrinks what is stored from V to 2k numbers per token.

A step returns its metrics: step, loss, CE per source kind, KL (mean over the KL blocks' loss
tokens, whatever ``beta``), learning rate, gradient norm, tokens per source in the step, and any
``extra`` fields the caller adds (``clinic_agents.train_mid`` writes them to its JSONL log).
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from clinic_agents.mixture import Block


@dataclass
class MidConfig:
    lr: float = 1e-5
    beta: float = 1.0  # weight of KL(reference || model) on KL blocks
    micro_batch: int = 4  # blocks per forward pass; a step's blocks are accumulated
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    warmup_steps: int = 0  # linear warm-up from lr / warmup_steps
    schedule: str = "constant"  # or "cosine": from lr down to min_lr at total_steps
    min_lr: float = 0.0
    total_steps: int = 0


@dataclass
class ReferenceLogprobs:
    """The reference's next-token log-probs at each position of a block, [seq_len - 1, V]; or
    only its ``top_k`` largest, [seq_len - 1, k], with their token ids in ``indices``."""

    values: torch.Tensor
    indices: torch.Tensor | None = None


def frozen_reference(model: Any) -> Any:
    """A copy of ``model`` that training never changes: eval mode, no parameter needs a gradient."""
    reference = copy.deepcopy(model).eval()
    for parameter in reference.parameters():
        parameter.requires_grad_(False)
    return reference


def kl_to_reference(logprobs: torch.Tensor, values: torch.Tensor, indices: torch.Tensor | None) -> torch.Tensor:
    """KL(reference || model) per position. ``logprobs``: the model's, [..., V]; ``values``: the
    reference's, [..., V], or its top k, [..., k], at token ids ``indices`` (the rest of the
    vocabulary then counts as one bucket on each side)."""
    if indices is None:
        return (values.exp() * (values - logprobs)).sum(-1)
    top = logprobs.gather(-1, indices)
    p_ref = values.exp()
    rest_ref = (1 - p_ref.sum(-1)).clamp(min=0)
    rest_model = (1 - top.exp().sum(-1)).clamp(min=1e-12)
    return (p_ref * (values - top)).sum(-1) + torch.xlogy(rest_ref, rest_ref) - torch.xlogy(rest_ref, rest_model)


def reference_logprobs(reference: Any, blocks: Sequence[Block], top_k: int = 0) -> list[ReferenceLogprobs | None]:
    """The reference's log-probs for each KL block (None for the others), without gradients."""
    rows = [i for i, block in enumerate(blocks) if block.kl]
    out: list[ReferenceLogprobs | None] = [None] * len(blocks)
    if not rows:
        return out
    device = next(reference.parameters()).device
    with torch.no_grad():
        ids = torch.tensor([blocks[i].input_ids for i in rows], device=device)
        logprobs = torch.log_softmax(reference(input_ids=ids).logits[:, :-1].float(), dim=-1)
        values, indices = logprobs.topk(top_k, dim=-1) if top_k else (logprobs, None)
    for n, i in enumerate(rows):
        out[i] = ReferenceLogprobs(values[n], None if indices is None else indices[n])
    return out


def precompute_reference(reference: Any, steps: Iterable[Sequence[Block]], directory: str | Path,
                         micro_batch: int, top_k: int = 0) -> None:
    """Write the reference's log-probs for each step's KL blocks to ``directory`` (a file per
    step, with the blocks' ids so that ``load_reference`` can check it is handed the same
    blocks), then mark the directory complete. An interrupted pass is simply run again."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "complete").unlink(missing_ok=True)
    for step, blocks in enumerate(steps):
        kept = {"input_ids": [], "values": [], "indices": []}
        for start in range(0, len(blocks), micro_batch):
            chunk = blocks[start:start + micro_batch]
            for block, ref in zip(chunk, reference_logprobs(reference, chunk, top_k)):
                if ref is not None:  # clones: a row of the batch must not drag the batch's storage along
                    kept["input_ids"].append(block.input_ids)
                    kept["values"].append(ref.values.cpu().clone())
                    kept["indices"].append(None if ref.indices is None else ref.indices.cpu().clone())
        torch.save(kept, directory / f"{step:06d}.pt")
    (directory / "complete").write_text("")


def precomputed(directory: str | Path) -> bool:
    return (Path(directory) / "complete").exists()


def load_reference(directory: str | Path, step: int, blocks: Sequence[Block]) -> list[ReferenceLogprobs | None]:
    """The precomputed log-probs of step ``step``, one per block (None for blocks without KL)."""
    kept = torch.load(Path(directory) / f"{step:06d}.pt", weights_only=True)
    stored = iter(zip(kept["input_ids"], kept["values"], kept["indices"]))
    out: list[ReferenceLogprobs | None] = []
    for block in blocks:
        if not block.kl:
            out.append(None)
            continue
        ids, values, indices = next(stored, (None, None, None))
        if ids != block.input_ids:
            raise ValueError(f"{directory}: the reference log-probs of step {step} are of other blocks "
                             "(the data or the config changed since they were computed): delete the directory")
        out.append(ReferenceLogprobs(values, indices))
    return out


class MidTrainer:
    def __init__(self, model: Any, reference: Any | None, config: MidConfig | None = None) -> None:
        """``reference``: a ``frozen_reference`` of the starting model, or None when every step is
        given precomputed reference log-probs."""
        config = config or MidConfig()
        self.model, self.reference, self.config = model, reference, config
        self.device = next(model.parameters()).device
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.step_count = 0

    def learning_rate(self, step: int) -> float:
        """The learning rate of update ``step`` (0-based): linear warm-up, then constant or cosine."""
        c = self.config
        if step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        if c.schedule == "cosine":
            progress = min(1.0, (step - c.warmup_steps) / max(1, c.total_steps - c.warmup_steps))
            return c.min_lr + (c.lr - c.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
        return c.lr

    def step(self, blocks: Sequence[Block], reference: Sequence[ReferenceLogprobs | None] | None = None,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """One optimiser step over ``blocks``, with the reference's log-probs given (precomputed)
        or computed here from the reference model; returns the step's metrics, with ``extra``."""
        lr = self.learning_rate(self.step_count)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        totals = self._losses(blocks, reference, backward=True)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm))
        self.optimizer.step()
        self.step_count += 1
        tokens: dict[str, int] = defaultdict(int)
        for block in blocks:
            tokens[block.source] += block.tokens
        return {"step": self.step_count, **totals, "lr": lr, "grad_norm": grad_norm, "tokens": dict(tokens),
                **(extra or {})}

    def evaluate(self, blocks: Sequence[Block], reference: Sequence[ReferenceLogprobs | None] | None = None
                 ) -> dict[str, Any]:
        """The step's metrics (loss, CE per kind, KL) on ``blocks`` without changing the model."""
        self.model.eval()
        with torch.no_grad():
            return self._losses(blocks, reference, backward=False)

    def _losses(self, blocks: Sequence[Block], reference: Sequence[ReferenceLogprobs | None] | None,
                backward: bool) -> dict[str, Any]:
        n_loss = sum(sum(block.loss_mask[1:]) for block in blocks)
        if n_loss == 0:
            raise ValueError("no block carries a loss token")
        ce_sum: dict[str, float] = defaultdict(float)
        ce_count: dict[str, int] = defaultdict(int)
        loss_sum, kl_sum, kl_count = 0.0, 0.0, 0
        for start in range(0, len(blocks), self.config.micro_batch):
            chunk = blocks[start:start + self.config.micro_batch]
            refs = reference[start:start + self.config.micro_batch] if reference is not None \
                else self._live_reference(chunk)
            ce, kl, mask = self._token_terms(chunk, refs)
            loss = (mask * (ce + self.config.beta * kl)).sum() / n_loss
            if backward:
                loss.backward()
            loss_sum += float(loss.detach())
            for row, block in enumerate(chunk):
                ce_sum[block.kind] += float((ce[row] * mask[row]).sum().detach())
                ce_count[block.kind] += int(mask[row].sum())
                if block.kl:
                    kl_sum += float((kl[row] * mask[row]).sum().detach())
                    kl_count += int(mask[row].sum())
        return {"loss": loss_sum, "ce": {kind: ce_sum[kind] / max(1, ce_count[kind]) for kind in ce_sum},
                "kl": kl_sum / kl_count if kl_count else None, "loss_tokens": n_loss}

    def _live_reference(self, chunk: Sequence[Block]) -> list[ReferenceLogprobs | None]:
        if self.reference is not None:
            return reference_logprobs(self.reference, chunk)
        if any(block.kl for block in chunk):
            raise ValueError("KL blocks need a reference model or precomputed reference log-probs")
        return [None] * len(chunk)

    def _token_terms(self, chunk: Sequence[Block], refs: Sequence[ReferenceLogprobs | None]
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per predicted position of each block: CE, KL (0 outside KL blocks) and the loss mask."""
        ids = torch.tensor([block.input_ids for block in chunk], device=self.device)
        mask = torch.tensor([block.loss_mask for block in chunk], dtype=torch.float32, device=self.device)[:, 1:]
        logprobs = torch.log_softmax(self.model(input_ids=ids).logits[:, :-1].float(), dim=-1)
        ce = -logprobs.gather(2, ids[:, 1:, None]).squeeze(2)
        rows = [i for i, ref in enumerate(refs) if ref is not None]
        kl = torch.zeros_like(ce)
        if rows:
            values = torch.stack([refs[i].values for i in rows]).to(self.device)
            indices = None if refs[rows[0]].indices is None else torch.stack([refs[i].indices for i in rows]).to(
                self.device)
            kl = kl.index_copy(0, torch.tensor(rows, device=self.device), kl_to_reference(logprobs[rows], values,
                                                                                         indices))
        return ce, kl, mask

    # ---- resuming --------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs of the trainer: weights, optimiser state, step count and torch's
        RNG (dropout, where a model has it)."""
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step_count,
                "torch_rng": torch.get_rng_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step_count = state["step"]
        torch.set_rng_state(state["torch_rng"])
