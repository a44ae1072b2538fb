"""Any OpenAI-compatible chat model as the doctor: the text protocol or tool calling.

The model sees exactly the doctor's chat view, ``info["messages"]`` (system prompt with
the action protocol, then the dialogue), never the case. In ``"text"`` mode its reply is
the action, parsed by the env like any doctor text. In ``"tools"`` mode it is offered the
OpenAI tool schemas of ``clinic_env.actions``; its first tool call becomes the action,
and a reply without a tool call is speech to the patient. A malformed tool call is not
sent to the patient: the doctor falls back to the reply's text and counts the failure in
``invalid_tool_calls``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from clinic_env.actions import TOOL_SCHEMAS, Action, Ask, ToolCallError, action_from_tool_call, parse_action
from clinic_rubrics.sync import run_sync

TOOLS_NOTE = ("Act through the tools: ask_patient, examine, order_tests, diagnose (ends the visit) "
              "or end_consultation. Call exactly one tool per turn.")


class OpenAIChatDoctor:
    """A doctor backed by a chat client (``complete`` for text mode, ``chat(..., tools=...)`` for tools)."""

    def __init__(self, client: Any, mode: Literal["text", "tools"] = "text", sampling: dict | None = None) -> None:
        if mode not in ("text", "tools"):
            raise ValueError(f"mode must be 'text' or 'tools', got {mode!r}")
        if mode == "tools" and not callable(getattr(client, "chat", None)):
            raise TypeError("tools mode needs a client with chat(messages, tools=...), e.g. clinic_env.llm.LLMClient")
        self.client, self.mode, self.sampling = client, mode, dict(sampling or {})
        self.invalid_tool_calls = 0
        self.seed: int | None = None

    def reset(self, seed: int | None = None) -> None:
        self.seed = seed

    async def aact(self, observation: str, info: dict) -> str | Action:
        messages = list(info["messages"])
        if self.mode == "text":
            return await self.client.complete(messages, **self.sampling)
        messages[0] = {"role": "system", "content": messages[0]["content"] + "\n" + TOOLS_NOTE}
        result = await self.client.chat(messages, tools=TOOL_SCHEMAS, **self.sampling)
        if not result.tool_calls:
            return Ask(result.content or "")
        call = result.tool_calls[0]
        try:
            return action_from_tool_call(call["name"], call["arguments"])
        except ToolCallError:
            self.invalid_tool_calls += 1
            return parse_action(result.content or "")

    def act(self, observation: str, info: dict) -> str | Action:
        """``aact`` for synchronous callers (``clinic_rubrics.sync``: works in a notebook too); async code awaits ``aact``."""
        return run_sync(self.aact(observation, info), "await OpenAIChatDoctor.aact(...) instead")


def _shared_client(model: str) -> Any:
    """One client per model and endpoint (``OPENAI_BASE_URL`` as it is now, else OpenAI), shared
    by every episode's doctor: one connection pool and one concurrency limit per endpoint, not a
    new client per episode."""
    from clinic_env.llm import resolve_base_url

    return _client_at(model, resolve_base_url())


@lru_cache(maxsize=64)
def _client_at(model: str, base_url: str) -> Any:
    from clinic_env.llm import LLMClient

    return LLMClient(model, base_url=base_url)


def openai_doctor(model: str) -> OpenAIChatDoctor:
    """The doctor of ``--doctor openai:MODEL``: text protocol, endpoint from ``OPENAI_BASE_URL`` (or OpenAI)."""
    return OpenAIChatDoctor(_shared_client(model))


def openai_tools_doctor(model: str) -> OpenAIChatDoctor:
    """The doctor of ``--doctor openai-tools:MODEL``: the same, acting through tool calls."""
    return OpenAIChatDoctor(_shared_client(model), mode="tools")
