"""Synchronous calls into async LLM code: one background loop, kept connections, inside notebooks too."""

from __future__ import annotations

import asyncio

import pytest
from openai_server import serve

from clinic_env.llm import LLMClient
from clinic_rubrics.sync import run_sync

HELLO = [{"role": "user", "content": "hello"}]


def test_sync_calls_share_one_loop_and_keep_their_connection():
    with serve(handler=lambda request: "hi") as server:
        client = LLMClient("test-model", base_url=server.base_url, api_key="test")
        answers = [run_sync(client.complete(HELLO), "await client.complete") for _ in range(3)]
        assert answers == ["hi"] * 3 and len(server.requests) == 3
        assert server.open_connections == 1  # asyncio.run per call would have closed it each time

        async def notebook_cell():  # a loop is running, as in Jupyter
            return run_sync(client.complete(HELLO), "await client.complete")

        assert asyncio.run(notebook_cell()) == "hi" and server.open_connections == 1


def test_a_sync_call_from_the_background_loop_itself_is_refused():
    async def nested():
        return run_sync(asyncio.sleep(0, "never"), "await it instead")

    with pytest.raises(RuntimeError, match="could never finish; await it instead"):
        run_sync(nested(), "outer")
