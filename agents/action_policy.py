"""A policy over a small structured action space: each token is one whole doctor action.

The cheapest real test of the GRPO stack: a tiny causal LM (built from a config) whose
vocabulary is ``ACTIONS`` plus a start token writes one action per turn, conditioned on the
actions it already took; the env plays them against the offline patient and the rubric
scores the visit. Its trajectories have the shape of ``clinic_agents.multi_turn`` (token ids,
generation-time log-probs, a loss mask on the generated tokens), so ``GRPOTrainer`` trains it
unchanged; it learns in minutes on a CPU which questions, examinations and tests a case
rewards, and when to diagnose.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from clinic_agents.multi_turn import Trajectory

ACTIONS = (
    "ASK: When did it start, and how has it changed since?",
    "ASK: Do you have a cough, and are you bringing up any phlegm?",
    "ASK: Have you had a fever, chills or sweats?",
    "ASK: Any chest pain or shortness of breath?",
    "ASK: Do you smoke?",
    "ASK: Do you have any allergies, and do you take any regular medicines?",
    "ASK: Any past medical problems?",
    "ASK: How has your mood been lately?",
    "ASK: Have you noticed any rash?",
    "EXAMINE: vitals, respiratory",
    "EXAMINE: skin",
    "ORDER: chest x-ray; complete blood count; c-reactive protein",
    "DIAGNOSE: community-acquired pneumonia; pulmonary embolism; acute bronchitis\n"
    "PLAN: oral doxycycline, as you are allergic to penicillin; paracetamol; review in 48 hours and come back at "
    "once if you get worse",
    "DIAGNOSE: myocardial infarction\nPLAN: aspirin",
    "DIAGNOSE: migraine\nPLAN: rest",
    "END: goodbye",
)
START = len(ACTIONS)  # the start token; vocabulary size is len(ACTIONS) + 1


def tiny_action_model(seed: int = 0, hidden: int = 32) -> Any:
    """A one-layer Llama over the action vocabulary, initialised from ``seed``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(ACTIONS) + 1, hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=64, bos_token_id=START, eos_token_id=None, pad_token_id=START)
    return LlamaForCausalLM(config)


@torch.no_grad()
def play_actions(env: Any, model: Any, seed: int, sample_seed: int, temperature: float = 1.0,
                 case_id: str | None = None) -> Trajectory:
    """One consultation: sample an action token per turn until the visit ends."""
    model.eval()
    generator = torch.Generator().manual_seed(sample_seed)
    _, info = env.reset(seed=seed, options={"case_id": case_id} if case_id else None)
    ids, logprobs = [START], [0.0]
    while True:
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1].float() / temperature
        distribution = torch.log_softmax(logits[:len(ACTIONS)], dim=-1)  # never the start token
        action = int(torch.multinomial(distribution.exp(), 1, generator=generator))
        ids.append(action)
        logprobs.append(float(torch.log_softmax(logits, dim=-1)[action]))
        _, _, terminated, truncated, info = env.step(ACTIONS[action])
        if terminated or truncated:
            break
    reward = float(info["score"]) if "score" in info else math.nan
    consultation = env.unwrapped.consultation
    return Trajectory(ids, [0] + [1] * (len(ids) - 1), logprobs, 1, reward, consultation.case.id, seed, len(ids) - 1,
                      info, consultation.grading_conversation(), consultation.case)
