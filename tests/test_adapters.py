"""The scale-out adapters without their frameworks' GPUs: TRL's environment_factory class and
verl's agent loop and compute_score, against their documented interfaces."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest

from clinic_agents.trl_env import OVER, ClinicToolEnv, reward_func
from clinic_agents.verl_adapter import ClinicAgentLoop, compute_score

CASE = "pulm_cap_adult"
TOOLS = ("ask_patient", "examine", "order_test", "submit_diagnosis", "end_consultation")


# ---- TRL -------------------------------------------------------------------------------------

def test_every_tool_has_the_schema_trl_builds_from_its_signature_and_docstring():
    transformers = pytest.importorskip("transformers")
    env = ClinicToolEnv()
    schemas = {name: transformers.utils.get_json_schema(getattr(env, name)) for name in TOOLS}
    assert schemas["ask_patient"]["function"]["parameters"]["required"] == ["question"]
    assert set(schemas["submit_diagnosis"]["function"]["parameters"]["properties"]) == {"diagnoses", "plan"}
    assert all(s["function"]["description"] for s in schemas.values())
    public = {n for n in dir(env) if not n.startswith("_") and callable(getattr(env, n))}
    assert public == {*TOOLS, "reset", "get_reward"}  # nothing else would turn into a tool


def test_a_consultation_through_tools_earns_its_rubric_score():
    env = ClinicToolEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.ask_patient("Hello?")
    opening = env.reset(case_id=CASE, seed=0, prompt="ignored dataset field")
    assert "cough" in opening.lower()
    assert "four days" in env.ask_patient("When did the cough start?")  # in the patient's words (issue 16)
    assert "respiratory" in env.examine("vitals, respiratory").lower()
    assert "x-ray" in env.order_test("chest x-ray; complete blood count").lower()
    partial = env.get_reward()
    assert 0 < partial < 1  # the running score of an unfinished visit
    env.submit_diagnosis("community-acquired pneumonia; pulmonary embolism",
                         "oral doxycycline; review in 48 hours; come back at once if worse")
    final = env.get_reward()
    assert final > partial and env.done
    assert env.ask_patient("Anything else?") == OVER and env.get_reward() == final
    other = ClinicToolEnv()
    other.reset(case_id=CASE, seed=0)
    other.end_consultation()
    assert reward_func([env, other]) == [final, other.get_reward()] and other.get_reward() < final


# ---- verl ------------------------------------------------------------------------------------

@dataclass
class TokenOutput:
    token_ids: list[int]
    log_probs: list[float]


class ScriptedServer:
    """Stands in for verl's server manager: answers each turn with the next scripted action."""

    def __init__(self, tokenizer, actions):
        self.tokenizer, self.actions, self.prompts = tokenizer, list(actions), []

    async def generate(self, request_id, *, prompt_ids, sampling_params):
        self.prompts.append(list(prompt_ids))
        ids = self.tokenizer(self.actions.pop(0), add_special_tokens=False)["input_ids"]
        return TokenOutput(ids, [-0.5] * len(ids))


def test_the_agent_loop_returns_generated_ids_masked_and_the_score(tiny_doctor_parts):
    _, tokenizer = tiny_doctor_parts
    actions = ["ASK: when did the pain start ?", "EXAMINE: vitals , respiratory", "ORDER: chest x-ray"]
    server = ScriptedServer(tokenizer, actions)
    loop = ClinicAgentLoop(trainer_config=None, server_manager=server, tokenizer=tokenizer)
    output = asyncio.run(loop.run({"temperature": 1.0}, case_id=CASE, seed=0, max_turns=3))
    generated = [tokenizer(a, add_special_tokens=False)["input_ids"] for a in actions]
    assert output.prompt_ids == server.prompts[0] and output.num_turns == 7
    assert len(output.response_ids) == len(output.response_mask) == len(output.response_logprobs)
    assert sum(output.response_mask) == sum(len(g) for g in generated)
    assert [lp for lp, m in zip(output.response_logprobs, output.response_mask) if m] == [-0.5] * sum(map(len, generated))
    assert output.response_ids[:len(generated[0])] == generated[0]  # the policy's own ids, not re-tokenised
    assert server.prompts[1] == output.prompt_ids + output.response_ids[:len(server.prompts[1]) - len(output.prompt_ids)]
    assert output.reward_score is not None and 0.0 <= output.reward_score <= 1.0


def test_compute_score_grades_one_answer_with_the_case_rubric():
    right = compute_score("clinic", "DIAGNOSE: community-acquired pneumonia\nPLAN: oral doxycycline", CASE)
    wrong = compute_score("clinic", "DIAGNOSE: migraine\nPLAN: rest", json.dumps({"case_id": CASE}))
    assert right > wrong == 0.0
    conversation = [{"role": "patient", "content": "I've had a cough."},
                    {"role": "doctor", "content": "ASK: Do you have any allergies?"},
                    {"role": "patient", "content": "Penicillin."},
                    {"role": "doctor", "content": "DIAGNOSE: community-acquired pneumonia\nPLAN: oral doxycycline"}]
    assert compute_score("clinic", "", CASE, {"conversation": conversation}) > right  # asked about allergies first
