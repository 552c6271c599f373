"""The context every operation runs in, whether it came over HTTP or from the internal client."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratus.aws.client import InternalClient

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"


@dataclass(slots=True)
class RequestContext:
    """Who is calling, where, and how: resolved once per request by the gateway.

    Every resource is partitioned by ``(account, region)``.
    """

    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    request_id: str = ""
    service: str = ""
    operation: str = ""
    # The wire protocol the request came in ("json", "query", "rest-json", "rest-xml");
    # the answer goes out in the same one.
    protocol: str = ""
    # "host:port" the client addressed, used to build URLs that point back to us
    # (queue URLs, presigned URLs, ...).
    host: str = "localhost:4566"
    scheme: str = "http"
    access_key: str | None = None
    principal_arn: str | None = None
    trace_header: str | None = None
    # Set on calls made by one service on behalf of another (the internal client).
    source_arn: str | None = None
    internal: bool = False
    client: InternalClient | None = field(default=None, repr=False, compare=False)
    # Free-form per-request scratch space for the protocol layer (e.g. the raw headers).
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def derive(self, **changes: Any) -> RequestContext:
        """A copy with some fields changed (used by the internal client)."""
        return replace(self, **changes)

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.host}"
