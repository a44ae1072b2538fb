"""``clinic-env train mid CONFIG``: mid-training before RL, as Baichuan-M2 does it.

Medical, general and math text mixed 2 : 2 : 1 by tokens (``clinic_agents.mixture``), next-token loss
on every block plus ``beta`` x KL(reference || model) on general and math blocks against a
frozen copy of the starting model (``clinic_agents.mid_trainer``), and reasoning notes in medical
passages trained as a dual task (``clinic_agents.reasoning_notes``). A config (JSON; its fields,
types and defaults are ``clinic_agents.train_config.MidRunConfig``)::

    {"out": "runs/mid", "seed": 0, "model": "path/to/model", "device": "cuda",
     "seq_len": 1024, "steps": 1000, "blocks_per_step": 32, "checkpoint_every": 100,
     "sources": [
       {"name": "medical", "kind": "medical", "weight": 2, "path": "data/medical.txt"},
       {"name": "general", "kind": "general", "weight": 2, "path": "data/general.jsonl", "field": "text"},
       {"name": "math", "kind": "math", "weight": 1, "dataset": "owner/math-corpus", "split": "train"}],
     "train": {"lr": 1e-5, "beta": 1.0, "micro_batch": 4, "max_grad_norm": 1.0, "weight_decay": 0.0,
               "warmup_steps": 50, "schedule": "cosine", "min_lr": 1e-6,
               "reference": "live", "reference_top_k": 0}}

``model`` is a local transformers directory (``AutoModelForCausalLM`` and ``AutoTokenizer``);
the ``<note>`` / ``</note>`` markers are added to its tokenizer when missing. A source reads a
local file (``path``: ``.jsonl`` with a text ``field``, anything else as text with one document
per blank-line-separated paragraph, or per line with ``"by": "line"``) or a ``datasets``
dataset streamed by name (``dataset``, ``config``, ``split``, ``field``; needs ``datasets``);
``weight`` defaults to its ``kind``'s (medical 2, general 2, math 1) and ``kl`` to every kind but
medical. A source read to its end starts again from its start (the log's ``passes``).

``train.reference``: "live" keeps the frozen reference in memory; "precompute" computes its
log-probs for every step's blocks first (``OUT/reference``, one file per step; ``reference_top_k``
keeps only the top k per token) and frees it before training.

Every step appends to ``OUT/log.jsonl``: loss, CE per source kind, KL, learning rate, gradient
norm, tokens per source in the step and in the run so far, passes per source. A checkpoint
(``OUT/checkpoint.pt``: weights, optimiser, step, the mixer's position and RNG) is written every
``checkpoint_every`` steps and at the end, and ``--resume`` carries on from it to the very
weights of an uninterrupted run (``OUT/progress.json`` says which step it holds). The
trained model and tokenizer are saved to ``OUT/model`` (a model directory for ``train grpo``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch

from clinic_agents.mid_trainer import MidTrainer, frozen_reference, load_reference, precompute_reference, precomputed
from clinic_agents.mixture import Mixture, source_from_spec
from clinic_agents.reasoning_notes import add_note_tokens
from clinic_agents.train_config import MidRunConfig, TrainConfigError, load

CHECKPOINT = "checkpoint.pt"
STATE = "progress.json"
REFERENCE = "reference"


def load_config(path: str | Path) -> MidRunConfig:
    return load(MidRunConfig, path)


def _model(config: MidRunConfig) -> tuple[Any, Any]:
    """The starting model and its tokenizer, with the note markers. Seeded first: growing the
    embeddings for new markers draws from torch's RNG, and a resumed run must rebuild the very
    same starting model (its reference)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(config.seed)
    model = AutoModelForCausalLM.from_pretrained(config.model)
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    add_note_tokens(tokenizer, model)
    return model.to(config.device or ("cuda" if torch.cuda.is_available() else "cpu")), tokenizer


def _mixture(config: MidRunConfig, tokenizer: Any) -> Mixture:
    sources = []
    for i, spec in enumerate(config.sources):
        try:
            sources.append(source_from_spec(spec))
        except ValueError as err:
            raise TrainConfigError(f"sources[{i}]: {err}") from None
    try:
        return Mixture(sources, tokenizer, config.seq_len, seed=config.seed)
    except ValueError as err:
        raise TrainConfigError(str(err)) from None


def run(config: MidRunConfig, out: str | Path | None = None, resume: bool = False, progress: bool = True) -> dict:
    """Mid-train the config's model; returns the last step's metrics and where things were written."""
    out = Path(out or config.out)
    if (out / STATE).exists() and not resume:
        raise TrainConfigError(f"{out} holds a run; pass --resume to carry on, or choose another --out")
    steps, per_step, every = config.steps, config.blocks_per_step, config.checkpoint_every
    settings = config.train.trainer_config(total_steps=steps)
    model, tokenizer = _model(config)
    mixture = _mixture(config, tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    live = config.train.reference == "live"
    # copied before any checkpoint is loaded: the reference is the starting model
    reference = frozen_reference(model) if live or not precomputed(out / REFERENCE) else None
    trainer = MidTrainer(model, reference if live else None, settings)
    done = 0
    if resume and (out / STATE).exists():
        done = json.loads((out / STATE).read_text())["step"]
        checkpoint = torch.load(out / CHECKPOINT, weights_only=False)
        trainer.load_state_dict(checkpoint["trainer"])
        mixture.load_state_dict(checkpoint["mixture"])
    from tqdm.auto import tqdm

    if not live and reference is not None:
        fresh = _mixture(config, tokenizer)  # the same blocks, from the run's start
        blocks = ([fresh.next_block() for _ in range(per_step)] for _ in range(steps))
        precompute_reference(reference, tqdm(blocks, total=steps, desc="mid: reference", disable=not progress,
                                             file=sys.stderr), out / REFERENCE, settings.micro_batch,
                             config.train.reference_top_k)
    del reference  # with "precompute", the trainer holds no reference: its memory is freed here
    bar = tqdm(total=steps, initial=done, desc="mid", disable=not progress, file=sys.stderr)
    last: dict[str, Any] = {}
    for step in range(done, steps):
        blocks = [mixture.next_block() for _ in range(per_step)]
        logprobs = None if live else load_reference(out / REFERENCE, step, blocks)
        last = trainer.step(blocks, logprobs, extra={"tokens_total": dict(mixture.tokens), "passes": mixture.passes})
        with (out / "log.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps(last) + "\n")
        bar.update(1)
        bar.set_postfix(loss=f"{last['loss']:.3f}", kl="n/a" if last["kl"] is None else f"{last['kl']:.4f}")
        if (step + 1) % every == 0 or step + 1 == steps:
            torch.save({"trainer": trainer.state_dict(), "mixture": mixture.state_dict()}, out / CHECKPOINT)
            (out / STATE).write_text(json.dumps({"step": step + 1}))
    bar.close()
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    return {"out": str(out), "last": last, "checkpoint": str(out / CHECKPOINT), "model": str(out / "model")}
