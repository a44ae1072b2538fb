"""The typed training configs: every example loads, defaults are the trainers' own, and a mistake
names the file and the field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

from clinic_agents import train_grpo, train_mid  # noqa: E402
from clinic_agents.grpo_loss import GRPOConfig  # noqa: E402
from clinic_agents.grpo_trainer import TrainConfig  # noqa: E402
from clinic_agents.mid_trainer import MidConfig  # noqa: E402
from clinic_agents.train_config import GRPORunConfig, MidRunConfig, TrainConfigError, load, parse  # noqa: E402
from clinic_cli.main import main  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GRPO = {"policy": {"kind": "actions"}, "stages": [{"kind": "consultation"}]}
MID = {"model": "models/base", "sources": [{"path": "medical.txt"}]}


def docstring_config(module) -> dict:
    """The example config written in a module's docstring (after its "::")."""
    return json.loads(re.search(r"::\n\n(.*?)\n\n", module.__doc__, re.S).group(1))


@pytest.mark.parametrize("cls, path", [(GRPORunConfig, EXAMPLES / "grpo_actions.json"),
                                       (MidRunConfig, EXAMPLES / "mid_training.json")])
def test_every_example_config_loads(cls, path):
    config = load(cls, path)
    assert isinstance(config, cls) and config.out.startswith("runs/")


def test_the_configs_in_the_docs_load():
    grpo = parse(GRPORunConfig, docstring_config(train_grpo))
    assert [s.label for s in grpo.stages] == ["rubric-prompts", "consultations"] and grpo.train.eps_high == 0.28
    mid = parse(MidRunConfig, docstring_config(train_mid))
    assert mid.train.schedule == "cosine" and [s["kind"] for s in mid.sources] == ["medical", "general", "math"]


def test_defaults_are_the_trainers_own():
    grpo = parse(GRPORunConfig, GRPO)
    assert grpo.train.trainer_config(1.0, "log.jsonl", None) == TrainConfig(log_path="log.jsonl")
    assert (grpo.out, grpo.seed, grpo.checkpoint_every, grpo.max_staleness) == ("runs/grpo", 0, 10, 0)
    stage = grpo.stages[0]
    assert (stage.label, stage.steps, stage.groups_per_step, stage.group_size, stage.max_turns) == (
        "consultation", 10, 4, 8, 20)
    assert stage.case_split == "train" and stage.judge_model is None  # the builtin cases' train split
    named = parse(GRPORunConfig, {**GRPO, "stages": [{"kind": "consultation", "cases": ["pulm_cap_adult"],
                                                      "grader": "llm:judge"}]}).stages[0]
    assert named.case_split is None and named.judge_model == "judge"  # named cases are taken as named
    mid = parse(MidRunConfig, MID)
    assert mid.train.trainer_config(total_steps=mid.steps) == MidConfig(total_steps=100)
    assert (mid.seq_len, mid.blocks_per_step, mid.checkpoint_every, mid.train.reference) == (512, 8, 50, "live")


def test_values_are_converted_to_their_field_type():
    config = parse(GRPORunConfig, {**GRPO, "train": {"lr": 1, "length_norm": "token"}})
    assert config.train.lr == 1.0 and isinstance(config.train.lr, float)
    assert config.train.objective() == GRPOConfig(length_norm="token")


@pytest.mark.parametrize("data, message", [
    ({**GRPO, "lr": 1e-6}, "unknown field 'lr' in the top level of the config; expected one of policy, stages, train, "),
    ({**GRPO, "train": {"learning_rate": 1}}, "unknown field 'learning_rate' in 'train' of the config; expected one of lr, "),
    ({**GRPO, "policy": {"kind": "actions", "temp": 1}}, "unknown field 'temp' in 'policy' of the config"),
    ({**GRPO, "stages": [{"kind": "consultation"}, {"kind": "consultation", "turns": 3}]},
     r"unknown field 'turns' in 'stages\[1\]' of the config; expected one of kind, name, steps, "),
    ({"stages": GRPO["stages"]}, "the config: missing field 'policy'"),
    ({**GRPO, "stages": [{"kind": "consultation", "group_size": "8"}]},
     r"the config: stages\[0\].group_size must be an integer, got \"8\""),
    ({**GRPO, "seed": True}, "the config: seed must be an integer, got true"),
    ({**GRPO, "stages": [{"kind": "consultation", "steps": 2.5}]}, r"stages\[0\].steps must be an integer, got 2.5"),
    ({**GRPO, "stages": [{"kind": "consultation", "group_size": 0}]},
     r"stages\[0\].group_size must be an integer >= 1, got 0"),
    ({**GRPO, "train": {"lr": "fast"}}, "the config: train.lr must be a number, got \"fast\""),
    ({**GRPO, "train": {"length_norm": "bytes"}}, "train.length_norm must be 'fixed' or 'sequence' or 'token', got \"bytes\""),
    ({**GRPO, "train": {"eps_low": 1.2}}, r"the config: train: eps_low must be in \[0, 1\)"),
    ({**GRPO, "stages": [{"kind": "consultation", "cases": ["a", 3]}]},
     r"stages\[0\].cases\[1\] must be a string, got 3"),
    ({**GRPO, "stages": [{"kind": "consultation", "cases": 3}]},
     r"stages\[0\].cases must be a string or a list of strings, got 3"),
    ({**GRPO, "stages": [{"kind": "dialogue"}]}, r"stages\[0\].kind must be 'single_turn' or 'consultation'"),
    ({**GRPO, "stages": "consultation"}, "the config: stages must be a list of objects, got \"consultation\""),
    ({**GRPO, "stages": []}, "the config: stages must list at least one stage"),
    ({**GRPO, "policy": {"kind": "transformers"}}, "the config: policy: kind 'transformers' needs 'model'"),
    ({**GRPO, "policy": {"kind": "transformers", "model": "m", "generation": "sglang"}},
     "policy.generation must be 'transformers' or 'vllm', got \"sglang\""),
    ({**GRPO, "train": []}, "the config: train must be an object, got \\[\\]"),
])
def test_a_grpo_config_mistake_names_the_field(data, message):
    with pytest.raises(TrainConfigError, match=message):
        parse(GRPORunConfig, data)


@pytest.mark.parametrize("data, message", [
    ({**MID, "train": {"schedule": "linear"}}, "train.schedule must be 'constant' or 'cosine', got \"linear\""),
    ({**MID, "train": {"reference_top_k": -1}}, "train.reference_top_k must be an integer >= 0, got -1"),
    ({**MID, "sources": ["medical.txt"]}, r"sources\[0\] must be an object, got \"medical.txt\""),
    ({"sources": MID["sources"]}, "missing field 'model'"),
])
def test_a_mid_config_mistake_names_the_field(data, message):
    with pytest.raises(TrainConfigError, match=message):
        parse(MidRunConfig, data)


def test_a_file_is_named_in_its_errors_and_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**GRPO, "train": {"lr": 1e-6, "eps": 0.2}}))
    with pytest.raises(TrainConfigError, match=f"unknown field 'eps' in 'train' of {re.escape(str(path))}; "):
        load(GRPORunConfig, path)
    assert main(["train", "grpo", str(path), "--out", str(tmp_path / "run")]) == 2
    assert f"unknown field 'eps' in 'train' of {path}" in capsys.readouterr().err
    path.write_text('{"policy": ')
    with pytest.raises(TrainConfigError, match=f"{re.escape(str(path))}: cannot read the training config"):
        load(GRPORunConfig, path)
