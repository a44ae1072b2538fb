"""The training configs, typed: what ``clinic-env train grpo CONFIG`` and ``train mid CONFIG`` read.

Each JSON object of a config is one dataclass below; each field says what it is, and its
default is written once, here (the trainers' own defaults, ``TrainConfig``, ``GRPOConfig`` and
``MidConfig``, are referred to, not repeated). ``load(GRPORunConfig, "config.json")`` reads a
file and ``parse(GRPORunConfig, data)`` a dict; both check every key against the fields and
every value against its type, and a mistake raises ``TrainConfigError`` naming the file and the
field::

    unknown field 'learning_rate' in 'train' of config.json; expected one of lr, weight_decay, ...
    config.json: stages[0].group_size must be an integer >= 1, got "8"
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from clinic_agents.grpo_loss import GRPOConfig, LengthNorm
from clinic_agents.grpo_trainer import TrainConfig
from clinic_agents.mid_trainer import MidConfig

T = TypeVar("T")


class TrainConfigError(ValueError):
    """A training config that cannot run; the message names the file and the field."""


def at_least(minimum: float, default: Any) -> Any:
    """A field whose value must be >= ``minimum``."""
    return field(default=default, metadata={"min": minimum})


# ---- clinic-env train grpo ------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyConfig:
    """``policy``: the model trained, and how it samples."""

    kind: Literal["transformers", "actions"]
    """"transformers": a causal LM with its tokenizer and chat template; "actions": the tiny policy
    over whole actions of ``clinic_agents.action_policy`` (consultations only)."""
    model: str | None = None
    """The transformers model directory or hub id (kind "transformers")."""
    temperature: float = 1.0
    """Sampling temperature; the trainer re-scores log-probs at the same temperature."""
    max_new_tokens: int = at_least(1, 256)
    """Tokens generated per turn at most."""
    generation: Literal["transformers", "vllm"] = "transformers"
    """Where sampling runs: the trained model itself, or a vLLM engine (``clinic_agents.vllm_sampler``)."""
    device: str | None = None
    """The torch device of the model; default cuda when available, else cpu."""
    vllm: dict[str, Any] = field(default_factory=dict)
    """Engine arguments for generation "vllm"."""

    def __post_init__(self) -> None:
        if self.kind == "transformers" and not self.model:
            raise ValueError("kind 'transformers' needs 'model', a model directory or hub id")


@dataclass(frozen=True)
class StageConfig:
    """One entry of ``stages``: a run of GRPO steps on one kind of data and reward."""

    kind: Literal["single_turn", "consultation"]
    """"single_turn": answers to HealthBench-format prompts graded by their rubrics;
    "consultation": whole consultations scored by the case rubric."""
    name: str | None = None
    """The stage's name in the log; default its kind."""
    steps: int = at_least(1, 10)
    """Optimiser steps in the stage."""
    groups_per_step: int = at_least(1, 4)
    """Groups (one prompt or case and seed each) per step."""
    group_size: int = at_least(1, 8)
    """Samples per group: G, over which advantages are taken."""
    grader: str = "offline"
    """"offline" (rubric matchers) or "llm:MODEL", the LLM judge scoring each group."""
    data: str | None = None
    """single_turn: the HealthBench-format JSONL file of prompts."""
    cases: str | list[str] = "builtin"
    """consultation: a cases spec ("builtin", "split:train", "generated", ...) or a list of case ids."""
    split: str | None = None
    """consultation: the split of the cases; default "train" for the builtin cases, else all of them."""
    max_turns: int = at_least(1, 20)
    """consultation: the doctor's turns at most."""

    def __post_init__(self) -> None:
        if self.kind == "single_turn" and self.data is None:
            raise ValueError("kind 'single_turn' needs 'data', a HealthBench-format JSONL file")
        if self.grader != "offline" and not (self.grader.startswith("llm:") and len(self.grader) > 4):
            raise ValueError(f"grader must be 'offline' or 'llm:MODEL', got {self.grader!r}")

    @property
    def label(self) -> str:
        return self.name or self.kind

    @property
    def judge_model(self) -> str | None:
        """The LLM judge's model, or None for the offline grader."""
        return None if self.grader == "offline" else self.grader[4:]

    @property
    def case_split(self) -> str | None:
        return self.split if self.split is not None or self.cases != "builtin" else "train"


@dataclass(frozen=True)
class GRPOTrainSettings:
    """``train``: the optimiser (``grpo_trainer.TrainConfig``) and the objective (``grpo_loss.GRPOConfig``)."""

    lr: float = at_least(0, TrainConfig.lr)
    """AdamW learning rate."""
    weight_decay: float = TrainConfig.weight_decay
    """AdamW weight decay."""
    micro_batch: int = at_least(1, TrainConfig.micro_batch)
    """Trajectories per forward pass; a step's are accumulated."""
    max_grad_norm: float = TrainConfig.max_grad_norm
    """Gradient norm clip."""
    eps_low: float = GRPOConfig.eps_low
    """Lower clip of the ratio: 1 - eps_low."""
    eps_high: float = GRPOConfig.eps_high
    """Upper clip of the ratio: 1 + eps_high (> eps_low: Baichuan-M2's asymmetric clipping)."""
    max_length: int = GRPOConfig.max_length
    """L, the fixed normaliser of the summed token loss ("fixed" length_norm)."""
    length_norm: LengthNorm = GRPOConfig.length_norm
    """"fixed" (divide by max_length), "sequence" (by each response's length) or "token" (by all tokens)."""
    scale_by_std: bool = GRPOConfig.scale_by_std
    """Divide advantages by the group's standard deviation (Baichuan-M2 does not)."""
    length_threshold: float = GRPOConfig.length_threshold
    """Dynamic length reward: only groups whose best reward reaches this get it."""
    length_quantile: float = GRPOConfig.length_quantile
    """Dynamic length reward: responses shorter than this quantile of their group's lengths get it."""
    length_scale: float = GRPOConfig.length_scale
    """Dynamic length reward: its size; 0 turns it off."""

    def __post_init__(self) -> None:
        self.objective()  # GRPOConfig checks the objective's ranges

    def objective(self) -> GRPOConfig:
        return GRPOConfig(**{f.name: getattr(self, f.name) for f in fields(GRPOConfig) if hasattr(self, f.name)})

    def trainer_config(self, temperature: float, log_path: str, tensorboard_dir: str | None) -> TrainConfig:
        """The trainer's config: these settings plus the sampling temperature and where to log."""
        return TrainConfig(lr=self.lr, weight_decay=self.weight_decay, micro_batch=self.micro_batch,
                           max_grad_norm=self.max_grad_norm, temperature=temperature, grpo=self.objective(),
                           log_path=log_path, tensorboard_dir=tensorboard_dir)


@dataclass(frozen=True)
class GRPORunConfig:
    """A ``clinic-env train grpo`` config: one policy trained through its stages in order."""

    policy: PolicyConfig
    """The model trained."""
    stages: list[StageConfig]
    """The stages, in order; the policy is carried from one to the next."""
    train: GRPOTrainSettings = field(default_factory=GRPOTrainSettings)
    """Optimiser and objective settings."""
    out: str = "runs/grpo"
    """The run's folder (``--out`` overrides it)."""
    seed: int = 0
    """Seeds the policy's initialisation and the sampling."""
    checkpoint_every: int = at_least(1, 10)
    """Steps between checkpoints (one is also written at each stage's end)."""
    max_staleness: int = at_least(0, 0)
    """Steps whose groups may be generated while an earlier step trains; 0 is fully on-policy."""
    tensorboard_dir: str | None = None
    """Where the trainer writes TensorBoard scalars, when TensorBoard is installed."""

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("stages must list at least one stage")
        for i, stage in enumerate(self.stages):
            if stage.kind == "single_turn" and self.policy.kind == "actions":
                raise ValueError(f"stages[{i}]: the actions policy plays consultations only")


# ---- clinic-env train mid -------------------------------------------------------------------------


@dataclass(frozen=True)
class MidTrainSettings:
    """``train``: the mid-training update (``mid_trainer.MidConfig``) and the reference's keeping."""

    lr: float = at_least(0, MidConfig.lr)
    """AdamW peak learning rate."""
    beta: float = at_least(0, MidConfig.beta)
    """Weight of KL(reference || model) on general and math blocks."""
    micro_batch: int = at_least(1, MidConfig.micro_batch)
    """Blocks per forward pass; a step's blocks are accumulated."""
    weight_decay: float = MidConfig.weight_decay
    """AdamW weight decay."""
    max_grad_norm: float = MidConfig.max_grad_norm
    """Gradient norm clip."""
    warmup_steps: int = at_least(0, MidConfig.warmup_steps)
    """Linear warm-up steps up to lr."""
    schedule: Literal["constant", "cosine"] = MidConfig.schedule
    """After warm-up: constant lr, or cosine down to min_lr at the last step."""
    min_lr: float = MidConfig.min_lr
    """The cosine schedule's final learning rate."""
    reference: Literal["live", "precompute"] = "live"
    """"live" keeps the frozen reference in memory; "precompute" stores its log-probs for every
    step first (``OUT/reference``) and frees it."""
    reference_top_k: int = at_least(0, 0)
    """With "precompute": keep only the reference's top k log-probs per token; 0 keeps all."""

    def trainer_config(self, total_steps: int) -> MidConfig:
        """The trainer's config for a run of ``total_steps`` steps."""
        return MidConfig(**{f.name: getattr(self, f.name) for f in fields(MidConfig) if hasattr(self, f.name)},
                         total_steps=total_steps)


@dataclass(frozen=True)
class MidRunConfig:
    """A ``clinic-env train mid`` config: a model, the text sources it is mid-trained on, the update."""

    model: str
    """The local transformers model directory trained (and, frozen, the KL reference)."""
    sources: list[dict[str, Any]]
    """The text sources, each read by ``clinic_agents.mixture.source_from_spec``: ``name``, ``kind``
    (medical, general or math), ``weight``, ``kl``, and ``path`` [+ ``field`` / ``by``] or
    ``dataset`` [+ ``config``, ``split``, ``field``]."""
    train: MidTrainSettings = field(default_factory=MidTrainSettings)
    """Update settings."""
    out: str = "runs/mid"
    """The run's folder (``--out`` overrides it)."""
    seed: int = 0
    """Seeds the model's new embeddings and the mixer."""
    device: str | None = None
    """The torch device; default cuda when available, else cpu."""
    seq_len: int = at_least(2, 512)
    """Tokens per block."""
    steps: int = at_least(1, 100)
    """Optimiser steps."""
    blocks_per_step: int = at_least(1, 8)
    """Blocks per step."""
    checkpoint_every: int = at_least(1, 50)
    """Steps between checkpoints (one is also written at the end)."""

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("sources must list at least one source")


# ---- reading ---------------------------------------------------------------------------------------


def load(cls: type[T], path: str | Path) -> T:
    """The config of type ``cls`` in the JSON file ``path``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TrainConfigError(f"{path}: cannot read the training config: {err}") from None
    return parse(cls, data, source=str(path))


def parse(cls: type[T], data: Any, source: str = "the config", section: str = "") -> T:
    """``data`` as a ``cls``: every key one of its fields, every value of its field's type.
    ``section`` is the dotted path of ``data`` within the file ("" at the top)."""
    where = f"'{section}'" if section else "the top level"
    if not isinstance(data, dict):
        raise TrainConfigError(f"{source}: {section or 'the config'} must be an object, got {_shown(data)}")
    known = [f.name for f in fields(cls)]
    for key in data:
        if key not in known:
            raise TrainConfigError(f"unknown field {key!r} in {where} of {source}; expected one of {', '.join(known)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in fields(cls):
        name = f"{section}.{f.name}" if section else f.name
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise TrainConfigError(f"{source}: missing field {name!r}")
            continue
        values[f.name] = _value(hints[f.name], data[f.name], name, source)
        if "min" in f.metadata and values[f.name] < f.metadata["min"]:
            raise TrainConfigError(f"{source}: {name} must be {_described(hints[f.name])} >= {f.metadata['min']}, "
                                   f"got {_shown(data[f.name])}")
    try:
        return cls(**values)
    except ValueError as err:
        raise TrainConfigError(f"{source}: {section + ': ' if section else ''}{err}") from None


def _value(hint: Any, value: Any, name: str, source: str) -> Any:
    """``value`` checked against ``hint`` (and converted: an int where a float is expected)."""
    if is_dataclass(hint):
        return parse(hint, value, source, name)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and isinstance(value, list):
        return [_value(args[0], item, f"{name}[{i}]", source) for i, item in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        for arm in args:
            if _fits(arm, value):
                return _value(arm, value, name, source)
    elif _fits(hint, value):
        return float(value) if hint is float else value
    raise TrainConfigError(f"{source}: {name} must be {_described(hint)}, got {_shown(value)}")


def _fits(hint: Any, value: Any) -> bool:
    """Whether ``value``'s JSON type is ``hint``'s (the items of a list are checked later)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    return isinstance(value, origin or (dict if is_dataclass(hint) else hint))


def _described(hint: Any) -> str:
    """A type in words, for error messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_described(a) for a in args)
    if origin is list:
        return f"a list of {_described(args[0]).removeprefix('a ').removeprefix('an ')}s"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "null",
            dict: "an object"}.get(origin or hint, "an object")


def _shown(value: Any) -> str:
    return json.dumps(value)[:80]
