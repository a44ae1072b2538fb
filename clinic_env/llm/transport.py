"""The HTTP side of the client: one SDK client per event loop, timeouts, and what a failure was.

An async HTTP client is bound to the loop it was created on; reusing one across
``asyncio.run`` calls (as synchronous wrappers do) leaks sockets, so ``PerLoopClient``
keeps one per loop and closes it when that loop shuts down. The helpers below classify the
SDK's exceptions: which are worth another attempt, how long the server asked us to wait,
and a timeout told apart from a refused connection.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai

from clinic_env.llm.keys import canonical

RETRYABLE_STATUS = (408, 409, 429)  # plus every 5xx
TIMEOUTS = (TimeoutError, asyncio.TimeoutError)  # asyncio.wait_for's (distinct before Python 3.11)
FAILURES = (openai.OpenAIError, *TIMEOUTS, json.JSONDecodeError)  # what an attempt may raise


async def within(seconds: float, awaitable: Awaitable[Any]) -> Any:
    """``awaitable`` with a wall-clock limit: ``asyncio.timeout`` where there is one (3.11+:
    no extra task per request), else ``asyncio.wait_for``."""
    limit = getattr(asyncio, "timeout", None)
    if limit is None:
        return await asyncio.wait_for(awaitable, seconds)
    async with limit(seconds):
        return await awaitable


def http_client(timeout: float) -> Any:
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

    ``factory`` makes a new SDK client; ``get()`` returns this loop's client and semaphore.
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


def is_transient(error: BaseException) -> bool:
    """Worth another attempt: timeouts, connection failures, HTTP 408/409/429 and 5xx."""
    if isinstance(error, (openai.APIConnectionError, *TIMEOUTS)):  # APITimeoutError included
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in RETRYABLE_STATUS or error.status_code >= 500
    return False


def retry_after(error: BaseException | None) -> float | None:
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


def root_cause(error: BaseException) -> str:
    """The innermost cause's text (e.g. 'All connection attempts failed'), for messages."""
    seen = {id(error)}
    while error.__cause__ is not None and id(error.__cause__) not in seen:
        error = error.__cause__
        seen.add(id(error))
    return str(error) or type(error).__name__


def timed_out(error: BaseException) -> bool:
    """A timeout, not a refused or reset connection. (The aiohttp transport reports a
    refused connection as a connect timeout: its cause, an ``OSError`` that is no
    ``TimeoutError``, tells the two apart.)"""
    if not isinstance(error, (openai.APITimeoutError, *TIMEOUTS)):
        return False
    seen = {id(error)}
    cause = error.__cause__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            return False
        seen.add(id(cause))
        cause = cause.__cause__
    return True


def server_detail(error: openai.APIStatusError) -> str:
    """The server's own error message from an HTTP error's body."""
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        message = inner.get("message") or inner.get("detail")
        if message:
            return str(message)
        return canonical(body)
    if body:
        return str(body)
    return error.message
