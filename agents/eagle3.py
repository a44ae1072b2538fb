"""EAGLE-3 draft heads for speculative decoding in vLLM: their config, and a "twin" draft that
checks the speculative path end to end.

    write_twin_draft("runs/target-1layer", "runs/eagle3-twin")
    clinic-env serve runs/target-1layer --draft runs/eagle3-twin --num-speculative-tokens 3

An EAGLE-3 head is one decoder layer that reads the target's hidden states from a few of its
layers (``eagle_aux_hidden_state_layer_ids``) plus the embedding of the next token, and
drafts tokens that the target then verifies; vLLM loads it as ``LlamaForCausalLMEagle3``
(``draft_config`` writes that config for a target). Baichuan-M2 ships such a head, trained
on its own outputs; training one is outside this project.

The twin is a head built (not trained) to compute the target's own next-token function, so
greedy drafts are almost always accepted and the served output must not change: the check
that a server's speculative decoding is wired right (``benchmarks/bench_specdec.py``, the
serving tests). vLLM's EAGLE-3 layer (``vllm/model_executor/models/llama_eagle3.py``)
computes, for the next token x and the target's hidden states h,

    residual = hidden_norm(fc(h))            (norm_before_residual)
    r = o_proj(attention(qkv_proj(cat(input_layernorm(embed(x)), residual)))) + residual
    out = lm_head(norm(mlp(post_attention_layernorm(r)) + r))

With ``hidden_norm`` weights 0 the residual vanishes, and with q/k/v weights ``[W | 0]`` (the
target layer's own on the embedding half, zero on the hidden half) the layer is the target's
single decoder layer without the embedding's residual term. So the twin needs a one-layer
target whose token embeddings are small next to its attention output (RMSNorm rescales them
for attention, but the residual keeps their size): train it inside ``small_embeddings``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch


def draft_config(target: dict[str, Any], aux_layers: list[int], norm_before_residual: bool = False) -> dict:
    """vLLM's config for a one-layer EAGLE-3 head on ``target`` (its config.json)."""
    hidden, heads = target["hidden_size"], target["num_attention_heads"]
    rope = target.get("rope_parameters") or {"rope_type": "default", "rope_theta": target.get("rope_theta", 10000.0)}
    return {
        "architectures": ["LlamaForCausalLMEagle3"], "model_type": "llama",
        "hidden_size": hidden, "intermediate_size": target["intermediate_size"],
        "num_attention_heads": heads, "num_key_value_heads": target.get("num_key_value_heads", heads),
        "head_dim": target.get("head_dim") or hidden // heads, "num_hidden_layers": 1,
        "vocab_size": target["vocab_size"], "draft_vocab_size": target["vocab_size"], "target_hidden_size": hidden,
        "max_position_embeddings": target["max_position_embeddings"], "rms_norm_eps": target["rms_norm_eps"],
        "rope_theta": rope.get("rope_theta", 10000.0), "rope_parameters": rope,
        "attention_bias": _has_qkv_bias(target), "mlp_bias": False, "hidden_act": target.get("hidden_act", "silu"),
        "tie_word_embeddings": False, "norm_before_residual": norm_before_residual,
        "eagle_config": {"eagle_aux_hidden_state_layer_ids": aux_layers, "use_aux_hidden_state": True},
        "bos_token_id": target.get("bos_token_id"), "eos_token_id": target.get("eos_token_id"),
    }


def _has_qkv_bias(target: dict[str, Any]) -> bool:
    """Qwen2 has q/k/v biases; Llama has them only with ``attention_bias``."""
    return target.get("model_type") == "qwen2" or bool(target.get("attention_bias"))


@contextmanager
def small_embeddings(model: torch.nn.Module, factor: float = 0.003) -> Iterator[torch.nn.Module]:
    """Train a twin's target inside this: its token embeddings act ``factor`` times smaller
    (a forward hook, so training cannot grow them back), and on leaving the factor is baked
    into the weights, so the saved model computes the same function."""
    if getattr(model.config, "tie_word_embeddings", False):
        raise ValueError("a twin's target needs untied embeddings (the output head must keep its scale)")
    embeddings = model.get_input_embeddings()
    hook = embeddings.register_forward_hook(lambda module, inputs, output: output * factor)
    try:
        yield model
    finally:
        hook.remove()
        with torch.no_grad():
            embeddings.weight.mul_(factor)


def twin_target(parts: tuple[Any, Any], text: str, steps: int = 100) -> tuple[Any, Any]:
    """A one-layer (model, tokenizer) made a twin's target: unit-scale embeddings acting 0.003
    times smaller, trained on ``text`` (``clinic_agents.tiny_lm.fit``)."""
    from clinic_agents.tiny_lm import fit

    model, tokenizer = parts
    with torch.no_grad():
        model.get_input_embeddings().weight.normal_(0.0, 1.0)
    with small_embeddings(model):
        fit(model, tokenizer, text, steps)
    return model, tokenizer


def twin_weights(target: dict[str, torch.Tensor], hidden: int, bias: bool) -> dict[str, torch.Tensor]:
    """The twin head's tensors from a one-layer target's state dict (names as vLLM loads them);
    ``bias``: the target has q/k/v biases."""
    layer = "model.layers.0."
    dtype = target[layer + "self_attn.q_proj.weight"].dtype
    weights = {
        "fc.weight": torch.zeros(hidden, 2 * hidden, dtype=dtype),  # two aux layers: the embeddings and layer 0
        "layers.0.hidden_norm.weight": torch.zeros(hidden, dtype=dtype),  # residual = 0
        "layers.0.input_layernorm.weight": target[layer + "input_layernorm.weight"],
        "layers.0.post_attention_layernorm.weight": target[layer + "post_attention_layernorm.weight"],
        "layers.0.self_attn.o_proj.weight": target[layer + "self_attn.o_proj.weight"],
        "norm.weight": target["model.norm.weight"],
        "embed_tokens.weight": target["model.embed_tokens.weight"],
        "lm_head.weight": target["lm_head.weight"],
    }
    for name in ("q", "k", "v"):
        w = target[layer + f"self_attn.{name}_proj.weight"]
        weights[f"layers.0.self_attn.{name}_proj.weight"] = torch.cat([w, torch.zeros_like(w)], dim=1)
        if bias:
            weights[f"layers.0.self_attn.{name}_proj.bias"] = target[layer + f"self_attn.{name}_proj.bias"]
    if bias:  # vLLM's Llama layer then has an o_proj bias too
        weights["layers.0.self_attn.o_proj.bias"] = torch.zeros(hidden, dtype=dtype)
    for name in ("gate", "up", "down"):
        weights[f"layers.0.mlp.{name}_proj.weight"] = target[layer + f"mlp.{name}_proj.weight"]
    return {name: tensor.contiguous() for name, tensor in weights.items()}


def write_twin_draft(target_dir: str | Path, out: str | Path) -> Path:
    """Write the twin EAGLE-3 head of a one-layer target (see the module's docstring)."""
    from safetensors.torch import load_file, save_file

    target_dir, out = Path(target_dir), Path(out)
    target = json.loads((target_dir / "config.json").read_text())
    if target.get("num_hidden_layers") != 1:
        raise ValueError(f"{target_dir}: a twin draft needs a one-layer target, this one has "
                         f"{target.get('num_hidden_layers')} layers")
    state: dict[str, torch.Tensor] = {}
    for file in sorted(target_dir.glob("*.safetensors")):
        state.update(load_file(file))
    if "lm_head.weight" not in state:
        raise ValueError(f"{target_dir}: a twin draft needs an untied lm_head")
    config = draft_config(target, aux_layers=[0, 1], norm_before_residual=True)
    out.mkdir(parents=True, exist_ok=True)
    save_file(twin_weights(state, config["hidden_size"], config["attention_bias"]), out / "model.safetensors")
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    return out
