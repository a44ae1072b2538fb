"""The chat-client protocol LLM graders depend on, and a thin default client.

``clinic_rubrics`` never decides how to reach a model: an LLM judge takes any object with an
``async complete(messages, **sampling) -> str`` method (``ChatClient``) and calls it once
per request. The full client (retries with backoff, a response cache, token and cost
accounting) lives in ``clinic_env``; ``OpenAIChatClient`` here is only the thin default:
one ``chat.completions.create`` call on ``openai.AsyncOpenAI`` per ``complete``, a
concurrency limit, and the first choice's message content back. It does not retry by
default (``max_retries=0``) because the judge retries whole gradings itself; see
``LLMJudge``.

A client may expose ``identity`` (a string naming the model and endpoint); graders use it
in cache keys so that answers from different models are never mixed up.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any, AsyncIterator, Callable, Protocol, runtime_checkable

ChatMessage = dict[str, Any]


@runtime_checkable
class ChatClient(Protocol):
    """Anything that answers a list of OpenAI-style chat messages with the reply text."""

    async def complete(self, messages: list[ChatMessage], **sampling: Any) -> str:
        """The assistant's reply to ``messages``; ``sampling`` holds request options such as
        ``temperature`` and ``max_tokens``. Raise on any failure (the caller retries)."""
        ...


def client_identity(client: object) -> str:
    """A string naming what answers behind ``client``, for cache keys.

    ``client.identity`` when the client has one; otherwise its class, and its ``model`` and
    ``base_url`` attributes when present.
    """
    identity = getattr(client, "identity", None)
    if isinstance(identity, str) and identity:
        return identity
    parts = [f"{type(client).__module__}.{type(client).__qualname__}"]
    for attribute in ("model", "base_url"):
        value = getattr(client, attribute, None)
        if value is not None:
            parts.append(f"{attribute}={value}")
    return " ".join(parts)


class ChatClientError(RuntimeError):
    """The endpoint answered, but with no usable message content."""


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


class PerLoopClient:
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


class OpenAIChatClient:
    """The thin default ``ChatClient`` on ``openai.AsyncOpenAI`` (any OpenAI-compatible endpoint).

    - ``model``: the model name sent with every request.
    - ``base_url``: the endpoint (e.g. ``http://127.0.0.1:8000/v1`` for vLLM); ``None`` uses
      the SDK's default (``OPENAI_BASE_URL`` or api.openai.com).
    - ``api_key``: the key, else ``OPENAI_API_KEY``. A custom ``base_url`` without any key
      sends the placeholder ``"EMPTY"`` (local servers such as vLLM ignore it); the default
      endpoint without a key is an error. The key is never logged or shown in ``repr``.
    - ``timeout``: seconds per request.
    - ``max_concurrency``: requests in flight at once from this client (per event loop).
    - ``max_retries``: the SDK's own retries per ``complete`` call; 0 by default because
      callers such as ``LLMJudge`` retry themselves (with the SDK retrying too, a dead
      endpoint would be hit ``(max_retries + 1) * max_attempts`` times).
    - ``default_sampling``: request options sent with every call unless overridden.

    ``complete`` returns ``choices[0].message.content`` and raises ``ChatClientError`` when
    there is none (a refusal, tool calls only, no choices); transport and HTTP errors
    propagate as the SDK's exceptions (``openai.APIConnectionError``, ``APIStatusError``...).

    One ``AsyncOpenAI`` is made per event loop, so the client also works from code that
    runs several ``asyncio.run`` calls in turn (such as ``clinic_rubrics.grading.grade``); each is
    closed when its loop shuts down (``asyncio.run`` finishing), or by ``aclose()``.
    """

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 60.0, max_concurrency: int = 16, max_retries: int = 0,
                 default_sampling: dict[str, Any] | None = None) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError("OpenAIChatClient needs a model name, e.g. OpenAIChatClient('gpt-4.1')")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if not key:
            if base_url is None:
                raise ValueError("no API key: pass api_key=... or set OPENAI_API_KEY "
                                 "(or pass base_url=... for a local endpoint that needs none)")
            key = "EMPTY"
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.default_sampling = dict(default_sampling or {})
        self.__api_key = key
        self._clients = PerLoopClient(self._new_client, max_concurrency)

    @property
    def identity(self) -> str:
        return f"openai-chat:{self.base_url or 'default'}:{self.model}"

    def __repr__(self) -> str:
        return (f"OpenAIChatClient(model={self.model!r}, base_url={self.base_url!r}, "
                f"timeout={self.timeout}, max_concurrency={self.max_concurrency})")

    def _new_client(self) -> Any:
        from openai import AsyncOpenAI  # imported on first use: `import clinic_rubrics` stays light

        return AsyncOpenAI(api_key=self.__api_key, base_url=self.base_url, timeout=self.timeout,
                           max_retries=self.max_retries)

    async def complete(self, messages: list[ChatMessage], **sampling: Any) -> str:
        client, semaphore = await self._clients.get()
        options = {**self.default_sampling, **sampling}
        async with semaphore:
            response = await client.chat.completions.create(model=self.model, messages=messages, **options)
        choices = getattr(response, "choices", None)
        if not choices:
            raise ChatClientError(f"{self.model}: the response has no choices")
        choice = choices[0]
        content = choice.message.content
        if content is None:
            refusal = getattr(choice.message, "refusal", None)
            detail = f"refusal: {refusal!r}" if refusal else f"finish_reason={choice.finish_reason!r}"
            raise ChatClientError(f"{self.model}: the first choice has no message content ({detail})")
        return content

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop (others close with their loops)."""
        await self._clients.aclose()
