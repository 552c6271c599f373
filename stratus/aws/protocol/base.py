"""What the protocol layer reads and writes: a plain HTTP request and response.

The gateway turns the ASGI scope into an ``HttpRequest``; the protocol layer turns it
into the operation's input dict (member names exactly as the model spells them), and
an output dict or an ``AwsError`` back into an ``HttpResponse``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class HttpRequest:
    method: str
    # The raw (still percent-encoded) path, without the query string.
    path: str
    # The raw query string (without "?"), still percent-encoded.
    query_string: str = ""
    # Header names lower-cased; repeated headers joined with ",".
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
