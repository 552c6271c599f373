"""The floor of the SQS benchmark: an HTTP server that answers canned, valid SQS replies.

It keeps no queue at all. Every SQS json-protocol request gets a precomputed reply for
its ``X-Amz-Target``, so what the bench measures against it is the cost of a boto3
call plus the loopback HTTP round trip, and nothing of a real server. The replies
carry the MD5 digests boto3 checks (``MD5OfMessageBody``) for the fixed body the bench
sends, ``BODY``.

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


def _response(status: int, payload: dict, keep_alive: bool = True) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}[status]
    head = (
        b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nx-amzn-RequestId: %s\r\n"
        % (status, reason, _CONTENT_TYPE, len(body), _REQUEST_ID.encode())
    )
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


class _Replies:
    """The canned replies, built once for the port the queue URLs must name."""

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


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; parses with httptools like uvicorn does."""

    def __init__(self, replies: _Replies) -> None:
        self.replies = replies
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.target = b""
        self.body: list[bytes] = []
        self.header_name = b""

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
        self.body = []

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-amz-target":
            self.target = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        keep_alive = self.parser.should_keep_alive()
        self.transport.write(self.replies.reply(self.target, b"".join(self.body)))
        if not keep_alive:
            self.transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    replies = _Replies(port)
    server = await loop.create_server(lambda: _Connection(replies), host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"stub SQS server on http://{host}:{port}", flush=True)
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
