"""The bottom layer for LLM access: one OpenAI-compatible async client with retries, a disk cache,
record/replay and cost accounting, used by doctors, patients, judges and the HealthBench sampler.

``LLMClient`` talks to any OpenAI-compatible ``/chat/completions`` endpoint (vLLM's server,
a hosted API, a local test server) through ``openai.AsyncOpenAI``, and adds:

- **retries**: tenacity, exponential backoff with full jitter (and at least the server's
  ``Retry-After``), on timeouts, connection errors, HTTP 408/409/429 and 5xx only. Other 4xx
  (bad request, bad key, unknown model) fail at once. The SDK's own retries are off, so
  ``max_attempts`` is the exact number of HTTP requests one call can make.
- **a per-request timeout** (seconds, wall clock, per attempt; ``timeout=`` per call overrides).
- **a concurrency limit**: at most ``max_concurrency`` requests in flight (per event loop);
  backoff sleeps do not hold a slot.
- **an on-disk response cache** (``cache_dir``): one JSON file per request, keyed by the
  SHA-256 of the endpoint, model, messages, tools and sampling options. A hit sends nothing.
  Identical requests get identical answers, even with ``temperature > 0``.
- **record and replay** (``record_path`` / ``replay_path``): recording appends every
  request and its answer to a JSONL file; replaying answers from such a file and never
  touches the network. A request that is not in the recording raises ``ReplayMiss``. The
  replay key leaves out the endpoint, so a run recorded against one server replays anywhere.
  Identical requests are answered in recorded order.
- **token and cost accounting**: ``client.totals`` for the client's whole life, and
  ``meter()`` / ``client.meter()`` for one episode. They use ``contextvars``, so concurrent
  asyncio tasks each count only their own calls.
- **clear errors**: every failure is an ``LLMError`` subclass naming the model, the
  endpoint and the cause (``EndpointUnreachable``, ``RequestTimedOut``,
  ``AuthenticationFailed``, ``ModelNotFound``, ``RequestRejected``, ``RateLimited``,
  ``ServerError``, ``BadResponse``, ``ReplayMiss``, ``ConfigurationError``). Each has a
  ``status_code`` (``None`` without an HTTP answer), so ``clinic_rubrics.llm_judge.LLMJudge``
  does not retry errors that cannot improve.

The API key comes from ``api_key``, else ``OPENAI_API_KEY`` (``from_config`` can also name
another variable with ``api_key_env``). A custom endpoint without a key sends the
placeholder ``"EMPTY"``, as vLLM expects. The key never appears in ``repr``, ``identity``,
error messages, log lines, cache files or recordings: messages that the server echoes are
redacted, and request headers are never stored.

``LLMClient`` is a ``clinic_rubrics.chat.ChatClient`` (``async complete(messages, **sampling) ->
str``) with an ``identity``, so it can be given straight to ``clinic_rubrics.llm_judge.LLMJudge``.

Usage::

    client = LLMClient("Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1",
                       cache_dir=".llm_cache", prices=Pricing(input_per_1m=0.2, output_per_1m=0.6))
    with client.meter() as usage:                       # inside the episode's task
        result = await client.chat(messages, temperature=0.0, max_tokens=256)
    print(result.content, usage.cost, usage.prompt_tokens)

The files, one concept each: ``client.py`` (``LLMClient``), ``transport.py`` (the SDK client per
event loop, timeouts, which failures are transient), ``errors.py``, ``result.py``
(``ChatResult`` and reading a completion), ``cache.py`` (the disk cache), ``recording.py``
(record/replay), ``keys.py`` (request keys), ``secret.py`` (the API key), ``usage.py`` (tokens,
prices, meters). ``usage`` needs no HTTP client, so the runner meters every episode without
loading the openai SDK; ``LLMClient`` is imported on first use for the same reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinic_env.llm.errors import (
    AuthenticationFailed,
    BadResponse,
    ConfigurationError,
    EndpointUnreachable,
    LLMError,
    ModelNotFound,
    NoContent,
    RateLimited,
    ReplayMiss,
    RequestRejected,
    RequestTimedOut,
    ServerError,
)
from clinic_env.llm.result import ChatResult
from clinic_env.llm.usage import Meter, Pricing, Usage, meter

if TYPE_CHECKING:
    from clinic_env.llm.client import LLMClient, resolve_base_url

__all__ = [
    "LLMClient", "resolve_base_url", "ChatResult", "Usage", "Pricing", "Meter", "meter",
    "LLMError", "ConfigurationError", "EndpointUnreachable", "RequestTimedOut", "AuthenticationFailed",
    "ModelNotFound", "RequestRejected", "RateLimited", "ServerError", "BadResponse", "NoContent", "ReplayMiss",
]

_NEED_THE_SDK = ("LLMClient", "resolve_base_url")


def __getattr__(name: str) -> Any:
    """``LLMClient`` and ``resolve_base_url`` on first use: importing the openai SDK takes ~0.6 s."""
    if name in _NEED_THE_SDK:
        from clinic_env.llm import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
