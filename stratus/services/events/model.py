"""EventBridge's pure rules: ARNs and names, the event envelope, PutEvents entry checks and sizes, limits."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from stratus.aws.arns import parse_arn
from stratus.aws.protocol.timestamps import parse_timestamp

DEFAULT_BUS = "default"
MAX_TARGETS_PER_RULE = 5
MAX_PUT_EVENTS_BYTES = 256 * 1024
# Target RetryPolicy defaults (PutTargets RetryPolicy; user guide "Event retry policy").
DEFAULT_MAX_RETRY_ATTEMPTS = 185
DEFAULT_MAX_EVENT_AGE_S = 86_400
RULE_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")


def bus_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(region: str, account: str, bus: str, name: str) -> str:
    # Rules of the default bus keep the old short form; others name their bus.
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


def archive_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:archive/{name}"


def replay_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:replay/{name}"


def parse_bus(value: str | None, account: str, region: str) -> tuple[str, str, str]:
    """``(account, region, name)`` of a bus given by name or ARN (absent: the default bus)."""
    if not value:
        return account, region, DEFAULT_BUS
    parsed = parse_arn(value, "events")
    if parsed is not None and (name := parsed.resource_after("event-bus/")) is not None:
        return parsed.account or account, parsed.region or region, name
    return account, region, value


def parse_rule_arn(arn: str) -> tuple[str, str, str, str] | None:
    """``(account, region, bus, name)`` of a rule ARN, or None."""
    parsed = parse_arn(arn, "events")
    path = parsed.resource_after("rule/") if parsed else None
    if parsed is None or path is None:
        return None
    bus, _, name = path.rpartition("/")
    return parsed.account, parsed.region, bus or DEFAULT_BUS, name


def iso_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_time(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def to_ms(value: Any) -> int:
    """A timestamp member in ms: a datetime from the protocol layer, or epoch seconds / ISO text
    from the internal client (which does not parse)."""
    if not isinstance(value, datetime):
        value = parse_timestamp(value)
    return int(value.timestamp() * 1000)


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as AWS counts it ("Calculating PutEvents event entry size")."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key):
            size += len(entry[key].encode())
    for resource in entry.get("Resources") or ():
        size += len(resource.encode())
    return size


class EntryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _required(field: str) -> EntryError:
    return EntryError("InvalidArgument", f"Parameter {field} is not valid. Reason: {field} is a required argument.")


def check_entry(entry: dict[str, Any], *, internal: bool) -> dict[str, Any]:
    """The entry's Detail as an object, or ``EntryError`` as PutEvents reports it per entry."""
    if not entry.get("Source"):
        raise _required("Source")
    if not entry.get("DetailType"):
        raise _required("DetailType")
    if not entry.get("Detail"):
        raise _required("Detail")
    # Sources starting "aws." belong to AWS services; only stratus's own services may use them.
    if entry["Source"].startswith("aws.") and not internal:
        raise EntryError("NotAuthorizedForSourceException", "Not authorized for the source.")
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        raise EntryError("MalformedDetail", "Detail is malformed.") from None
    if not isinstance(detail, dict):
        raise EntryError("MalformedDetail", "Detail is malformed.")
    return detail


def build_event(entry: dict[str, Any], detail: dict[str, Any], account: str, region: str, now_ms: int) -> dict[str, Any]:
    """The event envelope rules see and targets receive."""
    time_ms = to_ms(entry["Time"]) if entry.get("Time") is not None else now_ms
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": iso_time(time_ms),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": detail,
    }


def scheduled_event(account: str, region: str, rule: str, fire_ms: int) -> dict[str, Any]:
    """What a schedule rule sends ("Creating a rule that runs on a schedule")."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": iso_time(fire_ms),
        "region": region,
        "resources": [rule],
        "detail": {},
    }
