"""Tiny causal LMs built from a config, for the tests, benchmarks and examples that must run on a
CPU without downloading weights.

    model, tokenizer = tiny_lm(lines, layers=2, hidden=128)   # a Llama and a word-level tokenizer
    fit(model, tokenizer, " ".join(lines), steps=30)          # so its logits are not near-ties

The tokenizer is trained here on the given lines (one token per word, plus the special tokens
of ``CHAT_TEMPLATE``), so every word of those lines is one id and the chat template renders
the roles as single tokens. A hidden size of 128 with two heads gives a head size of 64, which
vLLM's CPU kernels accept. ``DOCTOR_LINES`` is a small corpus of a doctor's and a patient's
words for such models. torch is imported only when a model is built, so the corpus can be read
anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|> {% endif %}")
DOCTOR_LINES = ["I have had a cough for days and a fever", "when did the cough start ?", "ASK: any chest pain ?",
                "EXAMINE: vitals , respiratory", "ORDER: chest x-ray", "DIAGNOSE: pneumonia",
                "PLAN: antibiotics and review"]
SPECIAL_TOKENS = ["<unk>", "<pad>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]


def word_level_tokenizer(corpus: Sequence[str]) -> Any:
    """A word-level tokenizer over ``corpus`` with the special tokens and ``CHAT_TEMPLATE``."""
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                     eos_token="<eos>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_lm(corpus: Sequence[str], layers: int = 1, hidden: int = 32, seed: int = 0) -> tuple[Any, Any]:
    """A randomly initialised Llama (two heads, untied head) and its tokenizer: (model, tokenizer)."""
    import torch
    import transformers

    tokenizer = word_level_tokenizer(corpus)
    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                                      num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=4096, pad_token_id=tokenizer.pad_token_id,
                                      eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    return transformers.LlamaForCausalLM(config), tokenizer


def fit(model: Any, tokenizer: Any, text: str, steps: int, lr: float = 3e-3) -> Any:
    """A few full-batch AdamW steps of next-token loss on ``text``."""
    import torch

    data = torch.tensor([tokenizer(text)["input_ids"]])
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        model(input_ids=data, labels=data).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model
