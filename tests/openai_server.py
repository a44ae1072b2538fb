"""A small local server speaking OpenAI's ``POST /v1/chat/completions``, for tests.

Tests never touch the network: they start this server on 127.0.0.1 (ephemeral port), on an
asyncio event loop in a background thread, and point any OpenAI-compatible client at
``server.base_url``. One loop serves every connection (HTTP/1.1 keep-alive): a delayed reply
is an ``asyncio.sleep``, not a blocked thread, so hundreds of requests can wait at once and
the latency a test or benchmark scripts is the latency clients see. Each test
scripts the server:

- a queue of canned replies (``server.push(...)``), consumed one per request, then
- a handler function ``handler(request) -> reply`` for requests left when the queue is empty.

A reply is a string (the assistant message content), a ``Reply`` (content plus faults:
``delay``, HTTP ``status`` such as 429/500, a malformed ``body``, a ``drop``\\ped connection,
``tool_calls``, ``finish_reason``), or a dict (sent as the JSON body as is). With neither a
queued reply nor a handler the server answers 500, so a test that under-scripts it fails
loudly instead of hanging.

Every request is recorded (``server.requests``: path, headers, parsed JSON body, the
messages and the last user prompt), and the server tracks how many requests were being
handled at once (``server.max_in_flight``) so tests can check concurrency bounds, and how
many client connections are open (``server.open_connections``) so tests can check that
clients close them.

Usage::

    with serve() as server:                    # or the ``server`` fixture of a test module
        server.push('```json\\n{"explanation": "ok", "criteria_met": true}\\n```')
        client = AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)

Only non-streaming JSON is supported; a ``"stream": true`` request gets a 400.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class Reply:
    """One scripted answer, with optional faults.

    ``content``: the assistant message content (``None`` is sent as JSON null).
    ``delay``: seconds to wait before answering (or before dropping the connection).
    ``status``: an HTTP status; anything but 200 sends OpenAI's error shape
    (``{"error": {"message", "type", "param", "code"}}``) with ``error_message``.
    ``body``: raw bytes/str sent instead of a JSON completion (a malformed body), with
    ``content_type``.
    ``drop``: close the connection without sending any response.
    ``tool_calls``, ``finish_reason``, ``model``: fields of the completion.
    """

    content: str | None = ""
    delay: float = 0.0
    status: int = 200
    body: bytes | str | None = None
    content_type: str = "application/json"
    drop: bool = False
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str = "stop"
    model: str | None = None
    error_message: str = "scripted error from the local test server"
    headers: dict[str, str] = field(default_factory=dict)


ReplyLike = str | Reply | dict
Handler = Callable[["RecordedRequest"], ReplyLike]


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    json: Any = None
    received_at: float = 0.0

    @property
    def messages(self) -> list[dict[str, Any]]:
        body = self.json if isinstance(self.json, dict) else {}
        return list(body.get("messages") or [])

    @property
    def prompt(self) -> str:
        """The content of the last user message ('' when there is none)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):  # content parts
                    return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
                return content if isinstance(content, str) else ""
        return ""


_STATUS_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 429: "rate_limit_exceeded", 500: "server_error",
                 503: "service_unavailable"}


class OpenAITestServer:
    """A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (see the module doc)."""

    def __init__(self, handler: Handler | None = None, replies: list[ReplyLike] | tuple = (),
                 model: str = "test-model", host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.model = model
        self.host = host
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []  # server-side problems (e.g. handler exceptions)
        self.in_flight = 0
        self.max_in_flight = 0
        self.client_disconnects = 0  # replies the client was no longer there to read
        self.open_connections = 0  # client connections currently open (keep-alive included)
        self._queue: collections.deque[ReplyLike] = collections.deque(replies)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- scripting ------------------------------------------------------------------------

    def push(self, *replies: ReplyLike) -> OpenAITestServer:
        """Queue replies; each request consumes one, in order, before the handler is used."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def set_handler(self, handler: Handler | None) -> OpenAITestServer:
        self.handler = handler
        return self

    def reset(self) -> None:
        """Forget recorded requests, queued replies and the in-flight maximum."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._queue.clear()
            self.max_in_flight = self.in_flight

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the test server is not running; call start() or use serve()")
        return self._port

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as ``base_url`` (ends in ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> OpenAITestServer:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve_forever() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._connection, self.host, 0, backlog=1024))
                self._port = self._server.sockets[0].getsockname()[1]
            except BaseException as err:  # noqa: BLE001 - re-raised in start()
                failure.append(err)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                self._server.close()
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=serve_forever, name="openai-test-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._thread, self._loop, self._server, self._port = None, None, None, None

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (the server's event loop) -------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: requests one after another (keep-alive) until it closes."""
        with self._lock:
            self.open_connections += 1
        try:
            while True:
                try:  # an idle keep-alive connection is closed after 10 s, as servers do
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, OSError):
                    return
                method, target, headers = _parse_head(head)
                try:
                    raw = await reader.readexactly(int(headers.get("content-length") or 0))
                except (asyncio.IncompleteReadError, OSError, ValueError):
                    return
                response = await self._respond(method, target, headers, raw)
                if response is None:  # a dropped connection: no answer at all
                    return
                writer.write(response)
                try:
                    await writer.drain()
                except (ConnectionResetError, BrokenPipeError):  # the client gave up (e.g. its timeout)
                    with self._lock:
                        self.client_disconnects += 1
                    return
                if headers.get("connection", "").lower() == "close":
                    return
        except asyncio.CancelledError:  # the server is stopping: end quietly (asyncio logs a cancelled handler)
            return
        finally:
            with self._lock:
                self.open_connections -= 1
            writer.close()

    async def _respond(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> bytes | None:
        """The response bytes for one request (``None``: drop the connection)."""
        if method == "GET":
            if target.rstrip("/").endswith("/models"):
                return _response(200, json.dumps({"object": "list", "data": [
                    {"id": self.model, "object": "model", "created": 0, "owned_by": "local-test"}]}).encode())
            return _error_response(404, f"no route for GET {target}")
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        request = RecordedRequest(method=method, path=target, headers=headers["_original"], raw=raw, json=parsed,
                                  received_at=time.monotonic())
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer(self, request: RecordedRequest) -> bytes | None:
        if request.method != "POST" or not request.path.rstrip("/").endswith("/chat/completions"):
            return _error_response(404, f"no route for {request.method} {request.path}")
        if not isinstance(request.json, dict) or not isinstance(request.json.get("messages"), list):
            return _error_response(400, "the request body must be a JSON object with a 'messages' list")
        if request.json.get("stream"):
            return _error_response(400, "the local test server does not stream; send stream=false")
        try:
            reply = _as_reply(self._next_reply(request))
        except Exception as err:  # a broken handler is a test bug: answer 500 and record it
            self.errors.append(f"{type(err).__name__}: {err}")
            return _error_response(500, f"local test server handler raised {type(err).__name__}: {err}")
        if isinstance(reply, dict):
            return _response(200, json.dumps(reply).encode())
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            return None
        if reply.status != 200:
            return _error_response(reply.status, reply.error_message, headers=reply.headers)
        if reply.body is not None:
            payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
            return _response(200, payload, content_type=reply.content_type, headers=reply.headers)
        return _response(200, json.dumps(self._completion(request, reply)).encode(), headers=reply.headers)

    def _next_reply(self, request: RecordedRequest) -> ReplyLike:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return self.handler(request)
        return Reply(status=500, error_message="local test server: no scripted reply left for this request")

    def _completion(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        if reply.tool_calls is not None:
            message["tool_calls"] = reply.tool_calls
        prompt_tokens = sum(len(str(m.get("content") or "").split()) for m in request.messages)
        completion_tokens = len((reply.content or "").split())
        return {
            "id": f"chatcmpl-test-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or body.get("model") or self.model,
            "system_fingerprint": "fp_local_test",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": reply.finish_reason}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Method, target and headers (lower-cased names; ``"_original"``: the names as sent)."""
    lines = head.decode("latin-1").split("\r\n")
    method, target, *_ = lines[0].split(" ") + ["", ""]
    original = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    original = {name.strip(): value.strip() for name, value in original.items()}
    headers: dict[str, Any] = {name.lower(): value for name, value in original.items()}
    headers["_original"] = original
    return method, target, headers


def _response(status: int, payload: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> bytes:
    """One HTTP/1.1 response, head and body in one buffer (one write: no delayed-ACK stall)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status made up by a test
        phrase = "Scripted"
    lines = [f"HTTP/1.1 {status} {phrase}",
             f"Content-Type: {content_type}", f"Content-Length: {len(payload)}",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def _error_response(status: int, message: str, headers: dict[str, str] | None = None) -> bytes:
    """OpenAI's error shape."""
    error = {"error": {"message": message, "type": _STATUS_TYPES.get(status, "error"), "param": None,
                       "code": str(status)}}
    return _response(status, json.dumps(error).encode(), headers=headers)


def _as_reply(reply: ReplyLike) -> Reply | dict:
    if isinstance(reply, (Reply, dict)):
        return reply
    if isinstance(reply, str) or reply is None:
        return Reply(content=reply)
    raise TypeError(f"a scripted reply must be a str, Reply or dict, got {type(reply).__name__}")


@contextlib.contextmanager
def serve(handler: Handler | None = None, replies: list[ReplyLike] | tuple = (),
          model: str = "test-model") -> Iterator[OpenAITestServer]:
    """Start a scripted server for the duration of a ``with`` block; yields the server
    (``server.base_url`` is what clients take)."""
    server = OpenAITestServer(handler=handler, replies=replies, model=model).start()
    try:
        yield server
    finally:
        server.stop()


def judge_reply(met: bool, explanation: str = "scripted", fenced: bool = True) -> str:
    """A well-formed grader answer, as HealthBench's grader model writes it."""
    text = json.dumps({"explanation": explanation, "criteria_met": met}, indent=2)
    return f"```json\n{text}\n```" if fenced else text
