"""A local transformers causal LM as the doctor: the chat template, then generate, on CPU or GPU.

The model reads the doctor's chat view (``info["messages"]``) through the tokenizer's chat
template and writes one message, which the env parses as an action. Greedy decoding is
the default, so a run is reproducible; with ``temperature > 0`` sampling is seeded per
episode by ``reset(seed)``. Needs the ``[train]`` extra (torch, transformers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class TransformersDoctor:
    model: Any
    tokenizer: Any
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    device: str | None = None
    kv_cache: str | None = None  # "fp8": an 8-bit KV cache (``clinic_agents.kv_cache``), half the bytes of bf16
    last_prompt_ids: list[int] = field(default_factory=list, init=False, repr=False)
    last_completion_ids: list[int] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.tokenizer.chat_template is None:
            raise ValueError("the tokenizer has no chat template; set tokenizer.chat_template or pick a chat model")
        if self.kv_cache not in (None, "fp8"):
            raise ValueError(f"kv_cache must be None or 'fp8', got {self.kv_cache!r}")
        self.device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self._generator = torch.Generator(device=self.device)

    @classmethod
    def from_pretrained(cls, name_or_path: str, **kwargs: Any) -> TransformersDoctor:
        """Load a model and tokenizer (a local directory, or a hub id where the network allows)."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dtype = kwargs.pop("torch_dtype", "auto")
        return cls(AutoModelForCausalLM.from_pretrained(name_or_path, torch_dtype=dtype),
                   AutoTokenizer.from_pretrained(name_or_path), **kwargs)

    def reset(self, seed: int | None = None) -> None:
        self._generator.manual_seed(0 if seed is None else seed)

    @torch.no_grad()
    def act(self, observation: str, info: dict) -> str:
        prompt = self.tokenizer.apply_chat_template(info["messages"], add_generation_prompt=True, return_tensors="pt",
                                                    return_dict=True)
        input_ids = prompt["input_ids"].to(self.device)
        sampling = self.temperature > 0
        options: dict[str, Any] = {"do_sample": sampling, "max_new_tokens": self.max_new_tokens,
                                   "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id}
        if sampling:
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=self._generator)))
            options.update(temperature=self.temperature, top_p=self.top_p)
        if self.kv_cache == "fp8":
            from clinic_agents.kv_cache import cache_keyword, fp8_cache

            options[cache_keyword(self.model)] = fp8_cache(self.model.config)
        output = self.model.generate(input_ids, attention_mask=prompt["attention_mask"].to(self.device), **options)
        completion = output[0, input_ids.shape[1]:]
        self.last_prompt_ids, self.last_completion_ids = input_ids[0].tolist(), completion.tolist()
        return self.tokenizer.decode(completion, skip_special_tokens=True)
