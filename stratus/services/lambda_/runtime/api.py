"""The Lambda Runtime API of one execution environment: a tiny HTTP/1.1 server on loopback.

The process in the environment (a runtime client: ours for Python and Node.js, or a
custom ``bootstrap``) long-polls ``GET /2018-06-01/runtime/invocation/next`` and answers
each invocation with ``POST .../invocation/{id}/response`` or ``.../error``; a runtime that
cannot start reports ``POST .../init/error``. Paths, headers and answers are AWS's.

The server is asyncio + httptools (no framework): it sits on the invoke hot path.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field

import httptools

PREFIX = "/2018-06-01/runtime/"
# AWS's limit for a synchronous response payload (6 MB as Lambda counts it).
MAX_RESPONSE_BYTES = 6_291_556


@dataclass(slots=True)
class Invocation:
    """One event handed to the runtime, and how the runtime answered it."""

    request_id: str
    payload: bytes
    deadline_ms: int  # epoch ms (real time), Lambda-Runtime-Deadline-Ms
    invoked_function_arn: str
    trace_id: str
    client_context: str | None = None  # JSON text
    cognito_identity: str | None = None  # JSON text
    # Resolves with (kind, body, error_type): kind "response" or "error".
    answer: asyncio.Future[tuple[str, bytes, str | None]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def headers(self) -> list[tuple[str, str]]:
        headers = [
            ("Lambda-Runtime-Aws-Request-Id", self.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(self.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", self.invoked_function_arn),
            ("Lambda-Runtime-Trace-Id", self.trace_id),
        ]
        if self.client_context is not None:
            headers.append(("Lambda-Runtime-Client-Context", self.client_context))
        if self.cognito_identity is not None:
            headers.append(("Lambda-Runtime-Cognito-Identity", self.cognito_identity))
        return headers


def _error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def _http_response(status: int, reason: str, body: bytes, headers: list[tuple[str, str]] = ()) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    head.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


ACCEPTED = _http_response(202, "Accepted", b'{"status":"OK"}')


class RuntimeApi:
    """The server, and the hand-over of invocations between the environment and the runtime."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.current: Invocation | None = None
        self._pending: Invocation | None = None  # offered before the runtime asked for it
        self._parked: deque[_Connection] = deque()  # connections waiting in ``/invocation/next``
        # Set when the runtime first asks for an invocation: its init is complete.
        self.ready: asyncio.Future[None] = loop.create_future()
        # Set when the runtime reports an init error: (body, error type).
        self.init_error: asyncio.Future[tuple[bytes, str]] = loop.create_future()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def offer(self, invocation: Invocation) -> None:
        """Hand ``invocation`` to the runtime: at once when it is waiting in ``/invocation/next``
        (a warm environment's runtime always is), else on its next ``/invocation/next``."""
        self.current = invocation
        while self._parked:
            connection = self._parked.popleft()
            if connection.transport is not None:
                connection.dispatch(invocation)
                return
        self._pending = invocation

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    # The runtime's requests.

    def _next(self, connection: _Connection) -> Invocation | None:
        """The invocation for a ``/invocation/next``, or None: the connection waits for ``offer``."""
        if not self.ready.done():
            self.ready.set_result(None)
        invocation, self._pending = self._pending, None
        if invocation is None:
            self._parked.append(connection)
        return invocation

    def _answer(self, request_id: str, kind: str, body: bytes, error_type: str | None) -> bytes:
        invocation = self.current
        if invocation is None or invocation.request_id != request_id or invocation.answer.done():
            return _http_response(400, "Bad Request", _error_body("InvalidRequestID", "Invalid request ID"))
        if kind == "response" and len(body) > MAX_RESPONSE_BYTES:
            message = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
            invocation.answer.set_result(("error", _error_body("Function.ResponseSizeTooLarge", message), "Function.ResponseSizeTooLarge"))
            return _http_response(413, "Request Entity Too Large", _error_body("Function.ResponseSizeTooLarge", message))
        if kind == "error":
            body = _normalise_error(body, error_type)
        invocation.answer.set_result((kind, body, error_type))
        return ACCEPTED

    def _init_failed(self, body: bytes, error_type: str | None) -> bytes:
        body = _normalise_error(body, error_type)
        if not self.init_error.done():
            self.init_error.set_result((body, error_type or "Runtime.Unknown"))
        return ACCEPTED

    def route(self, method: str, path: str, headers: dict[bytes, bytes], body: bytes) -> bytes | None:
        """The answer to a request, or None for ``next`` when it must wait."""
        if not path.startswith(PREFIX):
            return _http_response(404, "Not Found", _error_body("InvalidRequest", f"Unknown path {path}"))
        rest = path[len(PREFIX):]
        error_type = headers.get(b"lambda-runtime-function-error-type")
        error_type_text = error_type.decode("utf-8", "replace") if error_type else None
        if rest == "invocation/next" and method == "GET":
            return None
        if rest == "init/error" and method == "POST":
            return self._init_failed(body, error_type_text)
        if rest.startswith("invocation/") and method == "POST":
            request_id, _, action = rest[len("invocation/"):].partition("/")
            if action == "response":
                return self._answer(request_id, "response", body, None)
            if action == "error":
                return self._answer(request_id, "error", body, error_type_text or "Runtime.Unknown")
        return _http_response(404, "Not Found", _error_body("InvalidRequest", f"Unknown path {path}"))


def _normalise_error(body: bytes, error_type: str | None) -> bytes:
    """The error document the caller sees: the runtime's JSON, or one built around its text."""
    try:
        if isinstance(json.loads(body), dict):
            return body
    except ValueError:
        pass
    return _error_body(error_type or "Runtime.Unknown", body.decode("utf-8", "replace"))


def invocation_response(invocation: Invocation) -> bytes:
    return _http_response(200, "OK", invocation.payload, invocation.headers())


class _Connection(asyncio.Protocol):
    """One keep-alive connection from the runtime; requests are answered in order."""

    __slots__ = ("api", "parser", "transport", "url", "headers", "body")

    def __init__(self, api: RuntimeApi) -> None:
        self.api = api
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None  # a parked connection is skipped by ``offer`` from now on

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(_http_response(400, "Bad Request", _error_body("InvalidRequest", "Malformed HTTP request")))
                self.transport.close()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode()
        path = self.url.decode("latin-1").split("?", 1)[0]
        answer = self.api.route(method, path, self.headers, b"".join(self.body))
        if answer is not None:
            self._send(answer)
            return
        invocation = self.api._next(self)
        if invocation is not None:
            self.dispatch(invocation)

    def dispatch(self, invocation: Invocation) -> None:
        self._send(invocation_response(invocation))

    def _send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)
            if not self.parser.should_keep_alive():
                self.transport.close()
