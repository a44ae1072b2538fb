"""``clinic_env.llm.LLMClient`` against a real local HTTP server (``tests/openai_server.py``).

No network: every request goes to 127.0.0.1. Backoffs are milliseconds and attempts few, so
the whole module runs in a few seconds. The fake key below is recognisable, and tests check
it never leaks into errors, logs, ``repr``, cache files or recordings.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from pathlib import Path

import pytest
from openai_server import Reply, judge_reply, serve

from clinic_env.llm import (
    AuthenticationFailed,
    BadResponse,
    ChatResult,
    ConfigurationError,
    EndpointUnreachable,
    LLMClient,
    LLMError,
    ModelNotFound,
    NoContent,
    Pricing,
    RateLimited,
    ReplayMiss,
    RequestRejected,
    RequestTimedOut,
    ServerError,
    Usage,
    meter,
)
from clinic_rubrics.chat import ChatClient, ChatClientError, client_identity
from clinic_rubrics.llm_judge import LLMJudge
from clinic_rubrics.schema import Criterion, Rubric

FAKE_KEY = "sk-test-FAKEKEY-1234567890abcdef"
PRICES = Pricing(input_per_1m=1000.0, output_per_1m=2000.0)
HELLO = [{"role": "user", "content": "hello there"}]
TOOL = {"type": "function", "function": {"name": "order_test", "description": "Order an investigation",
                                         "parameters": {"type": "object",
                                                        "properties": {"test": {"type": "string"}}}}}
TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "order_test", "arguments": '{"test": "cxr"}'}}


@pytest.fixture
def server():
    with serve() as running:
        yield running
    assert running.errors == []


@pytest.fixture(autouse=True)
def no_ambient_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def make(server_or_url, **kwargs) -> LLMClient:
    base_url = server_or_url if isinstance(server_or_url, str) else server_or_url.base_url
    kwargs.setdefault("api_key", FAKE_KEY)
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("max_attempts", 3)
    kwargs.setdefault("backoff", (0.001, 0.01))
    kwargs.setdefault("prices", PRICES)
    return LLMClient(kwargs.pop("model", "test-model"), base_url=base_url, **kwargs)


def run(coroutine):
    return asyncio.run(coroutine)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def authorization(request) -> str:
    return {name.lower(): value for name, value in request.headers.items()}["authorization"]


def files_text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file())


# -- success ----------------------------------------------------------------------------


def test_success_returns_content_usage_and_cost(server):
    server.push("hello back doctor")
    client = make(server, default_sampling={"temperature": 0.1, "max_tokens": 50})
    result = run(client.chat(HELLO, temperature=0.7))
    # the local server counts words: 2 prompt tokens, 3 completion tokens
    assert result == ChatResult(content="hello back doctor", tool_calls=[], finish_reason="stop",
                                usage=Usage(2, 3), cost=(2 * 1000.0 + 3 * 2000.0) / 1e6, cached=False,
                                source="api", model="test-model")
    body = server.requests[0].json
    assert body["model"] == "test-model" and body["messages"] == HELLO
    assert body["temperature"] == 0.7 and body["max_tokens"] == 50  # the call overrides the defaults
    assert authorization(server.requests[0]) == f"Bearer {FAKE_KEY}"
    assert (client.totals.calls, client.totals.prompt_tokens, client.totals.completion_tokens) == (1, 2, 3)
    assert client.totals.cost == pytest.approx(0.008)


def test_complete_is_the_chat_client_protocol_and_plugs_into_the_judge(server):
    client = make(server)
    assert isinstance(client, ChatClient)
    assert client_identity(client) == client.identity == f"test-model@{server.base_url}"
    server.push("just text")
    assert run(client.complete(HELLO)) == "just text"
    server.set_handler(lambda request: judge_reply(True))
    rubric = Rubric(criteria=[Criterion(id="greets", text="Greets the patient", points=1)])
    verdicts = run(LLMJudge(client).agrade([{"role": "user", "content": "hi"},
                                            {"role": "assistant", "content": "Hello!"}], rubric))
    assert [v.met for v in verdicts] == [True]
    assert server.chat_requests[-1].json["temperature"] == 0.5  # the judge's sampling reached the server


def test_identity_depends_on_default_sampling_but_never_on_the_key(server):
    plain = make(server)
    warm = make(server, default_sampling={"temperature": 1.0})
    assert plain.identity != warm.identity
    assert FAKE_KEY not in plain.identity + warm.identity + repr(plain) + repr(vars(plain))


# -- retries ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Reply(status=429), Reply(status=500), Reply(status=503), Reply(status=408),
                                   Reply(drop=True), Reply(content="late", delay=60.0)],
                         ids=["429", "500", "503", "408", "dropped", "timeout"])
def test_transient_failures_are_retried_then_succeed(server, fault):
    server.push(fault, fault, "finally")
    # The late reply (60 s) never comes in time; a prompt one has 5 s, 50 times what it needs here.
    client = make(server, timeout=5.0 if fault.delay else 60.0)
    assert run(client.chat(HELLO)).content == "finally"
    assert len(server.chat_requests) == 3


@pytest.mark.parametrize("status, error", [(429, RateLimited), (500, ServerError), (502, ServerError)])
def test_persistent_transient_failures_end_in_a_clear_error(server, status, error, caplog):
    server.set_handler(lambda request: Reply(status=status, error_message=f"overloaded, key {FAKE_KEY}"))
    client = make(server, max_attempts=3)
    with caplog.at_level(logging.DEBUG), pytest.raises(error) as caught:
        run(client.chat(HELLO))
    assert len(server.chat_requests) == 3
    message = str(caught.value)
    assert "after 3 attempts" in message and "'test-model'" in message and server.base_url in message
    assert caught.value.status_code == status and caught.value.attempts == 3
    assert "overloaded" in message  # the server's reason is quoted...
    assert FAKE_KEY not in message + repr(caught.value) + caplog.text  # ...with the key redacted
    assert caplog.text.count("retrying in") == 2  # each retry is logged
    assert client.totals.failed_calls == 1 and client.totals.calls == 0


def test_retry_after_header_is_honoured(server):
    server.push(Reply(status=429, headers={"Retry-After": "0.4"}), "ok")
    client = make(server, backoff=(0.001, 2.0))
    assert run(client.chat(HELLO)).content == "ok"
    first, second = server.chat_requests
    assert second.received_at - first.received_at >= 0.38  # own backoff alone would wait ~1 ms


def test_backoff_is_exponential_with_jitter_and_capped(server, caplog):
    server.set_handler(lambda request: Reply(status=500))

    def waits(backoff: tuple[float, float]) -> list[float]:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="clinic_env.llm"), pytest.raises(ServerError):
            run(make(server, max_attempts=6, backoff=backoff).chat(HELLO))
        return [record.args[-1] for record in caplog.records if "retrying in" in record.msg]

    growing = waits((0.01, 100.0))  # the n-th wait is random in [0, 0.01 * 2**(n-1)]
    assert len(growing) == 5
    assert all(0 <= wait <= 0.01 * 2 ** n for n, wait in enumerate(growing))
    assert any(wait < 0.9 * 0.01 * 2 ** n for n, wait in enumerate(growing))  # jitter, not a fixed schedule
    capped = waits((10.0, 0.02))  # without the cap these would be up to 10 s, 20 s...
    assert len(capped) == 5 and all(wait <= 0.02 for wait in capped)
    assert len(server.chat_requests) == 12


@pytest.mark.parametrize("status, error, hint", [
    (400, RequestRejected, "request rejected"),
    (422, RequestRejected, "request rejected"),
    (401, AuthenticationFailed, "OPENAI_API_KEY"),
    (403, AuthenticationFailed, "OPENAI_API_KEY"),
    (404, ModelNotFound, "model 'test-model' not found"),
])
def test_client_errors_are_not_retried_and_name_the_cause(server, status, error, hint, caplog):
    server.set_handler(lambda request: Reply(status=status, error_message=f"Incorrect API key provided: {FAKE_KEY}"))
    client = make(server, max_attempts=5)
    with caplog.at_level(logging.DEBUG), pytest.raises(error) as caught:
        run(client.chat(HELLO))
    assert len(server.chat_requests) == 1
    assert hint in str(caught.value) and server.base_url in str(caught.value)
    assert caught.value.status_code == status
    assert "Incorrect API key provided: ***" in str(caught.value)
    assert FAKE_KEY not in str(caught.value) + repr(caught.value) + caplog.text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no SDK error (with headers) chained


@pytest.mark.parametrize("reply", [Reply(body="<html><body>Welcome to nginx</body></html>", content_type="text/html"),
                                   Reply(body="{not json"), {"id": "chatcmpl-1", "object": "chat.completion"}],
                         ids=["html", "broken-json", "no-choices"])
def test_a_malformed_answer_is_a_bad_response_and_not_retried(server, reply):
    server.push(reply)
    with pytest.raises(BadResponse, match="test-model"):
        run(make(server).chat(HELLO))
    assert len(server.chat_requests) == 1


# -- timeout, wrong URL -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["client", "call"])
def test_per_request_timeout(server, where):
    server.push(Reply(content="too late", delay=60.0))  # the reply is held until the server stops
    client = make(server, max_attempts=1, timeout=0.25 if where == "client" else 120.0)
    extra = {"timeout": 0.25} if where == "call" else {}
    with pytest.raises(RequestTimedOut, match=r"no answer within 0\.25s, after 1 attempt") as caught:
        run(client.chat(HELLO, **extra))
    # The call gave up while the server still held the reply: it did not wait for it.
    assert server.in_flight == 1 and len(server.chat_requests) == 1
    assert caught.value.status_code is None and client.totals.failed_calls == 1 and client.totals.calls == 0
    assert "timeout" not in server.chat_requests[0].json  # not sent as a sampling option


def test_wrong_url_raises_endpoint_unreachable_quickly(caplog):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    client = make(url, max_attempts=2, timeout=120.0)
    with caplog.at_level(logging.WARNING, logger="clinic_env.llm"), pytest.raises(EndpointUnreachable) as caught:
        run(client.chat(HELLO))
    # A refused connection is told apart from a timeout at once: not waited out as one (120 s here).
    retries = [record.getMessage() for record in caplog.records if "retrying in" in record.msg]
    assert len(retries) == 1 and "timed out" not in retries[0]
    message = str(caught.value)
    assert message.startswith(f"cannot reach {url} (model 'test-model') after 2 attempts")
    assert "is the server running" in message and caught.value.attempts == 2
    assert FAKE_KEY not in message + repr(caught.value)


# -- concurrency --------------------------------------------------------------------------


def test_concurrency_is_bounded(server):
    server.set_handler(lambda request: Reply(content="ok", delay=0.15))
    client = make(server, max_concurrency=3)

    async def many():
        return await asyncio.gather(*(client.chat(user(f"question {i}")) for i in range(12)))

    results = run(many())
    assert [r.content for r in results] == ["ok"] * 12
    assert len(server.chat_requests) == 12
    assert server.max_in_flight == 3  # never more, and the slots are used


def test_connections_are_closed_when_the_loop_ends_and_the_client_works_across_loops(server):
    server.set_handler(lambda request: "ok")
    client = make(server)
    for _ in range(2):  # two asyncio.run calls, one client
        assert run(client.chat(HELLO)).content == "ok"
        deadline = time.monotonic() + 30  # a safety net: the server sees the close within milliseconds
        while server.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.open_connections == 0
    assert len(server.chat_requests) == 2


# -- cache --------------------------------------------------------------------------------


def test_cache_hit_makes_no_request_and_survives_a_new_client(server, tmp_path):
    server.set_handler(lambda request: f"answer {len(server.chat_requests)}")
    client = make(server, cache_dir=tmp_path / "cache")
    first = run(client.chat(HELLO, temperature=0.0))
    assert (first.content, first.cached, len(server.chat_requests)) == ("answer 1", False, 1)
    again = run(client.chat(HELLO, temperature=0.0))
    assert len(server.chat_requests) == 1
    assert (again.content, again.usage, again.cached, again.source, again.cost) == (
        "answer 1", first.usage, True, "cache", 0.0)
    fresh = make(server, cache_dir=tmp_path / "cache")  # a new process would see the same files
    assert run(fresh.chat(HELLO, temperature=0.0)).content == "answer 1" and len(server.chat_requests) == 1
    # the key covers sampling and model
    assert run(client.chat(HELLO, temperature=0.5)).content == "answer 2"
    assert run(make(server, model="other-model", cache_dir=tmp_path / "cache").chat(
        HELLO, temperature=0.0)).content == "answer 3"
    assert len(server.chat_requests) == 3
    totals = client.totals
    assert (totals.calls, totals.cached_calls) == (3, 1)
    assert totals.cost == pytest.approx(2 * first.cost) and totals.cached_prompt_tokens == first.usage.prompt_tokens
    stored = list((tmp_path / "cache").rglob("*.json"))
    assert len(stored) == 3
    text = files_text(tmp_path)
    assert FAKE_KEY not in text and "authorization" not in text.lower() and "answer 1" in text


def test_a_failed_call_is_not_cached(server, tmp_path):
    server.push(Reply(status=400), "good")
    client = make(server, cache_dir=tmp_path)
    with pytest.raises(RequestRejected):
        run(client.chat(HELLO))
    assert run(client.chat(HELLO)).content == "good" and len(server.chat_requests) == 2


# -- record and replay ------------------------------------------------------------------


def test_record_then_replay_without_network(tmp_path):
    recording = tmp_path / "run.jsonl"
    calls = [(user("first"), {}), (user("same"), {}), (user("same"), {}), (user("use a tool"), {"tools": [TOOL]})]
    with serve() as server:
        server.push("one", "two", "three", Reply(content=None, tool_calls=[TOOL_CALL], finish_reason="tool_calls"))
        recorder = make(server, record_path=recording)

        async def episode(client):
            return [await client.chat(messages, temperature=0.2, **extra) for messages, extra in calls]

        recorded = run(episode(recorder))
        base_url = server.base_url
    assert [r.content for r in recorded] == ["one", "two", "three", None]
    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    assert len(lines) == 4 and lines[1]["key"] == lines[2]["key"]
    assert FAKE_KEY not in recording.read_text() and "authorization" not in recording.read_text().lower()

    player = make(base_url, replay_path=recording)  # the server is gone: any request would fail
    replayed = run(episode(player))
    for original, again in zip(recorded, replayed):
        assert (again.content, again.tool_calls, again.finish_reason, again.usage, again.model) == (
            original.content, original.tool_calls, original.finish_reason, original.usage, original.model)
        assert again.cached and again.source == "replay" and again.cost == 0.0
    with pytest.raises(ReplayMiss, match=r"'test-model': request [0-9a-f]{12} is not in the recording") as caught:
        run(player.chat(user("never asked"), temperature=0.2))
    assert "never asked" in str(caught.value)
    with pytest.raises(ReplayMiss):  # sampling is part of the key
        run(player.chat(user("first"), temperature=0.9))
    # a key-less client can replay a hosted model's run
    assert run(LLMClient("test-model", replay_path=recording).chat(user("first"), temperature=0.2)).content == "one"


# -- tool calls ---------------------------------------------------------------------------


def test_tool_calls_are_parsed_and_sent(server):
    server.push(Reply(content=None, tool_calls=[TOOL_CALL], finish_reason="tool_calls"))
    client = make(server)
    result = run(client.chat(HELLO, tools=[TOOL], tool_choice="auto"))
    assert result.content is None and result.finish_reason == "tool_calls"
    assert result.tool_calls == [{"id": "call_1", "name": "order_test", "arguments": '{"test": "cxr"}'}]
    assert json.loads(result.tool_calls[0]["arguments"]) == {"test": "cxr"}
    body = server.requests[0].json
    assert body["tools"] == [TOOL] and body["tool_choice"] == "auto"
    assert result.message() == {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]}
    # the message can be sent back with the tool's answer
    server.push("The x-ray is ordered.")
    follow_up = HELLO + [result.message(), {"role": "tool", "tool_call_id": "call_1", "content": "done"}]
    assert run(client.chat(follow_up, tools=[TOOL])).content == "The x-ray is ordered."
    assert server.requests[1].json["messages"][1]["tool_calls"] == [TOOL_CALL]


def test_complete_without_content_raises_a_chat_client_error(server):
    server.push(Reply(content=None, tool_calls=[TOOL_CALL], finish_reason="tool_calls"))
    with pytest.raises(NoContent, match="1 tool call") as caught:
        run(make(server).complete(HELLO))
    assert isinstance(caught.value, ChatClientError) and isinstance(caught.value, LLMError)


# -- accounting ---------------------------------------------------------------------------


def test_meters_separate_concurrent_episodes(server):
    server.set_handler(lambda request: Reply(content="one two three four"[: 4 * len(request.prompt)], delay=0.02))
    doctor = make(server)
    patient = make(server, model="patient-model")

    async def episode(turns: int):
        with doctor.meter() as own, meter() as everything:
            results = []
            for turn in range(turns):
                results.append(await doctor.chat(user("x" * (turn + 1))))
                results.append(await patient.chat(user("y")))
            return own, everything, results

    async def both():
        with meter() as outer:
            first, second = await asyncio.gather(episode(1), episode(3))
        return outer, first, second

    outer, (own_a, all_a, results_a), (own_b, all_b, results_b) = run(both())
    assert (own_a.calls, own_b.calls) == (1, 3)  # each task counts its own doctor calls only
    assert (all_a.calls, all_b.calls) == (2, 6)  # the unfiltered meter counts the patient too
    for own, results in ((own_a, results_a), (own_b, results_b)):
        doctor_results = results[::2]
        assert own.completion_tokens == sum(r.usage.completion_tokens for r in doctor_results)
        assert own.cost == pytest.approx(sum(r.cost for r in doctor_results)) and own.cost > 0
    assert own_a.completion_tokens != own_b.completion_tokens
    assert outer.calls == 8 and outer.cost == pytest.approx(all_a.cost + all_b.cost)
    assert doctor.totals.calls == 4 and patient.totals.calls == 4


# -- keys and configuration ---------------------------------------------------------------


def test_key_sources_and_placeholders(server, monkeypatch):
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        LLMClient("gpt-4.1")  # OpenAI's API without any key
    server.set_handler(lambda request: "ok")
    run(LLMClient("m", base_url=server.base_url).chat(HELLO))  # a local server without a key
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    from_env = LLMClient("m", base_url=server.base_url)
    run(from_env.chat(HELLO))
    monkeypatch.setenv("CLINIC_JUDGE_KEY", "sk-from-config-variable-123")
    configured = LLMClient.from_config({"model": "m", "base_url": server.base_url, "api_key_env": "CLINIC_JUDGE_KEY",
                                        "prices": [1.0, 2.0], "timeout": 3})
    run(configured.chat(HELLO))
    assert [authorization(r) for r in server.requests] == [
        "Bearer EMPTY", f"Bearer {FAKE_KEY}", "Bearer sk-from-config-variable-123"]
    assert configured.pricing == Pricing(1.0, 2.0) and configured.timeout == 3.0
    assert FAKE_KEY not in repr(from_env) + from_env.identity + repr(vars(from_env))
    with pytest.raises(ConfigurationError, match="'NOT_SET_ANYWHERE'"):
        LLMClient.from_config({"model": "m", "base_url": server.base_url, "api_key_env": "NOT_SET_ANYWHERE"})


@pytest.mark.parametrize("kwargs", [{"model": ""}, {"timeout": 0}, {"max_attempts": 0}, {"max_concurrency": 0},
                                    {"backoff": (-1, 1)}, {"default_sampling": {"extra_headers": {"X": "y"}}}])
def test_bad_settings_are_configuration_errors(server, kwargs):
    with pytest.raises(ConfigurationError):
        make(server, **kwargs)


def test_streaming_is_refused(server):
    with pytest.raises(ConfigurationError, match="stream"):
        run(make(server).chat(HELLO, stream=True))
    assert server.requests == []


def test_metering_and_the_errors_load_no_http_client_until_llmclient_is_asked_for():
    """The runner meters every episode; an offline run must not pay for importing the openai SDK."""
    import subprocess
    import sys

    code = ("import sys, clinic_env.bench; from clinic_env.llm import LLMError, meter; "
            "print('openai' in sys.modules); from clinic_env.llm import LLMClient; print('openai' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def test_resolve_base_url_is_the_endpoint_a_client_uses(monkeypatch):
    from clinic_env.llm import resolve_base_url

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    assert resolve_base_url() == "http://127.0.0.1:9/v1" == LLMClient("m").base_url
    assert resolve_base_url("http://other:1/v1") == LLMClient("m", base_url="http://other:1/v1").base_url
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert resolve_base_url() == "https://api.openai.com/v1"
