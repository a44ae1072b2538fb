"""The project's OpenAI-compatible async LLM client: retries, a disk cache, record/replay, cost.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from clinic_env.usage import Meter, Pricing, Usage, active_meters, meter
from clinic_rubrics.chat import ChatClientError

logger = logging.getLogger(__name__)

__all__ = [
    "LLMClient", "ChatResult", "Usage", "Pricing", "Meter", "meter",
    "LLMError", "ConfigurationError", "EndpointUnreachable", "RequestTimedOut", "AuthenticationFailed",
    "ModelNotFound", "RequestRejected", "RateLimited", "ServerError", "BadResponse", "NoContent", "ReplayMiss",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "EMPTY"  # what vLLM and most local servers accept when they need no key
RETRYABLE_STATUS = (408, 409, 429)  # plus every 5xx
_SHOWN_CHARS = 300  # how much of a server's error text an exception quotes
_CACHE_VERSION = 1
# Request options that change how a request is sent but not what it asks for: they are
# left out of cache and replay keys, and never written to disk (headers may hold secrets).
_UNKEYED_OPTIONS = ("timeout", "extra_headers")
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError)  # asyncio.wait_for's (distinct before Python 3.11)
_FAILURES = (openai.OpenAIError, *_TIMEOUTS, json.JSONDecodeError)  # what an attempt may raise


# -- errors -------------------------------------------------------------------------------


class LLMError(RuntimeError):
    """A chat request failed. ``model``, ``base_url``, ``status_code`` (HTTP status, ``None``
    without one) and ``attempts`` (HTTP requests made) say where and how."""

    def __init__(self, message: str, *, model: str | None = None, base_url: str | None = None,
                 status_code: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.model = model
        self.base_url = base_url
        self.status_code = status_code
        self.attempts = attempts


class ConfigurationError(LLMError, ValueError):
    """The client cannot be built as asked (no key for a hosted API, bad settings)."""


class EndpointUnreachable(LLMError):
    """No connection to the endpoint (nothing listening, wrong host or port, connection dropped)."""


class RequestTimedOut(LLMError):
    """The endpoint did not answer within the timeout on any attempt."""


class AuthenticationFailed(LLMError):
    """HTTP 401/403: the key is missing, wrong or not allowed to use the model."""


class ModelNotFound(LLMError):
    """HTTP 404: the endpoint does not serve the model (or base_url is not the API root)."""


class RequestRejected(LLMError):
    """HTTP 4xx other than 401/403/404/408/409/429: the request itself is invalid."""


class RateLimited(LLMError):
    """HTTP 429 on every attempt."""


class ServerError(LLMError):
    """HTTP 5xx on every attempt."""


class BadResponse(LLMError):
    """The endpoint answered, but not with a usable chat completion."""


class NoContent(BadResponse, ChatClientError):
    """``complete`` got a completion without message content (tool calls only, a refusal)."""


class ReplayMiss(LLMError):
    """Replaying: the request is not in the recording."""


# -- results and accounting ---------------------------------------------------------------


@dataclass(frozen=True)
class ChatResult:
    """One answer of ``LLMClient.chat``.

    ``content``: the first choice's message text (``None`` when the model only called tools
    or refused). ``tool_calls``: ``[{"id", "name", "arguments"}]`` with ``arguments`` the raw
    JSON string the model wrote. ``usage``: the completion's tokens (also for cache hits and
    replays). ``cost``: what this call cost, from the client's ``Pricing`` (0 when nothing
    was sent). ``cached``: answered from the disk cache or a recording without a request;
    ``source`` says which (``"api"``, ``"cache"`` or ``"replay"``). ``model``: the model the
    endpoint says answered.
    """

    content: str | None
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = Usage()
    cost: float = 0.0
    cached: bool = False
    source: str = "api"
    model: str | None = None

    def message(self) -> dict[str, Any]:
        """The assistant message to append to the conversation for the next request."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [{"id": call["id"], "type": "function",
                                      "function": {"name": call["name"], "arguments": call["arguments"]}}
                                     for call in self.tool_calls]
        return message

    def _stored(self) -> dict[str, Any]:
        """What the cache and recordings keep: the answer, not how this call got it."""
        return {"content": self.content, "tool_calls": self.tool_calls, "finish_reason": self.finish_reason,
                "usage": asdict(self.usage), "model": self.model}

    @classmethod
    def _from_stored(cls, data: Mapping[str, Any], source: str) -> ChatResult:
        return cls(content=data.get("content"), tool_calls=[dict(call) for call in data.get("tool_calls") or []],
                   finish_reason=data.get("finish_reason"), usage=Usage(**(data.get("usage") or {})),
                   cost=0.0, cached=True, source=source, model=data.get("model"))


# -- internals ----------------------------------------------------------------------------


class _Secret:
    """Holds the API key so that ``repr``/``vars`` of the client never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with any occurrence of a real key replaced by ``***``."""
        if self._value and self._value != PLACEHOLDER_KEY and len(self._value) >= 4:
            return text.replace(self._value, "***")
        return text

    def __repr__(self) -> str:
        return "<secret>"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)  # SDK / pydantic objects passed back as messages
    if callable(dump):
        return dump(exclude_none=True)
    raise TypeError(f"cannot use a {type(value).__name__} in a chat request: {value!r:.80}")


def _digest(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode("utf-8")).hexdigest()


def _shorten(text: str, limit: int = _SHOWN_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


async def _within(seconds: float, awaitable: Awaitable[Any]) -> Any:
    """``awaitable`` with a wall-clock limit: ``asyncio.timeout`` where there is one (3.11+:
    no extra task per request), else ``asyncio.wait_for``."""
    limit = getattr(asyncio, "timeout", None)
    if limit is None:
        return await asyncio.wait_for(awaitable, seconds)
    async with limit(seconds):
        return await awaitable


def _http_client(timeout: float) -> Any:
    """The SDK's aiohttp-backed HTTP client (``openai[aiohttp]``), else its default httpx one.

    With many requests in flight, httpx's connection pool scans every connection on each
    request; aiohttp's does not, so a request costs about a third of the CPU at 128 in flight.
    """
    aiohttp_client = getattr(openai, "DefaultAioHttpClient", None)
    if aiohttp_client is not None:
        try:
            return aiohttp_client(timeout=timeout)
        except RuntimeError:  # the SDK's aiohttp extra is not installed
            pass
    return openai.DefaultAsyncHttpxClient(timeout=timeout)


def _is_transient(error: BaseException) -> bool:
    """Worth another attempt: timeouts, connection failures, HTTP 408/409/429 and 5xx."""
    if isinstance(error, (openai.APIConnectionError, *_TIMEOUTS)):  # APITimeoutError included
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in RETRYABLE_STATUS or error.status_code >= 500
    return False


def _retry_after(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` / ``retry-after-ms``), if any."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                return None  # an HTTP date: fall back to our own backoff
    return None


def _count_of(value: Any) -> int:
    """A token count from a server's ``usage`` (missing or malformed: 0)."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _root_cause(error: BaseException) -> str:
    """The innermost cause's text (e.g. 'All connection attempts failed'), for messages."""
    seen = {id(error)}
    while error.__cause__ is not None and id(error.__cause__) not in seen:
        error = error.__cause__
        seen.add(id(error))
    return str(error) or type(error).__name__


def _timed_out(error: BaseException) -> bool:
    """A timeout, not a refused or reset connection. (The aiohttp transport reports a
    refused connection as a connect timeout: its cause, an ``OSError`` that is no
    ``TimeoutError``, tells the two apart.)"""
    if not isinstance(error, (openai.APITimeoutError, *_TIMEOUTS)):
        return False
    seen = {id(error)}
    cause = error.__cause__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            return False
        seen.add(id(cause))
        cause = cause.__cause__
    return True


def _server_detail(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        message = inner.get("message") or inner.get("detail")
        if message:
            return str(message)
        return _canonical(body)
    if body:
        return str(body)
    return error.message


async def _close_at_loop_shutdown(client: Any) -> AsyncIterator[None]:
    """Parked at its ``yield`` once started; the event loop's ``shutdown_asyncgens()`` (run
    by ``asyncio.run`` on exit) closes it, and the ``finally`` closes the HTTP client on
    that loop, so no connection outlives its loop."""
    try:
        yield
    finally:
        await client.close()


# Started closers, held until their loop is gone: were one garbage-collected with its
# owner, its close would only be scheduled and could be cut off by loop.close().
_CLOSERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[Any]] = weakref.WeakKeyDictionary()


class _PerLoopClient:
    """One SDK client and one concurrency semaphore per event loop, closed when that loop shuts down.

    An async HTTP client is bound to the loop it was created on; reusing one across
    ``asyncio.run`` calls (as synchronous wrappers do) leaks sockets. ``factory`` makes a
    new SDK client; ``get()`` returns this loop's client and semaphore.
    """

    def __init__(self, factory: Callable[[], Any], max_concurrency: int) -> None:
        self.factory, self.max_concurrency = factory, max_concurrency
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, asyncio.Semaphore, Any]] = (
            weakref.WeakKeyDictionary())

    async def get(self) -> tuple[Any, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        entry = self._per_loop.get(loop)
        if entry is None:
            client = self.factory()
            closer = _close_at_loop_shutdown(client)
            entry = (client, asyncio.Semaphore(self.max_concurrency), closer)
            self._per_loop[loop] = entry  # before any await: concurrent first calls share it
            _CLOSERS.setdefault(loop, set()).add(closer)
            await closer.__anext__()  # registers it with this loop's async-generator hooks
        return entry[0], entry[1]

    async def aclose(self) -> None:
        """Close the running loop's client (the others close with their loops)."""
        loop = asyncio.get_running_loop()
        entry = self._per_loop.pop(loop, None)
        if entry is not None:
            _CLOSERS.get(loop, set()).discard(entry[2])
            await entry[2].aclose()  # runs _close_at_loop_shutdown's finally: closes the client


class _DiskCache:
    """One JSON file per key under ``root/<first two hex digits>/<key>.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            logger.warning("ignoring unreadable cache entry %s: %s", path, err)
            return None
        if not isinstance(entry, dict) or entry.get("version") != _CACHE_VERSION:
            return None
        return entry.get("response")

    def put(self, key: str, text: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)  # atomic: readers never see half a file


class _Recording:
    """The answers of a recorded run, by request key, served in recorded order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self.served: dict[str, int] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise ConfigurationError(f"cannot read the recording {path}: {err}") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                self.answers.setdefault(entry["key"], []).append(entry["response"])
            except (ValueError, KeyError, TypeError) as err:
                raise ConfigurationError(f"{path}:{number} is not a recorded request "
                                         f"({type(err).__name__}: {err})") from None

    def __len__(self) -> int:
        return sum(len(answers) for answers in self.answers.values())

    def take(self, key: str) -> dict[str, Any] | None:
        answers = self.answers.get(key)
        if not answers:
            return None
        index = self.served.get(key, 0)
        self.served[key] = index + 1
        return answers[min(index, len(answers) - 1)]  # more repeats than recorded: the last again


# -- the client ---------------------------------------------------------------------------


class LLMClient:
    """An async chat client for any OpenAI-compatible endpoint (see the module doc).

    - ``model``: the model name sent with every request.
    - ``base_url``: the API root, e.g. ``http://127.0.0.1:8000/v1`` for vLLM; ``None`` uses
      ``OPENAI_BASE_URL`` or OpenAI's API.
    - ``api_key``: else ``OPENAI_API_KEY``; a custom endpoint without either gets ``"EMPTY"``.
    - ``timeout``: seconds per attempt (wall clock); ``chat(..., timeout=...)`` overrides it.
    - ``max_attempts``: HTTP requests per call at most (1 = no retries).
    - ``backoff``: ``(initial, maximum)`` seconds; the n-th retry waits a random time up to
      ``min(maximum, initial * 2**(n-1))``, and at least the server's ``Retry-After``
      (capped at ``maximum``).
    - ``max_concurrency``: requests in flight at once (per event loop). The default, 128,
      rarely binds in a benchmark (``--concurrency`` episodes have at most one request each
      in flight per component); lower it for a rate-limited API.
    - ``cache_dir``: directory of the response cache (``None``: no cache).
    - ``record_path`` / ``replay_path``: JSONL file to append the run to / to answer from.
    - ``prices``: ``Pricing`` or ``(input_per_1m, output_per_1m)`` for cost accounting.
    - ``default_sampling``: request options (``temperature``, ``max_tokens``, ...) sent with
      every call unless the call overrides them.

    One ``AsyncOpenAI`` is made per event loop and closed when that loop shuts down (or by
    ``aclose()``), so the client also works across several ``asyncio.run`` calls.
    """

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 60.0, max_attempts: int = 5, backoff: tuple[float, float] = (0.5, 30.0),
                 max_concurrency: int = 128, cache_dir: str | os.PathLike[str] | None = None,
                 record_path: str | os.PathLike[str] | None = None,
                 replay_path: str | os.PathLike[str] | None = None,
                 prices: Pricing | Sequence[float] | Mapping[str, float] | None = None,
                 default_sampling: Mapping[str, Any] | None = None) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError("LLMClient needs a model name, e.g. LLMClient('gpt-4.1')")
        resolved_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        details = {"model": model, "base_url": resolved_url}
        if not timeout or timeout <= 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout}", **details)
        if max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, got {max_attempts}", **details)
        if max_concurrency < 1:
            raise ConfigurationError(f"max_concurrency must be at least 1, got {max_concurrency}", **details)
        initial, maximum = backoff
        if initial < 0 or maximum < 0:
            raise ConfigurationError(f"backoff must be (initial, maximum) seconds >= 0, got {backoff}", **details)
        if record_path is not None and replay_path is not None and Path(record_path) == Path(replay_path):
            raise ConfigurationError("record_path and replay_path must be different files", **details)
        key = api_key or os.environ.get("OPENAI_API_KEY") or ""
        if not key:
            if resolved_url == DEFAULT_BASE_URL and replay_path is None:
                raise ConfigurationError(
                    f"no API key for {resolved_url}: set OPENAI_API_KEY or pass api_key=... "
                    "(or base_url=... for a local endpoint that needs none)", **details)
            key = PLACEHOLDER_KEY
        self.model = model
        self.base_url = resolved_url
        self.timeout = float(timeout)
        self.max_attempts = max_attempts
        self.backoff = (float(initial), float(maximum))
        self.max_concurrency = max_concurrency
        self.pricing = Pricing.of(prices)
        self.default_sampling = dict(default_sampling or {})
        for option in _UNKEYED_OPTIONS:
            if option in self.default_sampling:
                raise ConfigurationError(f"pass {option!r} to LLMClient/chat directly, not in default_sampling",
                                         **details)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.record_path = Path(record_path) if record_path is not None else None
        self.replay_path = Path(replay_path) if replay_path is not None else None
        self.totals = Meter()  # every call of this client
        self._key = _Secret(key)
        self._cache = _DiskCache(self.cache_dir) if self.cache_dir is not None else None
        self._replay = _Recording(self.replay_path) if self.replay_path is not None else None
        self._record_lock = threading.Lock()
        self._jitter = wait_random_exponential(multiplier=self.backoff[0], max=self.backoff[1])
        self._clients = _PerLoopClient(
            lambda: openai.AsyncOpenAI(api_key=self._key.reveal(), base_url=self.base_url, timeout=self.timeout,
                                       max_retries=0, http_client=_http_client(self.timeout)),  # tenacity is the only retry layer
            self.max_concurrency)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LLMClient:
        """A client from a config mapping: ``model``, optional ``base_url``, the key as
        ``api_key`` or as the name of an environment variable in ``api_key_env``, and any
        other keyword argument of ``LLMClient`` (``timeout``, ``prices``, ``cache_dir``...)."""
        options = dict(config)
        variable = options.pop("api_key_env", None)
        if variable is not None and options.get("api_key") is None:
            options["api_key"] = os.environ.get(variable)
            if not options["api_key"]:
                raise ConfigurationError(f"the config names the key variable {variable!r}, but it is not set",
                                         model=options.get("model"), base_url=options.get("base_url"))
        if "backoff" in options:
            options["backoff"] = tuple(options["backoff"])
        return cls(**options)

    @property
    def identity(self) -> str:
        """The model and endpoint (and default sampling), without the key: for cache keys."""
        identity = f"{self.model}@{self.base_url}"
        return f"{identity} {_canonical(self.default_sampling)}" if self.default_sampling else identity

    def meter(self) -> contextlib.AbstractContextManager[Meter]:
        """``meter(self)``: count this client's calls inside the ``with`` block (see ``meter``)."""
        return meter(self)

    def __repr__(self) -> str:
        extras = "".join(f", {name}={str(value)!r}" for name, value in (
            ("cache_dir", self.cache_dir), ("record_path", self.record_path), ("replay_path", self.replay_path))
            if value is not None)
        return (f"LLMClient(model={self.model!r}, base_url={self.base_url!r}, timeout={self.timeout:g}, "
                f"max_attempts={self.max_attempts}, max_concurrency={self.max_concurrency}{extras})")

    # -- calls --------------------------------------------------------------------------

    async def complete(self, messages: Sequence[Mapping[str, Any]], **sampling: Any) -> str:
        """The reply text (``clinic_rubrics.chat.ChatClient``); ``NoContent`` when there is none."""
        result = await self.chat(messages, **sampling)
        if result.content is None:
            what = f"{len(result.tool_calls)} tool call(s)" if result.tool_calls else "no content"
            raise NoContent(f"{self.model} at {self.base_url} answered with {what} "
                            f"(finish_reason={result.finish_reason!r}), not text",
                            model=self.model, base_url=self.base_url)
        return result.content

    async def chat(self, messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Mapping[str, Any]] | None = None,
                   tool_choice: str | Mapping[str, Any] | None = None, **sampling: Any) -> ChatResult:
        """One chat completion: the first choice's content and tool calls, usage and cost.

        ``sampling``: any ``chat.completions.create`` option (``temperature``,
        ``max_tokens``, ``seed``, ``response_format``, ``extra_body``...), over
        ``default_sampling``; ``timeout=`` sets this call's per-attempt timeout. Raises an
        ``LLMError`` subclass on failure.
        """
        options = {**self.default_sampling, **sampling}
        timeout = float(options.pop("timeout", None) or self.timeout)
        if options.get("stream"):
            raise ConfigurationError("LLMClient does not stream; drop stream=True",
                                     model=self.model, base_url=self.base_url)
        request = {"model": self.model, "messages": list(messages), "tools": list(tools) if tools else None,
                   "tool_choice": tool_choice,
                   "sampling": {k: v for k, v in options.items() if k not in _UNKEYED_OPTIONS}}
        # keys only when a recording or the cache needs them: hashing a long dialogue costs
        request_key = _digest(request) if self._replay is not None or self.record_path is not None else ""
        cache_key = _digest({"endpoint": self.base_url, "request": request}) if self._cache is not None else ""
        try:
            if self._replay is not None:
                result = self._replayed(request, request_key)
            else:
                result = self._cached(cache_key)
                if result is None:
                    result = await self._fetch(request, options, timeout)
                    self._store(cache_key, result)
        except LLMError:
            self._count(None)
            raise
        if self.record_path is not None:
            self._record(request, request_key, result)
        self._count(result)
        return result

    # -- the network ----------------------------------------------------------------------

    async def _fetch(self, request: dict[str, Any], options: dict[str, Any], timeout: float) -> ChatResult:
        client, semaphore = await self._clients.get()
        # A plain POST through the SDK's client (its auth, base URL, status errors and
        # connection pool), with the body as JSON and the answer as parsed JSON: the SDK's
        # typed transform of the request and its pydantic model of the answer cost more CPU
        # than the HTTP exchange itself, and a long consultation is resent at every turn.
        headers = options.pop("extra_headers", None) or {}
        query = options.pop("extra_query", None)
        extra_body = options.pop("extra_body", None) or {}
        body = {"model": self.model, "messages": request["messages"], **options, **extra_body}
        if request["tools"] is not None:
            body["tools"] = request["tools"]
        if request["tool_choice"] is not None:
            body["tool_choice"] = request["tool_choice"]

        async def attempt() -> Any:
            async with semaphore:  # held per attempt, not during backoff sleeps
                return await _within(timeout, client.post(
                    "/chat/completions", body=body, cast_to=object,
                    options={"timeout": timeout, "headers": headers, **({"params": query} if query else {})}))

        try:
            response = await attempt()  # most calls succeed at once: no retry machinery for them
        except _FAILURES as err:
            if self.max_attempts == 1 or not _is_transient(err):
                raise self._error(err, 1, timeout) from None  # the SDK error holds the request headers
            response = await self._retry(attempt, err, timeout)
        return self._parse(response)

    async def _retry(self, attempt: Callable[[], Awaitable[Any]], first_error: BaseException, timeout: float) -> Any:
        """Attempts 2 to ``max_attempts`` (tenacity: backoff with jitter, ``Retry-After``, a log
        line per retry). The first attempt's failure is handed to tenacity as its own first
        attempt, so waits, logs and counts are as if tenacity had made it."""
        failed = [first_error]
        retrying = AsyncRetrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait,
                                 retry=retry_if_exception(_is_transient), before_sleep=self._log_retry,
                                 reraise=True)
        try:
            async for state in retrying:
                with state:
                    if failed:
                        raise failed.pop()
                    return await attempt()
        except _FAILURES as err:
            raise self._error(err, retrying.statistics.get("attempt_number", 1), timeout) from None

    def _wait(self, state: RetryCallState) -> float:
        delay = self._jitter(state)
        hint = _retry_after(state.outcome.exception() if state.outcome else None)
        if hint is not None:
            delay = max(delay, min(hint, self.backoff[1]))
        return delay

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning("%s: attempt %d/%d failed (%s); retrying in %.2fs", self.identity, state.attempt_number,
                       self.max_attempts, self._describe(error), state.next_action.sleep if state.next_action else 0)

    def _describe(self, error: BaseException | None) -> str:
        if error is None:
            return "no error"
        if isinstance(error, openai.APIStatusError):
            text = f"HTTP {error.status_code}: {_server_detail(error)}"
        elif _timed_out(error):
            text = "timed out"
        elif isinstance(error, openai.APIConnectionError):
            text = _root_cause(error)
        else:
            text = f"{type(error).__name__}: {error}"
        return _shorten(self._key.redact(text))

    def _error(self, error: BaseException, attempts: int, timeout: float) -> LLMError:
        """The ``LLMError`` for an exception of the last attempt."""
        where = f"{self.model!r} at {self.base_url}"
        after = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
        cause = self._describe(error)
        context = {"model": self.model, "base_url": self.base_url, "attempts": attempts}
        if _timed_out(error):
            return RequestTimedOut(f"{where}: no answer within {timeout:g}s, {after}", **context)
        if isinstance(error, openai.APIConnectionError):  # APITimeoutError for a refused connection too
            return EndpointUnreachable(f"cannot reach {self.base_url} (model {self.model!r}) {after}: {cause}; "
                                       "is the server running, and are host, port and scheme right?", **context)
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            context["status_code"] = status
            if status in (401, 403):
                return AuthenticationFailed(f"{where}: authentication failed ({cause}); check OPENAI_API_KEY "
                                            "or the api_key given to LLMClient", **context)
            if status == 404:
                return ModelNotFound(f"model {self.model!r} not found at {self.base_url} ({cause}); check the "
                                     f"model name (GET {self.base_url}/models lists what the server serves) and "
                                     "that base_url is the API root (usually ending in /v1)", **context)
            if status == 429:
                return RateLimited(f"{where}: rate limited {after} ({cause})", **context)
            if status >= 500:
                return ServerError(f"{where}: server error {after} ({cause})", **context)
            return RequestRejected(f"{where}: request rejected ({cause})", **context)
        return BadResponse(f"{where}: the answer is not a chat completion ({cause}); is base_url an "
                           "OpenAI-compatible API?", **context)

    def _parse(self, response: Any) -> ChatResult:
        """The ``ChatResult`` of a chat-completion JSON object (``BadResponse`` if it is none)."""
        where = f"{self.model!r} at {self.base_url}"
        context = {"model": self.model, "base_url": self.base_url, "attempts": 1}
        if not isinstance(response, Mapping) or "choices" not in response:  # e.g. an HTML page, as text
            raise BadResponse(f"{where}: the answer is not a chat completion ({_shorten(str(response), 120)!r}); "
                              "is base_url an OpenAI-compatible API root (usually ending in /v1)?", **context)
        choices = response["choices"]
        choice = choices[0] if isinstance(choices, list) and choices else None
        message = choice.get("message") if isinstance(choice, Mapping) else None
        if not isinstance(message, Mapping):
            raise BadResponse(f"{where}: the completion has no choices or no message", **context)
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise BadResponse(f"{where}: the message content is {type(content).__name__}, not text", **context)
        tool_calls = []
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, Mapping) else None
            function = function if isinstance(function, Mapping) else {}
            tool_calls.append({"id": str(call.get("id") or "") if isinstance(call, Mapping) else "",
                               "name": str(function.get("name") or ""),
                               "arguments": str(function.get("arguments") or "")})
        reported = response.get("usage")
        reported = reported if isinstance(reported, Mapping) else {}
        usage = Usage(prompt_tokens=_count_of(reported.get("prompt_tokens")),
                      completion_tokens=_count_of(reported.get("completion_tokens")))
        model = response.get("model")
        return ChatResult(content=content, tool_calls=tool_calls, finish_reason=choice.get("finish_reason"),
                          usage=usage, cost=self.pricing.cost(usage), cached=False, source="api",
                          model=model if isinstance(model, str) else None)

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop (others close with their loops)."""
        await self._clients.aclose()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- cache, record, replay, accounting ---------------------------------------------------

    def _cached(self, cache_key: str) -> ChatResult | None:
        if self._cache is None:
            return None
        stored = self._cache.get(cache_key)
        return ChatResult._from_stored(stored, "cache") if stored is not None else None

    def _store(self, cache_key: str, result: ChatResult) -> None:
        if self._cache is None:
            return
        entry = {"version": _CACHE_VERSION, "model": self.model, "base_url": self.base_url,
                 "created": time.time(), "response": result._stored()}
        try:
            self._cache.put(cache_key, self._key.redact(json.dumps(entry, ensure_ascii=False, indent=1)))
        except OSError as err:  # a full or read-only disk must not fail the call
            logger.warning("%s: cannot write the response cache under %s: %s", self.identity, self.cache_dir, err)

    def _replayed(self, request: dict[str, Any], request_key: str) -> ChatResult:
        assert self._replay is not None
        stored = self._replay.take(request_key)
        if stored is None:
            last_user = next((m.get("content") for m in reversed(request["messages"])
                              if isinstance(m, Mapping) and m.get("role") == "user"), None)
            raise ReplayMiss(
                f"{self.model!r}: request {request_key[:12]} is not in the recording {self.replay_path} "
                f"({len(self._replay)} recorded answers); its model, messages, tools or sampling differ from the "
                f"recorded run (last user message: {_shorten(self._key.redact(str(last_user)), 80)!r})",
                model=self.model, base_url=self.base_url)
        return ChatResult._from_stored(stored, "replay")

    def _record(self, request: dict[str, Any], request_key: str, result: ChatResult) -> None:
        assert self.record_path is not None
        entry = {"key": request_key, "time": time.time(), "source": result.source, "request": request,
                 "response": result._stored()}
        line = self._key.redact(_canonical(entry)) + "\n"
        with self._record_lock:
            self.record_path.parent.mkdir(parents=True, exist_ok=True)
            with self.record_path.open("a", encoding="utf-8") as file:
                file.write(line)

    def _count(self, result: ChatResult | None) -> None:
        meters = [self.totals, *active_meters(self)]
        for counts in meters:
            if result is None:
                counts.failed_calls += 1
            else:
                counts.add(result)
