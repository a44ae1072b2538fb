"""Shared fixtures: the builtin library and small helpers for driving the envs."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from clinic_env.cases.library import builtin_cases, get_case

# Fuzz tests draw the same examples on every run: CI stays reproducible, and a failure
# found once can be replayed. Run with HYPOTHESIS_PROFILE=explore to search afresh.
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def cases():
    return builtin_cases()


@pytest.fixture(scope="session")
def pneumonia_case():
    """The hand-written exemplar case; tests that need exact facts use it."""
    return get_case("pulm_cap_adult")


CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|> {% endif %}")
CORPUS = ["ASK: when did the pain start ?", "EXAMINE: vitals , respiratory", "ORDER: chest x-ray",
          "DIAGNOSE: pneumonia ; pulmonary embolism", "PLAN: antibiotics and review", "I have had a cough for days"]


@pytest.fixture(scope="module")
def tiny_doctor_parts():
    """A one-layer Llama built from a config and a word-level tokenizer with a chat template,
    trained here on a few lines (no downloads): (model, tokenizer)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

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
