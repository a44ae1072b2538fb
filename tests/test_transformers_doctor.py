"""The transformers doctor on a tiny model built from a config, with a tokenizer built here (no downloads)."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import gymnasium as gym  # noqa: E402

import clinic_env  # noqa: E402,F401
from clinic_agents.transformers_doctor import TransformersDoctor  # noqa: E402
from clinic_env.rollout import run_consultation  # noqa: E402


def test_generates_from_the_chat_template_and_is_reproducible(tiny_doctor_parts, pneumonia_case):
    model, tokenizer = tiny_doctor_parts
    doctor = TransformersDoctor(model, tokenizer, max_new_tokens=8, device="cpu")
    env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case], max_turns=3)
    observation, info = env.reset(seed=0)
    doctor.reset(seed=0)
    first = doctor.act(observation, info)
    expected = tokenizer.apply_chat_template(info["messages"], add_generation_prompt=True, return_dict=True)
    assert doctor.last_prompt_ids == list(expected["input_ids"])
    assert tokenizer.convert_ids_to_tokens(doctor.last_prompt_ids[:1]) == ["<|system|>"]
    assert isinstance(first, str) and 1 <= len(doctor.last_completion_ids) <= 8
    assert doctor.act(observation, info) == first  # greedy: same prompt, same action
    result = run_consultation(env, doctor, seed=0)
    assert result.truncated and result.doctor_turns == 3


def test_sampling_is_seeded_per_episode(tiny_doctor_parts, pneumonia_case):
    model, tokenizer = tiny_doctor_parts
    doctor = TransformersDoctor(model, tokenizer, max_new_tokens=12, temperature=1.5, device="cpu")
    env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case])
    observation, info = env.reset(seed=0)

    def sample(seed):
        doctor.reset(seed=seed)
        return [doctor.act(observation, info) for _ in range(3)]

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_a_tokenizer_without_chat_template_is_rejected(tiny_doctor_parts):
    model, tokenizer = tiny_doctor_parts
    bare = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer.backend_tokenizer, unk_token="<unk>")
    with pytest.raises(ValueError, match="no chat template"):
        TransformersDoctor(model, bare, device="cpu")
