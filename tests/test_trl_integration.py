"""TRL's real GRPOTrainer driving ``clinic_agents.trl_env`` through ``environment_factory``, on the CPU.

The policy is a one-layer Llama built from a config, with a byte-level tokenizer built here (no
downloads) and TRL's own Qwen2.5 chat template, the one TRL can both render tools with and parse
tool calls from (it sets the tokenizer's response template itself). A whole tool call is one added
token, and the weights are set by hand to a bigram table: after the newline that ends
"<|im_start|>assistant\\n" the model emits that tool call, after the tool call it emits
<|im_end|>. So every rollout really calls ``examine`` on its own environment, and its reward is
the environment's running rubric score.
"""

from __future__ import annotations

import pytest

pytest.importorskip("trl")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
datasets = pytest.importorskip("datasets")

from trl import GRPOConfig, GRPOTrainer  # noqa: E402
from trl.chat_template_utils import qwen2_5_chat_template  # noqa: E402

from clinic_agents.trl_env import ClinicToolEnv  # noqa: E402

CASE = "pulm_cap_adult"
TOOL_CALL = ('<tool_call>\n{"name": "examine", "arguments": {"systems": "vitals, respiratory"}}\n'
             '</tool_call>')


def byte_tokenizer():
    """Byte-level BPE without merges, Qwen's special tokens, the tool call as one token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                                     pad_token="<|endoftext|>",
                                                     additional_special_tokens=["<|im_start|>"])
    tokenizer.add_tokens([TOOL_CALL])
    tokenizer.chat_template = qwen2_5_chat_template
    return tokenizer


def bigram_policy(tokenizer, hidden=32):
    """A Llama whose next token depends only on the current one: newline -> TOOL_CALL -> <|im_end|>."""
    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=8192, pad_token_id=tokenizer.pad_token_id,
                                      eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    newline, = tokenizer("\n", add_special_tokens=False)["input_ids"]
    call = tokenizer.convert_tokens_to_ids(TOOL_CALL)
    with torch.no_grad():
        for layer in model.model.layers:  # the residual stream is the current token's embedding
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        emb = model.model.embed_tokens.weight
        emb[newline] /= emb[newline].norm()
        emb[call] -= (emb[call] @ emb[newline]) * emb[newline]  # orthogonal, so the two rows don't compete
        emb[call] /= emb[call].norm()
        head = model.lm_head.weight
        head.zero_()
        head[call] = 10 * emb[newline]
        head[tokenizer.eos_token_id] = 10 * emb[call]
    return model


class CountingEnv(ClinicToolEnv):
    resets: list[tuple[ClinicToolEnv, dict]] = []

    def reset(self, **kwargs):
        CountingEnv.resets.append((self, kwargs))
        return super().reset(**kwargs)


def test_grpo_trainer_runs_the_consultation_tools_and_rewards_their_score(tmp_path, monkeypatch):
    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    CountingEnv.resets = []
    tokenizer = byte_tokenizer()
    model = bigram_policy(tokenizer)
    dataset = datasets.Dataset.from_list([{"prompt": [{"role": "user", "content": "See the patient. "}],
                                           "case_id": CASE, "seed": seed} for seed in range(2)])
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, num_generations=2,
                      max_completion_length=1024, max_tool_calling_iterations=1, max_steps=1, use_cpu=True,
                      report_to="none", logging_steps=1, save_strategy="no", loss_type="dr_grpo", beta=0.0,
                      epsilon_high=0.28, scale_rewards="none", bf16=False, seed=0)
    trainer = GRPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                          environment_factory=CountingEnv)  # the reward: the environments' get_reward
    # Every public documented method but reset/get_reward became a tool
    assert sorted(t.__name__ for t in trainer.tools) == ["ask_patient", "end_consultation", "examine",
                                                         "order_test", "submit_diagnosis"]
    trainer.train()

    # One reset per rollout, with the dataset row's fields (one prompt, two generations)
    assert len(CountingEnv.resets) == 2
    (first, row), (second, other_row) = CountingEnv.resets
    assert row == other_row and row["case_id"] == CASE and row["seed"] in (0, 1) and first is not second

    # Each rollout's environment ran the model's tool call and scored it
    reference = ClinicToolEnv()
    reference.reset(case_id=CASE, seed=row["seed"])
    findings = reference.examine("vitals, respiratory")
    assert "[Examination: vitals]" in findings and reference.get_reward() > 0
    for environment in (first, second):
        assert environment.get_reward() == pytest.approx(reference.get_reward()) and not environment.done

    # TRL logged the tool calls and took the reward from get_reward, once
    logs = trainer.state.log_history[0]
    assert logs["tools/call_frequency"] == 1.0 and logs["tools/failure_frequency"] == 0.0
    assert logs["rewards/CountingEnv/mean"] == pytest.approx(reference.get_reward())
    assert logs["reward"] == pytest.approx(reference.get_reward())
