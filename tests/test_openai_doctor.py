"""The OpenAI-compatible chat doctor against a real local server."""

import gymnasium as gym
import pytest
from openai_server import serve

import clinic_env  # noqa: F401
from agents.openai_doctor import OpenAIChatDoctor
from clinic_env.rollout import run_consultation
from rubrics.chat import OpenAIChatClient


def test_text_mode_plays_a_consultation_from_the_doctor_view_only(pneumonia_case):
    replies = ["ASK: When did the cough start?", "EXAMINE: vitals, respiratory", "ORDER: chest x-ray",
               "DIAGNOSE: community-acquired pneumonia; pulmonary embolism\nPLAN: doxycycline, review in 48 hours"]
    with serve(replies=replies) as server:
        doctor = OpenAIChatDoctor(OpenAIChatClient("doc", base_url=server.base_url, api_key="test"))
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


def test_modes_are_checked():
    with pytest.raises(ValueError, match="mode"):
        OpenAIChatDoctor(object(), mode="telepathy")
    with pytest.raises(TypeError, match="tools mode needs a client with chat"):
        OpenAIChatDoctor(OpenAIChatClient("m", base_url="http://127.0.0.1:9/v1", api_key="k"), mode="tools")
