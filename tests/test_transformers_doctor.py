"""The transformers doctor on a tiny model built from a config, with a tokenizer built here (no downloads)."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import gymnasium as gym  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers, trainers  # noqa: E402

import clinic_env  # noqa: E402,F401
from agents.transformers_doctor import TransformersDoctor  # noqa: E402
from clinic_env.rollout import run_consultation  # noqa: E402

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|> {% endif %}")
CORPUS = ["ASK: when did the pain start ?", "EXAMINE: vitals , respiratory", "ORDER: chest x-ray",
          "DIAGNOSE: pneumonia ; pulmonary embolism", "PLAN: antibiotics and review", "I have had a cough for days"]


@pytest.fixture(scope="module")
def tiny_doctor_parts():
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["<unk>", "<pad>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    tok.train_from_iterator(CORPUS * 5, trainers.WordLevelTrainer(special_tokens=specials))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                     eos_token="<eos>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=4096, pad_token_id=tokenizer.pad_token_id,
                                      eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(config), tokenizer


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
