"""The OpenAI-compatible chat doctor against a real local server."""

import gymnasium as gym
import pytest
from openai_server import serve

import clinic_env  # noqa: F401
from clinic_agents.openai_doctor import OpenAIChatDoctor
from clinic_env.llm import LLMClient
from clinic_env.rollout import run_consultation


def test_text_mode_plays_a_consultation_from_the_doctor_view_only(pneumonia_case):
    replies = ["ASK: When did the cough start?", "EXAMINE: vitals, respiratory", "ORDER: chest x-ray",
               "DIAGNOSE: community-acquired pneumonia; pulmonary embolism\nPLAN: doxycycline, review in 48 hours"]
    with serve(replies=replies) as server:
        doctor = OpenAIChatDoctor(LLMClient("doc", base_url=server.base_url, api_key="test"))
        env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case])
        result = run_consultation(env, doctor, seed=0)
        requests = server.requests
    assert result.terminated and result.doctor_turns == 4
    assert result.info["reward_breakdown"]["verdicts"]["diagnosis_first"]
    first = requests[0].messages
    assert first[0]["role"] == "system" and "DIAGNOSE:" in first[0]["content"]
    assert first[1]["role"] == "user" and first[1]["content"].startswith(pneumonia_case.opening_statement)
    # the doctor never sees the case: no diagnosis name in anything it was sent before diagnosing
    sent = " ".join(m["content"] for r in requests for m in r.messages)
    assert "community-acquired" not in sent.lower()
    assert [m["role"] for m in requests[1].messages][-2:] == ["assistant", "user"]


class TextOnlyClient:
    """A ``ChatClient`` with ``complete`` but no ``chat``: enough for text mode, not for tools."""

    async def complete(self, messages, **sampling):
        return "END"


def test_modes_are_checked():
    with pytest.raises(ValueError, match="mode"):
        OpenAIChatDoctor(object(), mode="telepathy")
    with pytest.raises(TypeError, match="tools mode needs a client with chat"):
        OpenAIChatDoctor(TextOnlyClient(), mode="tools")


def tool_call(name, arguments, id="call_1"):
    import json

    return {"id": id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def test_tools_mode_turns_tool_calls_into_actions(pneumonia_case):
    from openai_server import Reply

    from clinic_env.actions import TOOL_SCHEMAS

    replies = [
        Reply(content=None, tool_calls=[tool_call("ask_patient", {"message": "When did it start?"})],
              finish_reason="tool_calls"),
        Reply(content=None, tool_calls=[tool_call("examine", {"systems": "not a list"})], finish_reason="tool_calls"),
        Reply(content="Let me order tests.", tool_calls=[tool_call("order_tests", {"tests": ["chest x-ray"]})]),
        Reply(content=None, tool_calls=[tool_call("diagnose", {"differential": ["pneumonia"], "plan": "doxycycline"})]),
    ]
    with serve(replies=replies) as server:
        doctor = OpenAIChatDoctor(LLMClient("doc", base_url=server.base_url, api_key="test"), mode="tools")
        env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case])
        result = run_consultation(env, doctor, seed=0)
        requests = server.requests
    assert result.terminated and result.doctor_turns == 4
    assert doctor.invalid_tool_calls == 1  # the malformed examine call was not sent to the patient
    assert requests[0].json["tools"] == TOOL_SCHEMAS
    doctor_turns = [m["content"] for m in result.info["messages"] if m["role"] == "assistant"]
    assert doctor_turns[0] == "ASK: When did it start?" and doctor_turns[2] == "ORDER: chest x-ray"
    assert result.info["reward_breakdown"]["verdicts"]["diagnosis_first"]


def test_spec_doctors_share_one_client_per_model_and_current_openai_base_url(monkeypatch):
    from clinic_agents.openai_doctor import openai_doctor, openai_tools_doctor

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    first, tools = openai_doctor("m"), openai_tools_doctor("m")
    assert first.client is tools.client and first.client.base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:10/v1")  # another server: another client
    assert openai_doctor("m").client.base_url == "http://127.0.0.1:10/v1"
