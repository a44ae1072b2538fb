"""Running the async LLM code from synchronous callers (env steps, scripts, notebook cells).

Synchronous methods (``LLMPatient.reply``, ``OpenAIChatDoctor.act``, ``grade``) run their
coroutine on one private event loop in a background thread and wait for it. So they work
the same in a script and inside a running loop (a Jupyter cell calling ``env.step``), and
an HTTP client made for that loop keeps its connections from call to call instead of
opening new ones each time, as ``asyncio.run`` per call would.

Async callers (the benchmark runner) should await the async methods instead: a sync call
blocks its caller's loop while it waits. Only a call made from the background loop itself
is refused, since waiting there could never finish.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_background: tuple[int, asyncio.AbstractEventLoop] | None = None  # (process id, loop)


def _background_loop() -> asyncio.AbstractEventLoop:
    """The process's background loop, started on first use (and again in a forked child)."""
    global _background
    with _lock:
        if _background is None or _background[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="clinic-env-sync-loop", daemon=True).start()
            _background = (os.getpid(), loop)
        return _background[1]


def run_sync(awaitable: Awaitable[T], hint: str) -> T:
    """Run ``awaitable`` to completion on the background loop and return its result."""
    loop = _background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never awaited: close it so Python does not warn
        raise RuntimeError(f"called from the loop that runs synchronous calls, where it could never finish; {hint}")
    return asyncio.run_coroutine_threadsafe(awaitable, loop).result()  # type: ignore[arg-type]
