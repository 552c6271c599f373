"""The floor of the benchmarks: an HTTP server that answers canned, valid SQS and Lambda replies.

It keeps nothing, so what a bench measures against it is the cost of a boto3 call plus the
loopback HTTP round trip, and nothing of a real server.

- SQS (json protocol): a precomputed reply for each ``X-Amz-Target``. The replies carry the
  MD5 digests boto3 checks (``MD5OfMessageBody``) for the fixed body the bench sends, ``BODY``.
- Lambda (rest-json, ``/2015-03-31/functions/...``): ``Invoke`` answers the request's own
  payload, as the bench's echo handler does; ``CreateFunction``, ``GetFunction``,
  ``GetFunctionConfiguration``, ``PublishVersion`` and ``DeleteFunction`` answer a canned
  configuration in state ``Active`` named after the request.

Run: ``python bench/stub_server.py --port 4599``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import signal

import httptools

# The only message body the bench sends; the canned replies carry its digest.
BODY = "stratus-bench " + "x" * 50
BODY_MD5 = hashlib.md5(BODY.encode()).hexdigest()

_ACCOUNT = "000000000000"
_MESSAGE_ID = "5fea7756-0ea4-451a-a703-a558b933e274"
_RECEIPT = "stub-receipt-handle"
_CONTENT_TYPE = b"application/x-amz-json-1.0"
_REQUEST_ID = "00000000-0000-0000-0000-000000000000"


def _head(status: int, content_type: bytes, length: int, extra: bytes = b"", keep_alive: bool = True) -> bytes:
    reason = {200: b"OK", 201: b"Created", 204: b"No Content", 400: b"Bad Request", 404: b"Not Found"}[status]
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nx-amzn-RequestId: %s\r\n%s" % (
        status, reason, content_type, length, _REQUEST_ID.encode(), extra,
    )
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + b"\r\n"


def _response(status: int, payload: dict | None, keep_alive: bool = True, content_type: bytes = _CONTENT_TYPE) -> bytes:
    body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
    return _head(status, content_type, len(body), keep_alive=keep_alive) + body


class _SqsReplies:
    """The canned SQS replies, built once for the port the queue URLs must name."""

    def __init__(self, port: int) -> None:
        self.base = f"http://localhost:{port}/{_ACCOUNT}/"
        self.fixed: dict[bytes, bytes] = {
            b"AmazonSQS.SendMessage": _response(200, {"MessageId": _MESSAGE_ID, "MD5OfMessageBody": BODY_MD5}),
            b"AmazonSQS.ReceiveMessage": _response(
                200,
                {
                    "Messages": [
                        {"MessageId": _MESSAGE_ID, "ReceiptHandle": _RECEIPT, "MD5OfBody": BODY_MD5, "Body": BODY}
                    ]
                },
            ),
            b"AmazonSQS.DeleteMessage": _response(200, {}),
            b"AmazonSQS.DeleteQueue": _response(200, {}),
            b"AmazonSQS.PurgeQueue": _response(200, {}),
            b"AmazonSQS.GetQueueAttributes": _response(200, {"Attributes": {}}),
        }

    def reply(self, target: bytes, body: bytes) -> bytes:
        """The answer to the SQS json-protocol request ``target`` with ``body``."""
        canned = self.fixed.get(target)
        if canned is not None:
            return canned
        # The few operations whose reply depends on the request; none is on a timed path.
        if target in (b"AmazonSQS.CreateQueue", b"AmazonSQS.GetQueueUrl"):
            return _response(200, {"QueueUrl": self.base + json.loads(body)["QueueName"]})
        if target == b"AmazonSQS.SendMessageBatch":
            entries = json.loads(body)["Entries"]
            # The digest is of each entry's own body, so a batch of any body stays valid.
            successful = [
                {
                    "Id": entry["Id"],
                    "MessageId": _MESSAGE_ID,
                    "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),
                }
                for entry in entries
            ]
            return _response(200, {"Successful": successful, "Failed": []})
        return _response(
            400,
            {"__type": "com.amazonaws.sqs#UnsupportedOperation", "message": f"stub has no reply for {target.decode()}"},
        )


_LAMBDA_PREFIX = "/2015-03-31/functions"
_JSON = b"application/json"
_ROLE = f"arn:aws:iam::{_ACCOUNT}:role/stub"


def _configuration(name: str, version: str) -> dict:
    """A function's configuration as Lambda answers it, Active and up to date (what waiters wait for)."""
    return {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{_ACCOUNT}:function:{name}" + ("" if version == "$LATEST" else f":{version}"),
        "Runtime": "python3.11",
        "Role": _ROLE,
        "Handler": "app.handler",
        "CodeSize": 200,
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "LastModified": "2026-01-01T00:00:00.000+0000",
        "CodeSha256": "stub",
        "Version": version,
        "RevisionId": _REQUEST_ID,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
    }


class _LambdaReplies:
    """Canned Lambda replies; ``Invoke`` echoes its payload, as the bench's handler does."""

    # Stateless: every reply is built from the request alone.

    def reply(self, method: bytes, url: bytes, body: bytes) -> bytes:
        path, _, query = url.decode("latin-1").partition("?")
        # A numbered Qualifier runs that version; anything else (none, an alias) runs $LATEST.
        params = dict(pair.partition("=")[::2] for pair in query.split("&") if pair)
        version = params.get("Qualifier", "") if params.get("Qualifier", "").isdigit() else "$LATEST"
        parts = path[len(_LAMBDA_PREFIX):].strip("/").split("/")
        name, action = parts[0], "/".join(parts[1:])
        if method == b"POST" and action == "invocations":
            payload = body or b"{}"
            return _head(200, _JSON, len(payload), b"X-Amz-Executed-Version: %s\r\n" % version.encode()) + payload
        if not name:
            if method == b"POST":
                return _response(201, _configuration(json.loads(body)["FunctionName"], "$LATEST"), content_type=_JSON)
        elif method == b"GET" and not action:
            code = {"RepositoryType": "S3", "Location": "http://stub/code.zip"}
            return _response(200, {"Configuration": _configuration(name, version), "Code": code}, content_type=_JSON)
        elif method == b"GET" and action == "configuration":
            return _response(200, _configuration(name, version), content_type=_JSON)
        elif method == b"POST" and action == "versions":  # the bench publishes one version per function
            return _response(201, _configuration(name, "1"), content_type=_JSON)
        elif method == b"DELETE" and not action:
            return _response(204, None, content_type=_JSON)
        message = f"stub has no reply for {method.decode()} {path}"
        return _response(400, {"__type": "UnsupportedOperation", "message": message}, content_type=_JSON)


class _Replies:
    """Both services' replies: json-protocol SQS by ``X-Amz-Target``, Lambda by path."""

    def __init__(self, port: int) -> None:
        self.sqs = _SqsReplies(port)
        self.lambda_ = _LambdaReplies()

    def reply(self, method: bytes, url: bytes, target: bytes, body: bytes) -> bytes:
        if not target and url.startswith(_LAMBDA_PREFIX.encode()):
            return self.lambda_.reply(method, url, body)
        return self.sqs.reply(target, body)


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; parses with httptools like uvicorn does."""

    def __init__(self, replies: _Replies) -> None:
        self.replies = replies
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.target = b""
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(_response(400, {"message": "malformed HTTP request"}, keep_alive=False))
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.target = b""
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-amz-target":
            self.target = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        keep_alive = self.parser.should_keep_alive()
        answer = self.replies.reply(self.parser.get_method(), self.url, self.target, b"".join(self.body))
        self.transport.write(answer)
        if not keep_alive:
            self.transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    replies = _Replies(port)
    server = await loop.create_server(lambda: _Connection(replies), host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"stub SQS and Lambda server on http://{host}:{port}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4599)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # same loop as stratus where it is available, else the default one
        asyncio.run(serve(args.host, args.port))
    else:
        uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
