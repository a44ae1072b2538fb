"""A small local server speaking OpenAI's ``POST /v1/chat/completions``, for tests.

Tests never touch the network: they start this server on 127.0.0.1 (ephemeral port) in a
background thread and point any OpenAI-compatible client at ``server.base_url``. Each test
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

import collections
import contextlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Union


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


ReplyLike = Union[str, Reply, dict]
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
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ------------------------------------------------------------------------

    def push(self, *replies: ReplyLike) -> "OpenAITestServer":
        """Queue replies; each request consumes one, in order, before the handler is used."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def set_handler(self, handler: Handler | None) -> "OpenAITestServer":
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
        if self._httpd is None:
            raise RuntimeError("the test server is not running; call start() or use serve()")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as ``base_url`` (ends in ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "OpenAITestServer":
        if self._httpd is not None:
            return self
        self._httpd = _QuietServer((self.host, 0), _make_handler_class(self))
        self._httpd.owner = self
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"openai-test-server:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> "OpenAITestServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (server threads) --------------------------------------------------

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


class _QuietServer(ThreadingHTTPServer):
    """Records unexpected handler errors in ``owner.errors`` instead of printing tracebacks."""

    owner: OpenAITestServer
    request_queue_size = 1024  # socketserver's default backlog of 5 resets connections under load

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError)):
            self.owner.client_disconnects += 1  # a client closing its connection is not a server bug
            return
        self.owner.errors.append(f"{type(error).__name__}: {error}")


def _as_reply(reply: ReplyLike) -> Reply | dict:
    if isinstance(reply, (Reply, dict)):
        return reply
    if isinstance(reply, str) or reply is None:
        return Reply(content=reply)
    raise TypeError(f"a scripted reply must be a str, Reply or dict, got {type(reply).__name__}")


def _make_handler_class(server: OpenAITestServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
        disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
        timeout = 10  # idle keep-alive connections do not pin a thread for ever

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def setup(self) -> None:
            super().setup()
            with server._lock:
                server.open_connections += 1

        def finish(self) -> None:
            with server._lock:
                server.open_connections -= 1
            with contextlib.suppress(OSError):
                super().finish()

        def _send(self, status: int, payload: bytes, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        def _send_error_json(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            error = {"error": {"message": message, "type": _STATUS_TYPES.get(status, "error"),
                               "param": None, "code": str(status)}}
            self._send(status, json.dumps(error).encode(), headers=headers)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": server.model, "object": "model", "created": 0, "owned_by": "local-test"}]}).encode())
            else:
                self._send_error_json(404, f"no route for GET {self.path}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            request = RecordedRequest(method="POST", path=self.path, headers=dict(self.headers.items()),
                                      raw=raw, json=parsed, received_at=time.monotonic())
            with server._lock:
                server.requests.append(request)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                self._answer(request)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. its timeout)
                with server._lock:
                    server.client_disconnects += 1
                self.close_connection = True
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _answer(self, request: RecordedRequest) -> None:
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send_error_json(404, f"no route for POST {self.path}")
                return
            if not isinstance(request.json, dict) or not isinstance(request.json.get("messages"), list):
                self._send_error_json(400, "the request body must be a JSON object with a 'messages' list")
                return
            if request.json.get("stream"):
                self._send_error_json(400, "the local test server does not stream; send stream=false")
                return
            try:
                reply = _as_reply(server._next_reply(request))
            except Exception as err:  # a broken handler is a test bug: answer 500 and record it
                server.errors.append(f"{type(err).__name__}: {err}")
                self._send_error_json(500, f"local test server handler raised {type(err).__name__}: {err}")
                return
            if isinstance(reply, dict):
                self._send(200, json.dumps(reply).encode())
                return
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if reply.status != 200:
                self._send_error_json(reply.status, reply.error_message, headers=reply.headers)
                return
            if reply.body is not None:
                payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self._send(200, payload, content_type=reply.content_type, headers=reply.headers)
                return
            self._send(200, json.dumps(server._completion(request, reply)).encode(), headers=reply.headers)

    return _Handler


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
