"""Events that AWS services emit on the default bus, for stratus's own services to publish.

    from stratus.services.events.service_events import put_service_event

    await put_service_event(ctx, source="aws.states", detail_type="Step Functions Execution Status Change",
                            detail={"executionArn": arn, "status": "FAILED", ...}, resources=[arn])

puts one event on the default bus of ``ctx``'s account and region (or ``account``/``region``)
through the internal client's PutEvents, so rules, archives and targets see it exactly as
they see any event; only internal calls may use ``aws.*`` sources. It answers the event id
and raises ``AwsError`` if EventBridge refused the event. Call it after the state change the
event reports has committed (never inside a transaction: PutEvents opens its own).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.services.events.model import DEFAULT_BUS, bus_arn


async def put_service_event(ctx: RequestContext, *, source: str, detail_type: str, detail: Mapping[str, Any],
                            resources: Sequence[str] = (), account: str | None = None,
                            region: str | None = None) -> str:
    """Publish a service event on the default bus; answer its id."""
    if ctx.client is None:
        raise RuntimeError("put_service_event needs a context with an internal client")
    account = account or ctx.account
    region = region or ctx.region
    entry: dict[str, Any] = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, separators=(",", ":")),
        "EventBusName": bus_arn(region, account, DEFAULT_BUS),
    }
    if resources:
        entry["Resources"] = list(resources)
    result = await ctx.client.events(account=account, region=region).put_events({"Entries": [entry]})
    first = result["Entries"][0]
    if result.get("FailedEntryCount"):
        raise AwsError(first.get("ErrorMessage", ""), code=first.get("ErrorCode", "InternalException"))
    return str(first["EventId"])
