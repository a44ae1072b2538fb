"""Running the async LLM code from synchronous callers (env steps, scripts) with one clear rule."""

from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

T = TypeVar("T")


def run_sync(awaitable: Awaitable[T], hint: str) -> T:
    """``asyncio.run`` it, or, inside a running loop (a notebook, an async harness), say what to await instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(awaitable)  # type: ignore[arg-type]
    if asyncio.iscoroutine(awaitable):
        awaitable.close()  # never awaited: close it so Python does not warn
    raise RuntimeError(f"called from inside a running event loop; {hint}")
