"""One chat answer (``ChatResult``), and reading one from a chat-completion JSON object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from clinic_env.llm.errors import BadResponse, shorten
from clinic_env.llm.usage import Pricing, Usage


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


def parse_completion(response: Any, *, model: str, base_url: str, pricing: Pricing) -> ChatResult:
    """The ``ChatResult`` of a chat-completion JSON object (``BadResponse`` if it is none)."""
    where = f"{model!r} at {base_url}"
    context = {"model": model, "base_url": base_url, "attempts": 1}
    if not isinstance(response, Mapping) or "choices" not in response:  # e.g. an HTML page, as text
        raise BadResponse(f"{where}: the answer is not a chat completion ({shorten(str(response), 120)!r}); "
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
    answered_by = response.get("model")
    return ChatResult(content=content, tool_calls=tool_calls, finish_reason=choice.get("finish_reason"),
                      usage=usage, cost=pricing.cost(usage), cached=False, source="api",
                      model=answered_by if isinstance(answered_by, str) else None)


def _count_of(value: Any) -> int:
    """A token count from a server's ``usage`` (missing or malformed: 0)."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0
