"""The chat-client protocol LLM graders depend on.

``clinic_rubrics`` never decides how to reach a model: an LLM judge takes any object with an
``async complete(messages, **sampling) -> str`` method (``ChatClient``) and calls it once
per request. The project's client (retries with backoff, a response cache, token and cost
accounting) is ``clinic_env.llm.LLMClient``; tests and other callers may inject any object
that answers the protocol.

A client may expose ``identity`` (a string naming the model and endpoint); graders use it
in cache keys so that answers from different models are never mixed up.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

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
