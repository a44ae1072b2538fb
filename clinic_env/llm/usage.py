"""Token and cost accounting for LLM calls: usage, prices, and meters that follow the asyncio context.

Kept apart from ``clinic_env.llm.client`` (which needs the openai SDK) so that the runner can
open a meter around every episode without importing any HTTP client: an episode that
makes no LLM call records zeros.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Usage:
    """Tokens of one completion, as the endpoint reported them (0 when it reports none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Pricing:
    """Prices in currency units (e.g. USD) per million tokens, as price lists quote them."""

    input_per_1m: float = 0.0
    output_per_1m: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (usage.prompt_tokens * self.input_per_1m + usage.completion_tokens * self.output_per_1m) / 1e6

    @classmethod
    def of(cls, prices: Pricing | Sequence[float] | Mapping[str, float] | None) -> Pricing:
        """A ``Pricing`` from a ``Pricing``, an ``(input_per_1m, output_per_1m)`` pair, a
        mapping with those keys, or ``None`` (free)."""
        if prices is None:
            return cls()
        if isinstance(prices, Pricing):
            return prices
        if isinstance(prices, Mapping):
            return cls(**prices)
        input_price, output_price = prices
        return cls(float(input_price), float(output_price))


@dataclass
class Meter:
    """Counts of calls answered while it was active.

    ``calls``: answered ``chat``/``complete`` calls, ``cached_calls`` of them from the cache
    or a recording; ``failed_calls``: calls that raised. ``prompt_tokens``,
    ``completion_tokens`` and ``cost`` count only what was actually sent; tokens of cached
    answers are in ``cached_prompt_tokens`` / ``cached_completion_tokens``.
    """

    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0
    cost: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, result: Any) -> None:
        """Count one answered call (a ``clinic_env.llm.ChatResult``)."""
        self.calls += 1
        if result.cached:
            self.cached_calls += 1
            self.cached_prompt_tokens += result.usage.prompt_tokens
            self.cached_completion_tokens += result.usage.completion_tokens
        else:
            self.prompt_tokens += result.usage.prompt_tokens
            self.completion_tokens += result.usage.completion_tokens
            self.cost += result.cost

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "total_tokens": self.total_tokens}


# The meters active in the current context: (meter, client it is limited to or None).
_METERS: contextvars.ContextVar[tuple[tuple[Meter, Any], ...]] = contextvars.ContextVar(
    "clinic_env_llm_meters", default=())


@contextlib.contextmanager
def meter(client: Any = None) -> Iterator[Meter]:
    """Count the LLM calls made inside the ``with`` block (of ``client`` only, if given).

    The meter follows the context, not the client: an asyncio task sees the meters active
    where it was created, so each episode's task can hold its own meter while sharing one
    client; meters nest (an outer meter counts the inner calls too). Threads do not inherit
    meters unless run with ``contextvars.copy_context()``.
    """
    counts = Meter()
    token = _METERS.set(_METERS.get() + ((counts, client),))
    try:
        yield counts
    finally:
        _METERS.reset(token)


def active_meters(client: Any) -> list[Meter]:
    """The meters of the current context that count ``client``'s calls."""
    return [counts for counts, owner in _METERS.get() if owner is None or owner is client]
