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


def tiny_lm(corpus, layers=1, hidden=32):
    """A Llama built from a config and a word-level tokenizer with a chat template, trained here on
    the lines of ``corpus`` (no downloads): (model, tokenizer)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["<unk>", "<pad>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=specials))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                     eos_token="<eos>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                                      num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=4096, pad_token_id=tokenizer.pad_token_id,
                                      eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(config), tokenizer


@pytest.fixture(scope="session")
def make_tiny_lm():
    """``tiny_lm``, for tests that need a tiny model with a vocabulary of their own."""
    return tiny_lm


@pytest.fixture(scope="module")
def tiny_doctor_parts():
    """A one-layer Llama and a tokenizer trained on a few doctor's lines: (model, tokenizer)."""
    return tiny_lm(CORPUS * 5)
