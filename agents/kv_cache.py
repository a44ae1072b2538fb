"""An 8-bit (fp8) KV cache for transformers models: half the bytes of a bf16 cache, on CPU or GPU.

    cache = fp8_cache(model.config)
    model.generate(ids, **{cache_keyword(model): cache}, max_new_tokens=256)
    cache_bytes(cache)                  # what the cache holds between steps

vLLM keeps its KV cache in fp8 with ``--kv-cache-dtype fp8``; this is the same saving for the
transformers path (``TransformersDoctor(kv_cache="fp8")``). Keys and values are stored as
``float8_e4m3fn`` with one float32 scale per sequence and KV head. Each scale is set on the
prefill as ``amax * headroom / 448`` and then kept, so the stored tensors never have to be
rescaled. The headroom (4 by default) matters: later tokens' keys and values often exceed
the prefill's largest, and with no headroom they saturate at ``448 * scale``. That was the
larger error source measured, where fp8's exponent costs almost no precision for the
headroom. The prefill itself attends to exact keys and values; later steps attend to the
dequantised cache.

transformers' own ``QuantizedCache(backend="fp8")`` uses one scale per tensor; per head,
with headroom, the teacher-forced error is lower (``benchmarks/bench_kv_cache.py`` prints
both).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from transformers.cache_utils import Cache, DynamicLayer

FP8 = torch.float8_e4m3fn
FP8_MAX = torch.finfo(FP8).max


class Fp8Layer(DynamicLayer):
    """One layer's keys and values in fp8 with per-(sequence, head) scales."""

    def __init__(self, headroom: float = 4.0) -> None:
        super().__init__()
        if headroom < 1:
            raise ValueError(f"headroom must be >= 1, got {headroom}")
        self.headroom = headroom
        self.key_scale: torch.Tensor | None = None
        self.value_scale: torch.Tensor | None = None
        self.compute_dtype: torch.dtype | None = None  # the model's dtype; ours, as DynamicLayer's moved

    def _scale(self, states: torch.Tensor) -> torch.Tensor:
        amax = states.detach().abs().amax(dim=(-2, -1), keepdim=True).float()
        return (amax * self.headroom / FP8_MAX).clamp(min=torch.finfo(torch.float32).tiny)

    @staticmethod
    def _quantize(states: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return (states.float() / scale).clamp(-FP8_MAX, FP8_MAX).to(FP8)

    def _dequantize(self, stored: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return (stored.float() * scale).to(self.compute_dtype)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:  # the prefill: set the scales, attend to the exact states
            self.lazy_initialization(key_states, value_states)
            self.compute_dtype = key_states.dtype
            self.key_scale, self.value_scale = self._scale(key_states), self._scale(value_states)
            self.keys = self._quantize(key_states, self.key_scale)
            self.values = self._quantize(value_states, self.value_scale)
            return key_states, value_states
        self.keys = torch.cat([self.keys, self._quantize(key_states, self.key_scale)], dim=-2)
        self.values = torch.cat([self.values, self._quantize(value_states, self.value_scale)], dim=-2)
        return self._dequantize(self.keys, self.key_scale), self._dequantize(self.values, self.value_scale)

    def reset(self) -> None:
        self.key_scale = self.value_scale = self.compute_dtype = None
        super().reset()


def cache_keyword(model: Any) -> str:
    """The keyword a model's forward and generate take a cache by: ``cache`` from transformers
    5.25 (which deprecates ``past_key_values``), ``past_key_values`` before it."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def fp8_cache(config: Any, headroom: float = 4.0) -> Cache:
    """An fp8 cache for a model of this config (one layer per decoder layer)."""
    return Cache(layers=[Fp8Layer(headroom) for _ in range(config.num_hidden_layers)])


def cache_bytes(cache: Cache) -> int:
    """Bytes of what a cache keeps between steps: keys, values and any scales."""
    total = 0
    for layer in cache.layers:
        for name in ("keys", "values", "key_scale", "value_scale"):
            tensor = getattr(layer, name, None)
            if isinstance(tensor, torch.Tensor):
                total += tensor.numel() * tensor.element_size()
    return total


@torch.no_grad()
def teacher_forced_logits(model: Any, input_ids: torch.Tensor, cache: Cache, prefill: int) -> torch.Tensor:
    """Logits for every position after ``prefill``, decoding one true token at a time through
    ``cache``: caches compared this way see the same inputs (free generation would let a
    near-tie send them down different paths)."""
    keyword = cache_keyword(model)
    out = model(input_ids=input_ids[:, :prefill], **{keyword: cache}, use_cache=True)
    logits = [out.logits[:, -1]]
    for position in range(prefill, input_ids.shape[1] - 1):
        out = model(input_ids=input_ids[:, position:position + 1], **{keyword: cache}, use_cache=True)
        logits.append(out.logits[:, -1])
    return torch.cat(logits).float()
