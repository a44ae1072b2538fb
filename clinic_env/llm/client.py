"""``LLMClient``: the one async chat client of the project (see the package doc for what it adds).

It builds a request, answers it from a recording, the disk cache or the endpoint (with
tenacity's retries around the SDK's client of the running loop), turns failures into
``LLMError`` subclasses without the key, and counts every call on its meters.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from clinic_env.llm.cache import CACHE_VERSION, DiskCache
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
    shorten,
)
from clinic_env.llm.keys import canonical, digest
from clinic_env.llm.recording import Recorder, Recording
from clinic_env.llm.result import ChatResult, parse_completion
from clinic_env.llm.secret import PLACEHOLDER_KEY, Secret
from clinic_env.llm.transport import (
    FAILURES,
    PerLoopClient,
    http_client,
    is_transient,
    retry_after,
    root_cause,
    server_detail,
    timed_out,
    within,
)
from clinic_env.llm.usage import Meter, Pricing, active_meters, meter

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Request options that change how a request is sent but not what it asks for: they are
# left out of cache and replay keys, and never written to disk (headers may hold secrets).
_UNKEYED_OPTIONS = ("timeout", "extra_headers")


def resolve_base_url(base_url: str | None = None) -> str:
    """The API root a client for ``base_url`` talks to: ``base_url``, else ``OPENAI_BASE_URL``,
    else OpenAI's (no trailing slash). The one place that reads ``OPENAI_BASE_URL``."""
    return (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


class LLMClient:
    """An async chat client for any OpenAI-compatible endpoint (see the package doc, ``clinic_env.llm``).

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
        resolved_url = resolve_base_url(base_url)
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
        self._key = Secret(key)
        self._cache = DiskCache(self.cache_dir) if self.cache_dir is not None else None
        self._replay = Recording(self.replay_path) if self.replay_path is not None else None
        self._recorder = Recorder(self.record_path) if self.record_path is not None else None
        self._jitter = wait_random_exponential(multiplier=self.backoff[0], max=self.backoff[1])
        self._clients = PerLoopClient(
            lambda: openai.AsyncOpenAI(api_key=self._key.reveal(), base_url=self.base_url, timeout=self.timeout,
                                       max_retries=0, http_client=http_client(self.timeout)),  # tenacity is the only retry layer
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
        return f"{identity} {canonical(self.default_sampling)}" if self.default_sampling else identity

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
        request_key = digest(request) if self._replay is not None or self._recorder is not None else ""
        cache_key = digest({"endpoint": self.base_url, "request": request}) if self._cache is not None else ""
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
        if self._recorder is not None:
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
                return await within(timeout, client.post(
                    "/chat/completions", body=body, cast_to=object,
                    options={"timeout": timeout, "headers": headers, **({"params": query} if query else {})}))

        try:
            response = await attempt()  # most calls succeed at once: no retry machinery for them
        except FAILURES as err:
            if self.max_attempts == 1 or not is_transient(err):
                raise self._error(err, 1, timeout) from None  # the SDK error holds the request headers
            response = await self._retry(attempt, err, timeout)
        return parse_completion(response, model=self.model, base_url=self.base_url, pricing=self.pricing)

    async def _retry(self, attempt: Callable[[], Awaitable[Any]], first_error: BaseException, timeout: float) -> Any:
        """Attempts 2 to ``max_attempts`` (tenacity: backoff with jitter, ``Retry-After``, a log
        line per retry). The first attempt's failure is handed to tenacity as its own first
        attempt, so waits, logs and counts are as if tenacity had made it."""
        failed = [first_error]
        retrying = AsyncRetrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait,
                                 retry=retry_if_exception(is_transient), before_sleep=self._log_retry,
                                 reraise=True)
        try:
            async for state in retrying:
                with state:
                    if failed:
                        raise failed.pop()
                    return await attempt()
        except FAILURES as err:
            raise self._error(err, retrying.statistics.get("attempt_number", 1), timeout) from None

    def _wait(self, state: RetryCallState) -> float:
        delay = self._jitter(state)
        hint = retry_after(state.outcome.exception() if state.outcome else None)
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
            text = f"HTTP {error.status_code}: {server_detail(error)}"
        elif timed_out(error):
            text = "timed out"
        elif isinstance(error, openai.APIConnectionError):
            text = root_cause(error)
        else:
            text = f"{type(error).__name__}: {error}"
        return shorten(self._key.redact(text))

    def _error(self, error: BaseException, attempts: int, timeout: float) -> LLMError:
        """The ``LLMError`` for an exception of the last attempt."""
        where = f"{self.model!r} at {self.base_url}"
        after = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
        cause = self._describe(error)
        context = {"model": self.model, "base_url": self.base_url, "attempts": attempts}
        if timed_out(error):
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
        entry = {"version": CACHE_VERSION, "model": self.model, "base_url": self.base_url,
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
                f"recorded run (last user message: {shorten(self._key.redact(str(last_user)), 80)!r})",
                model=self.model, base_url=self.base_url)
        return ChatResult._from_stored(stored, "replay")

    def _record(self, request: dict[str, Any], request_key: str, result: ChatResult) -> None:
        assert self._recorder is not None
        entry = {"key": request_key, "time": time.time(), "source": result.source, "request": request,
                 "response": result._stored()}
        self._recorder.append(self._key.redact(canonical(entry)) + "\n")

    def _count(self, result: ChatResult | None) -> None:
        meters = [self.totals, *active_meters(self)]
        for counts in meters:
            if result is None:
                counts.failed_calls += 1
            else:
                counts.add(result)
