"""The errors of an LLM call: one ``LLMError`` subclass per cause, each naming the model and endpoint.

Each carries a ``status_code`` (``None`` without an HTTP answer), so
``clinic_rubrics.llm_judge.LLMJudge`` does not retry errors that cannot improve.
"""

from __future__ import annotations

from clinic_rubrics.chat import ChatClientError


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


_SHOWN_CHARS = 300  # how much of a server's error text an exception quotes


def shorten(text: str, limit: int = _SHOWN_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters: for quoting a server in a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
