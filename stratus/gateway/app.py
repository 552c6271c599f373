"""The ASGI application: one endpoint for every service.

A request goes: HttpRequest -> route (service, protocol) -> RequestContext ->
parse -> dispatch (validate + provider) -> serialize. stratus's own endpoints live
under ``/_stratus/``.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from stratus.aws.client import InternalClient
from stratus.aws.context import DEFAULT_REGION, RequestContext
from stratus.aws.errors import AwsError, InternalFailure
from stratus.aws.identity import security_token
from stratus.aws.protocol import codec_for
from stratus.aws.protocol.base import HttpRequest, HttpResponse
from stratus.gateway.routing import route
from stratus.node import Node

log = logging.getLogger("stratus.gateway")

_JSON = [("content-type", "application/json")]


class Gateway:
    def __init__(self, node: Node) -> None:
        self.node = node

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = await _read_request(scope, receive)
        if request.path.startswith("/_stratus/"):
            response = await self._internal(request)
        else:
            response = await self.handle(request, scope)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers if k != "content-length"]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def handle(self, request: HttpRequest, scope: dict[str, Any]) -> HttpResponse:
        """An AWS API request, start to finish. Never raises: every failure is an AWS error response."""
        ctx = RequestContext(request_id=str(uuid.uuid4()), host=request.headers.get("host", "localhost:4566"))
        ctx.trace_header = request.headers.get("x-amzn-trace-id")
        codec = None
        operation = None
        try:
            found = route(request)
            ctx.service, ctx.protocol = found.service, found.protocol
            if found.scope is not None:
                ctx.access_key = found.scope.access_key
                ctx.region = found.scope.region or DEFAULT_REGION
            # The codec first: an identity error (expired credentials) is answered in the request's protocol.
            codec = codec_for(found.service, found.protocol)
            identity = await self.node.identities.authenticate(ctx.access_key, security_token(request), found.service)
            ctx.account, ctx.principal_arn = identity.account, identity.principal_arn
            operation = codec.operation_from_request(request)
            ctx.operation = operation
            params = codec.parse(operation, request)
            ctx.client = InternalClient(self.node.dispatcher, ctx)
            result = await self.node.dispatcher.call(ctx, found.service, operation, params)
            return codec.serialize(operation, result, ctx)
        except AwsError as error:
            return _error_response(codec, error, ctx, operation)
        except Exception:
            log.exception("internal error in %s.%s", ctx.service, ctx.operation)
            return _error_response(codec, InternalFailure("We encountered an internal error. Please try again."), ctx, operation)

    async def _internal(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path == "/_stratus/health":
            return _json(200, self.node.health())
        if path == "/_stratus/clock":
            if request.method == "POST":
                try:
                    seconds = float(json.loads(request.body or b"{}")["advance_seconds"])
                except (ValueError, KeyError, TypeError):
                    return _json(400, {"error": 'expected a JSON body {"advance_seconds": N}'})
                if seconds < 0:
                    return _json(400, {"error": "the clock only moves forward"})
                await self.node.clock.advance(seconds)
            return _json(200, {"now_ms": self.node.clock.now_ms(), "offset_ms": self.node.clock.offset_ms})
        for prefix, handler in self.node.internal_routes.items():
            if path.startswith(prefix):
                return await handler(request)
        return _json(404, {"error": f"no stratus endpoint {path}"})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.node.start()
                except Exception as exc:
                    log.exception("stratus failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.node.stop()
                log.info("stratus stopped")
                await send({"type": "lifespan.shutdown.complete"})
                return


def _error_response(codec: Any, error: AwsError, ctx: RequestContext, operation: str | None) -> HttpResponse:
    if codec is None:
        # Not even the service is known: answer in the shape most clients read (json).
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        return HttpResponse(
            error.status,
            [("content-type", "application/x-amz-json-1.0"), ("x-amzn-requestid", ctx.request_id)],
            body,
        )
    return codec.serialize_error(error, ctx, operation)


def _json(status: int, data: Any) -> HttpResponse:
    return HttpResponse(status, list(_JSON), json.dumps(data).encode())


async def _read_request(scope: dict[str, Any], receive: Any) -> HttpRequest:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1")
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return HttpRequest(
        method=scope["method"],
        path=scope.get("raw_path", b"").decode("latin-1").partition("?")[0] or scope["path"],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"".join(chunks),
    )
