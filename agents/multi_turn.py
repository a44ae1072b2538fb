"""Multi-turn rollouts for GRPO: whole consultations played by a causal LM, kept as the tokens it wrote.

    sampler = Sampler(model, tokenizer, temperature=1.0, max_new_tokens=128)
    group = rollout_group(lambda: gym.make("clinic_env/Consultation-v0"), sampler, case_id="pulm_cap_adult",
                          seed=7, group_size=8)
    group[0].token_ids, group[0].loss_mask, group[0].logprobs, group[0].reward

A trajectory is the consultation as one token sequence, built turn by turn and never
re-tokenised: the chat template's rendering of the opening (system prompt, the patient's
first words, the generation prompt), then the tokens the policy generated, then the tokens
of what came back (the patient's answer or the examiner's report, with the template's turn
markers and the next generation prompt), then the next generation, and so on. The policy is
trained on exactly the ids it produced and conditioned on, so a tokenizer that would split a
decoded reply differently cannot shift the loss.

``loss_mask`` is 1 on the generated tokens only (patient, examiner and system tokens get
none); ``logprobs`` holds, for those tokens, the log-probability under the sampling policy at
generation time (the full softmax of the logits over the temperature: sampling uses no top-k
or top-p truncation, so these are the probabilities the tokens were drawn with), 0 elsewhere.

A group is ``group_size`` consultations of one case with one patient persona and patient
seed (the env is reset with the same seed and case), differing only in the policy's samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from clinic_rubrics.grading import GradingError


@dataclass
class Trajectory:
    token_ids: list[int]
    loss_mask: list[int]
    logprobs: list[float]
    prompt_length: int  # tokens before the first generated one
    reward: float  # the final rubric score; NaN when grading failed (``group_advantages`` leaves it out)
    case_id: str
    seed: int
    doctor_turns: int
    info: dict[str, Any] = field(default_factory=dict, repr=False)
    transcript: list[dict[str, str]] = field(default_factory=list, repr=False)  # grading roles, for a judge
    case: Any = field(default=None, repr=False)  # the Case played (generated ones have no library id)

    @property
    def generated_tokens(self) -> int:
        return sum(self.loss_mask)


class Sampler:
    """Samples one turn from a causal LM and returns the new ids with their log-probabilities."""

    def __init__(self, model: Any, tokenizer: Any, temperature: float = 1.0, max_new_tokens: int = 128,
                 device: str | None = None) -> None:
        if temperature <= 0:
            raise ValueError("GRPO needs sampling: temperature must be positive")
        if tokenizer.chat_template is None:
            raise ValueError("the tokenizer has no chat template")
        self.model, self.tokenizer = model, tokenizer
        self.temperature, self.max_new_tokens = temperature, max_new_tokens
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)

    @torch.no_grad()
    def sample(self, input_ids: list[int], seed: int) -> tuple[list[int], list[float]]:
        torch.manual_seed(seed)
        ids = torch.tensor([input_ids], device=self.device)
        out = self.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                                  temperature=self.temperature, top_k=0, top_p=1.0,
                                  max_new_tokens=self.max_new_tokens, output_logits=True,
                                  return_dict_in_generate=True,
                                  pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        new = out.sequences[0, ids.shape[1]:]
        logits = torch.stack(out.logits, dim=1)[0, :new.shape[0]].float() / self.temperature
        logprobs = torch.log_softmax(logits, dim=-1).gather(1, new.unsqueeze(1)).squeeze(1)
        return new.tolist(), logprobs.tolist()


def _render(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=False)


def tokens_after_last_turn(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """The ids of what the chat template adds after the policy's last turn up to the next
    generation prompt: the turn markers and the replies that came back (patient, examiner)."""
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    head, full = _render(tokenizer, messages[:last + 1], False), _render(tokenizer, messages, True)
    if not full.startswith(head):
        raise ValueError("the chat template renders a conversation differently once it grows; "
                         "multi-turn rollouts need a template whose rendering of a prefix is a prefix")
    return tokenizer(full[len(head):], add_special_tokens=False)["input_ids"]


def play(env: Any, sampler: Sampler, seed: int, sample_seed: int, case_id: str | None = None) -> Trajectory:
    """One consultation on a Gymnasium env (``clinic_env/Consultation-v0``), as a ``Trajectory``."""
    tokenizer = sampler.tokenizer
    observation, info = env.reset(seed=seed, options={"case_id": case_id} if case_id else None)
    token_ids = tokenizer(_render(tokenizer, info["messages"], True), add_special_tokens=False)["input_ids"]
    prompt_length = len(token_ids)
    loss_mask, logprobs = [0] * prompt_length, [0.0] * prompt_length
    turn, reward = 0, math.nan
    while True:
        generated, generated_logprobs = sampler.sample(token_ids, seed=sample_seed * 1000 + turn)
        token_ids += generated
        loss_mask += [1] * len(generated)
        logprobs += generated_logprobs
        turn += 1
        try:
            observation, _, terminated, truncated, info = env.step(tokenizer.decode(generated,
                                                                                    skip_special_tokens=True))
        except GradingError:  # the judge failed: the sample is left out of its group, never scored 0
            break
        if terminated or truncated:
            reward = float(info["score"])
            break
        between = tokens_after_last_turn(tokenizer, info["messages"])
        token_ids += between
        loss_mask += [0] * len(between)
        logprobs += [0.0] * len(between)
    consultation = env.unwrapped.consultation
    return Trajectory(token_ids, loss_mask, logprobs, prompt_length, reward, consultation.case.id, seed, turn, info,
                      consultation.grading_conversation(), consultation.case)


def rollout_group(make_env: Callable[[], Any], sampler: Sampler, seed: int, group_size: int,
                  case_id: str | None = None) -> list[Trajectory]:
    """``group_size`` consultations of one case, persona and patient seed (the env's reset
    ``seed``), each with its own sampling seed."""
    env = make_env()
    group = [play(env, sampler, seed, sample_seed=seed * group_size + g, case_id=case_id) for g in range(group_size)]
    env.close()
    return group
