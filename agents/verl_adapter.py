"""verl adapters: a multi-turn agent loop for consultations, and a ``compute_score`` reward function.

    # verl config (see examples/verl/clinic_grpo.yaml for Baichuan-M2's settings)
    actor_rollout_ref.rollout.agent.agent_loop_config_path: examples/verl/agent_loops.yaml
    custom_reward_function.path: agents/verl_adapter.py   # name: compute_score

``ClinicAgentLoop`` follows verl's ``AgentLoopBase`` interface: ``async run(sampling_params,
**row)`` plays one consultation with the rollout server (``server_manager.generate(request_id,
prompt_ids=..., sampling_params=...)`` returning token ids and log-probs) and returns an
``AgentLoopOutput``: the opening prompt's ids, the response ids (the policy's generated
tokens with the patient's and examiner's turns between them, never re-tokenised), a
response mask that is 1 on generated tokens only, their log-probs, and the rubric score as
``reward_score``. The dataset row gives ``case_id`` and ``seed`` (and optionally
``max_turns``). Where verl is not installed, stand-ins with the documented fields take the
place of its classes, so the loop's logic is tested here without a GPU.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from clinic_env.actions import format_action, parse_action
from clinic_env.case_rubric import case_rubric
from clinic_env.cases.library import get_case
from clinic_env.gym_env import ConsultationEnv
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.scoring import clipped_reward

try:  # verl's own classes when verl is installed (on a GPU machine)
    from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput, register
except ImportError:  # the documented interface, for use and tests without verl
    class AgentLoopBase:  # type: ignore[no-redef]
        def __init__(self, trainer_config: Any = None, server_manager: Any = None, tokenizer: Any = None,
                     **kwargs: Any) -> None:
            self.config, self.server_manager, self.tokenizer = trainer_config, server_manager, tokenizer

    @dataclass
    class AgentLoopMetrics:  # type: ignore[no-redef]
        generate_sequences: float = 0.0
        tool_calls: float = 0.0

    @dataclass
    class AgentLoopOutput:  # type: ignore[no-redef]
        prompt_ids: list[int]
        response_ids: list[int]
        response_mask: list[int]
        metrics: AgentLoopMetrics
        response_logprobs: list[float] | None = None
        reward_score: float | None = None
        num_turns: int = 0
        extra_fields: dict[str, Any] = field(default_factory=dict)

    def register(name: str):  # type: ignore[no-redef]
        def decorate(cls: type) -> type:
            return cls
        return decorate


@register("clinic_consultation")
class ClinicAgentLoop(AgentLoopBase):
    """One consultation per call of ``run`` (see the module doc)."""

    response_length = 4096  # tokens of the response at most (verl pads or truncates to its own setting)

    async def run(self, sampling_params: dict[str, Any], **row: Any) -> AgentLoopOutput:
        tokenizer = self.tokenizer
        env = ConsultationEnv(cases=[row["case_id"]] if row.get("case_id") else None,
                              max_turns=int(row.get("max_turns", 30)), reward_mode="terminal")
        _, info = env.reset(seed=int(row.get("seed", 0)))
        prompt_ids = tokenizer(tokenizer.apply_chat_template(info["messages"], add_generation_prompt=True, tokenize=False),
                               add_special_tokens=False)["input_ids"]
        request_id = uuid.uuid4().hex
        response_ids: list[int] = []
        mask: list[int] = []
        logprobs: list[float] = []
        from clinic_agents.multi_turn import tokens_after_last_turn  # torch: only where verl runs

        turns = 0
        while len(response_ids) < self.response_length:
            output = await self.server_manager.generate(request_id, prompt_ids=prompt_ids + response_ids,
                                                        sampling_params=sampling_params)
            generated = list(output.token_ids)
            response_ids += generated
            mask += [1] * len(generated)
            logprobs += list(output.log_probs) if getattr(output, "log_probs", None) else [0.0] * len(generated)
            turns += 1
            _, _, terminated, truncated, info = env.step(tokenizer.decode(generated, skip_special_tokens=True))
            if terminated or truncated:
                break
            between = tokens_after_last_turn(tokenizer, info["messages"])
            response_ids += between
            mask += [0] * len(between)
            logprobs += [0.0] * len(between)
        cut = self.response_length
        return AgentLoopOutput(prompt_ids=prompt_ids, response_ids=response_ids[:cut], response_mask=mask[:cut],
                               response_logprobs=logprobs[:cut], reward_score=float(info.get("score", 0.0)),
                               num_turns=2 * turns + 1, metrics=AgentLoopMetrics(),
                               extra_fields={"case_id": env.consultation.case.id})


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> float:
    """verl's custom reward function for single-turn data: the case's rubric on one doctor answer.

    ``ground_truth`` is the case id (or JSON ``{"case_id": ...}``); ``solution_str`` the model's
    answer in the action protocol (e.g. "DIAGNOSE: ...\\nPLAN: ..."), graded by the offline
    grader after the patient's opening words; ``extra_info["conversation"]``, when given,
    is graded instead (a whole consultation in grading roles).
    """
    case_id = json.loads(ground_truth)["case_id"] if ground_truth.strip().startswith("{") else ground_truth.strip()
    case = get_case(case_id)
    rubric = case_rubric(case)
    conversation = (extra_info or {}).get("conversation") or [
        {"role": "patient", "content": case.opening_statement},
        {"role": "doctor", "content": format_action(parse_action(solution_str))}]  # as the env records it
    return clipped_reward(rubric, OfflineGrader().grade(conversation, rubric))
