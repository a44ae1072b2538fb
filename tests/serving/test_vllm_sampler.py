"""GRPO generation on a vLLM engine: the ids and log-probs the trainer gets are the engine's,
equal to the policy's own, and the trainer's weights reach the engine."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("vllm")
from clinic_agents.vllm_sampler import VLLMSampler  # noqa: E402

ENGINE = {"dtype": "float32", "max_model_len": 512, "enforce_eager": True}


@pytest.fixture(scope="module")
def sampler(tiny_model_dir):
    return VLLMSampler(str(tiny_model_dir), temperature=0.7, max_new_tokens=8, **ENGINE)


def teacher_forced(model, prompt, generated, temperature):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt + generated])).logits[0, len(prompt) - 1:-1].float()
    return torch.log_softmax(logits / temperature, -1).gather(1, torch.tensor(generated)[:, None])[:, 0]


def prompt_ids(tokenizer):
    text = tokenizer.apply_chat_template([{"role": "user", "content": "I have had a cough for days"}],
                                         add_generation_prompt=True, tokenize=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_logprobs_are_the_policys_at_the_sampling_temperature(sampler, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    prompt = prompt_ids(sampler.tokenizer)
    ids, logprobs = sampler.sample(prompt, seed=3)
    assert ids and sampler.sample(prompt, seed=3) == (ids, logprobs)  # seeded
    torch.testing.assert_close(torch.tensor(logprobs), teacher_forced(model, prompt, ids, 0.7), atol=1e-4, rtol=0)
    with torch.no_grad():  # an update: the engine follows once the weights are loaded
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    sampler.load_weights(model.state_dict())
    ids, logprobs = sampler.sample(prompt, seed=3)
    torch.testing.assert_close(torch.tensor(logprobs), teacher_forced(model, prompt, ids, 0.7), atol=1e-4, rtol=0)


def test_a_training_run_can_generate_on_vllm(tmp_path, tiny_model_dir):
    from clinic_agents import train_grpo
    from clinic_agents.train_config import GRPORunConfig, parse

    config = {"seed": 0, "max_staleness": 1,
              "policy": {"kind": "transformers", "model": str(tiny_model_dir), "generation": "vllm", "vllm": ENGINE,
                         "max_new_tokens": 6, "device": "cpu"},
              "train": {"lr": 1e-3, "micro_batch": 4, "max_length": 32},
              "stages": [{"name": "consultations", "kind": "consultation", "cases": ["pulm_cap_adult"], "steps": 3,
                          "groups_per_step": 1, "group_size": 2, "max_turns": 2}]}
    result = train_grpo.run(parse(GRPORunConfig, config), out=tmp_path / "run", progress=False)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [(r["step"], r["policy_version"]) for r in log] == [(1, 0), (2, 0), (3, 1)]
    assert result["last"]["samples_used"] >= 0 and all(r["generated_length"] > 0 for r in log)
