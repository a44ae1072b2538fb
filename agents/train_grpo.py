"""``clinic-env train grpo CONFIG``: GRPO stages in sequence, the policy carried from one to the next.

A config (JSON; its fields, types and defaults are ``clinic_agents.train_config.GRPORunConfig``)
names the policy, the update settings and the stages, as Baichuan-M2 chains them (single-turn
rubric-scored prompts first, then whole consultations)::

    {"out": "runs/grpo", "seed": 0, "checkpoint_every": 10, "max_staleness": 1,
     "policy": {"kind": "transformers", "model": "path/to/model", "temperature": 1.0, "max_new_tokens": 256},
     "train": {"lr": 1e-6, "micro_batch": 4, "max_length": 1024, "eps_low": 0.2, "eps_high": 0.28},
     "stages": [
       {"name": "rubric-prompts", "kind": "single_turn", "data": "prompts.jsonl", "steps": 100,
        "groups_per_step": 8, "group_size": 8},
       {"name": "consultations", "kind": "consultation", "cases": "generated", "steps": 200,
        "groups_per_step": 8, "group_size": 8, "max_turns": 20}]}

``policy.kind``: "transformers" (a local model directory or hub id, with its tokenizer and
chat template; ``"generation": "vllm"`` samples on a vLLM engine, ``clinic_agents.vllm_sampler``,
with engine arguments in ``"vllm"``) or "actions" (``clinic_agents.action_policy``'s tiny policy over whole actions,
consultations only). A single-turn stage reads HealthBench-format JSONL (``prompt``,
``rubrics``...); its rubric items are graded offline when they carry matchers, or by the LLM
judge in HealthBench's mode with ``"grader": "llm:MODEL"``. A
consultation stage plays cases from a cases spec ("builtin", "split:train", "generated",
...) with the offline patient and the rubric reward.

``max_staleness`` s (0: fully on-policy) lets the next s steps' groups be generated
while a step trains (``clinic_agents.pipeline``); sampling then reads a second copy of the policy,
loaded with the weights of the update each step's groups started from
(``clinic_agents.rollout_weights``), and the log's ``policy_version`` says which one that was. A
stage's pipeline drains at its end, so each stage starts on-policy.

Every step appends to ``OUT/log.jsonl`` (with the stage's name); a checkpoint is written
every ``checkpoint_every`` steps and at the end of each stage, and ``--resume`` carries on
from the last one (stage and step): to bit-identical weights when ``max_staleness`` is 0
(with s > 0 the groups in flight at the cut are generated again from the resumed weights).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

import clinic_env  # noqa: F401  (registers the env)
from clinic_agents.action_policy import play_actions, tiny_action_model
from clinic_agents.grpo_trainer import GRPOTrainer
from clinic_agents.multi_turn import Sampler, Trajectory, rollout_group
from clinic_agents.pipeline import Pipeline
from clinic_agents.rollout_weights import RolloutWeights
from clinic_agents.train_config import GRPORunConfig, PolicyConfig, StageConfig, TrainConfigError, load
from clinic_env.bench import llm_grader
from clinic_env.case_rubric import case_rubric
from clinic_rubrics.grading import GradingError
from clinic_rubrics.healthbench import load_examples
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.scoring import clipped_reward

GroupMaker = Callable[[int, int], list[Trajectory]]  # (step, j) -> group j of that step
CHECKPOINT = "checkpoint"
STATE = "progress.json"


def load_config(path: str | Path) -> GRPORunConfig:
    return load(GRPORunConfig, path)


def _policy(policy: PolicyConfig, seed: int) -> tuple[Any, Sampler | None]:
    torch.manual_seed(seed)
    if policy.kind == "actions":
        return tiny_action_model(seed), None
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(policy.model)
    tokenizer = AutoTokenizer.from_pretrained(policy.model)
    if policy.generation == "vllm":
        from clinic_agents.vllm_sampler import VLLMSampler

        model.to(policy.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        return model, VLLMSampler(policy.model, policy.temperature, policy.max_new_tokens, tokenizer, **policy.vllm)
    return model, Sampler(model, tokenizer, policy.temperature, policy.max_new_tokens, device=policy.device)


def _trainer(model: Any, config: GRPORunConfig, out: Path) -> GRPOTrainer:
    return GRPOTrainer(model, config.train.trainer_config(config.policy.temperature, str(out / "log.jsonl"),
                                                          config.tensorboard_dir))


def _single_turn_group_maker(stage: StageConfig, examples: list, sampler: Sampler) -> GroupMaker:
    """A function playing group ``j`` of step ``step``: G sampled answers to one prompt, graded
    offline by its rubric's matchers here, or left NaN for the stage's LLM judge."""
    tokenizer, per_step = sampler.tokenizer, stage.groups_per_step
    offline = stage.judge_model is None

    def group(step: int, j: int) -> list[Trajectory]:
        index = step * per_step + j
        example = examples[index % len(examples)]
        messages = [dict(m) for m in example.prompt]
        prompt = tokenizer(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False),
                           add_special_tokens=False)["input_ids"]
        out = []
        for g in range(stage.group_size):
            generated, logprobs = sampler.sample(prompt, seed=index * 1000 + g)
            transcript = messages + [{"role": "assistant", "content": tokenizer.decode(generated, skip_special_tokens=True)}]
            reward = clipped_reward(example.rubric, OfflineGrader().grade(transcript, example.rubric)) if offline \
                else math.nan
            out.append(Trajectory(prompt + generated, [0] * len(prompt) + [1] * len(generated),
                                  [0.0] * len(prompt) + logprobs, len(prompt), reward, example.prompt_id, index, 1,
                                  {"rubric": example.rubric}, transcript))
        return out

    return group


def _consultation_group_maker(stage: StageConfig, model: Any, sampler: Sampler | None) -> GroupMaker:
    """A function playing group ``j`` of step ``step``: G consultations of one case and seed,
    with the env's rubric reward (NaN when grading failed) or, for a judged stage, the judge's later."""
    size, per_step = stage.group_size, stage.groups_per_step

    # A judged stage's rewards come from the judge once a group is played (``_judge``): the env
    # then needs only a cheap placeholder reward, not a second rubric grading of every visit.
    reward = "diagnosis_match" if stage.judge_model else "rubric"

    def make_env() -> Any:
        return gym.make("clinic_env/Consultation-v0", cases=stage.cases, split=stage.case_split,
                        max_turns=stage.max_turns, reward=reward, reward_mode="terminal")

    def group(step: int, j: int) -> list[Trajectory]:
        seed = step * per_step + j
        if sampler is not None:
            return rollout_group(make_env, sampler, seed=seed, group_size=size)
        env = make_env()
        return [play_actions(env, model, seed=seed, sample_seed=seed * size + g) for g in range(size)]

    return group


async def _judge(judge: Any, trajectory: Trajectory) -> float:
    """The judge's rubric score of one trajectory (its prompt's rubric, or its case's); NaN when
    grading fails (left out of its group, never 0)."""
    rubric = trajectory.info.get("rubric") or case_rubric(trajectory.case)
    try:
        return clipped_reward(rubric, await judge.agrade(trajectory.transcript, rubric))
    except GradingError:
        return math.nan


class _Generation:
    """What sampling reads: the trained policy itself when generation never overlaps an update
    (``max_staleness`` 0), else a copy of it kept at each batch's version (``RolloutWeights``)."""

    def __init__(self, model: Any, sampler: Sampler | None, max_staleness: int) -> None:
        self.trained, self.weights = model, None
        self.model, self.sampler = model, sampler
        if hasattr(sampler, "load_weights"):  # an engine with weights of its own (``clinic_agents.vllm_sampler``)
            self.weights = RolloutWeights(sampler.load_weights, keep=max_staleness + 1)
        elif max_staleness > 0:
            self.model = copy.deepcopy(model).eval()
            self.weights = RolloutWeights(self.model.load_state_dict, keep=max_staleness + 1)
            if sampler is not None:
                self.sampler = Sampler(self.model, sampler.tokenizer, sampler.temperature, sampler.max_new_tokens,
                                       sampler.device)

    def publish(self, version: int) -> None:
        if self.weights is not None:
            self.weights.publish(version, self.trained)

    def at(self, version: int) -> Any:
        return self.weights.at(version) if self.weights is not None else contextlib.nullcontext()


async def _train_stage(stage: StageConfig, steps: range, make_group: GroupMaker, generation: _Generation,
                       max_staleness: int, first_version: int, train_step: Callable[[int, int, list], None],
                       after_step: Callable[[int], None]) -> None:
    """One stage through ``clinic_agents.pipeline``: each group is generated (in a thread), then judged
    when the stage has a judge, while the next group generates; with ``max_staleness`` s the
    next s steps' groups are generated while a step trains."""
    per_step = stage.groups_per_step
    judge = llm_grader(stage.judge_model, mode="healthbench" if stage.kind == "single_turn" else "consultation") \
        if stage.judge_model else None

    async def generate(item: tuple[int, int], version: int) -> list[Trajectory]:
        def play() -> list[Trajectory]:
            with generation.at(version):
                return make_group(*item)
        return await asyncio.to_thread(play)

    async def score(group: list[Trajectory]) -> float:
        if judge is not None:
            for trajectory, reward in zip(group, await asyncio.gather(*(_judge(judge, t) for t in group))):
                trajectory.reward = reward
        scored = [t.reward for t in group if not math.isnan(t.reward)]
        return sum(scored) / len(scored) if scored else math.nan

    pipeline = Pipeline(generate, score, max_staleness=max_staleness, generation_concurrency=1,
                        scoring_concurrency=per_step * (max_staleness + 1), publish=generation.publish)
    batches = ([(step, j) for j in range(per_step)] for step in steps)
    pipeline.policy_version = first_version  # versions count the trainer's updates over the whole run
    async for _, samples in pipeline.run(batches, lambda done: train_step(done[0].item[0], done[0].policy_version,
                                                                          [s.output for s in done])):
        after_step(samples[0].item[0])


def run(config: GRPORunConfig, out: str | Path | None = None, resume: bool = False, progress: bool = True) -> dict:
    """Train every stage in order; returns the last step's metrics and where things were written."""
    out = Path(out or config.out)
    if (out / STATE).exists() and not resume:
        raise TrainConfigError(f"{out} holds a run; pass --resume to carry on, or choose another --out")
    max_staleness = config.max_staleness
    out.mkdir(parents=True, exist_ok=True)
    model, sampler = _policy(config.policy, config.seed)
    trainer = _trainer(model, config, out)
    done = {"stage": 0, "step": 0}
    if resume and (out / STATE).exists():
        done = json.loads((out / STATE).read_text())
        trainer.load(out / CHECKPOINT)
    generation = _Generation(model, sampler, max_staleness)
    from tqdm.auto import tqdm

    stages = config.stages
    total = sum(s.steps for s in stages)
    finished = sum(s.steps for s in stages[:done["stage"]]) + done["step"]
    bar = tqdm(total=total, initial=finished, desc="grpo", disable=not progress, file=sys.stderr)
    every = config.checkpoint_every
    last: dict[str, Any] = {}
    for index in range(done["stage"], len(stages)):
        stage = stages[index]
        n_steps, name = stage.steps, stage.label
        make_group = (_single_turn_group_maker(stage, load_examples(stage.data), generation.sampler)
                      if stage.kind == "single_turn"
                      else _consultation_group_maker(stage, generation.model, generation.sampler))

        def train_step(step: int, version: int, groups: list, name: str = name) -> None:
            last.clear()
            last.update(trainer.step(groups, extra={"stage": name, "stage_step": step, "policy_version": version}))

        def after_step(step: int, name: str = name, n_steps: int = n_steps, index: int = index) -> None:
            bar.update(1)
            bar.set_postfix(stage=name, reward=f"{last['reward']:.3f}" if last["reward"] else "n/a")
            ended = step + 1 == n_steps
            if ended or (step + 1) % every == 0:
                trainer.save(out / CHECKPOINT)
                position = {"stage": index + 1, "step": 0} if ended else {"stage": index, "step": step + 1}
                (out / STATE).write_text(json.dumps(position))

        first = done["step"] if index == done["stage"] else 0
        asyncio.run(_train_stage(stage, range(first, n_steps), make_group, generation, max_staleness,
                                 trainer.step_count, train_step, after_step))
    bar.close()
    return {"out": str(out), "last": last, "checkpoint": str(out / CHECKPOINT)}
