"""CloudWatch Logs: domain rows and the pure rules (names, ARNs, limits, PutLogEvents batches, tokens)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stratus.aws.api.logs import InvalidParameterException
from stratus.aws.arns import parse_arn

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
# PutLogEvents (API reference): 1,048,576 bytes per batch counting 26 bytes per event; events
# more than 14 days old or 2 hours ahead are rejected, and the rest may span 24 hours at most.
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_AGE_MS = 14 * DAY_MS
MAX_AHEAD_MS = 2 * HOUR_MS
MAX_SPAN_MS = 24 * HOUR_MS
# GetLogEvents / FilterLogEvents answer at most 10,000 events or 1 MB.
MAX_EVENTS = 10_000
MAX_RESPONSE_BYTES = 1_048_576
MAX_TAGS = 50
METRIC_FILTERS_PER_GROUP = 100
SUBSCRIPTION_FILTERS_PER_GROUP = 2
# PutRetentionPolicy's allowed retentionInDays (API reference).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


@dataclass(slots=True)
class LogGroup:
    id: int
    account: str
    region: str
    name: str
    created_ms: int
    retention_days: int | None
    kms_key_id: str | None
    log_group_class: str
    deletion_protection: bool
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        return group_arn(self.region, self.account, self.name)

    def oldest_kept_ms(self, now: int) -> int:
        """Events with an earlier timestamp are past the retention period (0: kept forever)."""
        return now - self.retention_days * DAY_MS if self.retention_days else 0


@dataclass(slots=True)
class LogStream:
    id: int
    group_id: int
    name: str
    created_ms: int
    first_event_ms: int | None
    last_event_ms: int | None
    last_ingestion_ms: int | None
    upload_seq: int
    stored_bytes: int


def group_arn(region: str, account: str, name: str) -> str:
    """The ARN without the trailing ``:*`` (``logGroupArn``; ``arn`` adds it)."""
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def stream_arn(region: str, account: str, group: str, stream: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}"


def parse_group_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of a log group ARN, with or without ``:*``; None otherwise."""
    parsed = parse_arn(arn, "logs")
    name = parsed.resource_after("log-group:") if parsed else None
    if parsed is None or name is None:
        return None
    name = name.removesuffix(":*")
    if not name or ":" in name:
        return None
    return parsed.region, parsed.account, name


def check_group_name(name: str) -> None:
    # The model checks length and characters; "aws/" is reserved for AWS (CreateLogGroup docs).
    if name.startswith("aws/"):
        raise InvalidParameterException("Log groups starting with AWS/ are reserved for AWS.")


def check_tags(tags: dict[str, str]) -> None:
    for key in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterException("Tag keys prefixed with 'aws:' are reserved for AWS.")


def check_retention(days: int) -> None:
    if days not in RETENTION_DAYS:
        raise InvalidParameterException(
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]"
        )


# --- PutLogEvents --------------------------------------------------------------------------


@dataclass(slots=True)
class Batch:
    """The accepted events of a PutLogEvents call and what AWS reports as rejected."""

    accepted: list[tuple[int, str, int]]  # (timestamp, message, UTF-8 bytes)
    rejected: dict[str, int]


def check_batch(events: Sequence[Any], now: int, retention_days: int | None) -> Batch:
    """Apply AWS's PutLogEvents rules: failures raise, too old/new/expired events are rejected."""
    total = 0
    sizes: list[int] = []
    previous = None
    for event in events:
        size = len(event["message"].encode("utf-8"))
        sizes.append(size)
        total += size + EVENT_OVERHEAD_BYTES
        if previous is not None and event["timestamp"] < previous:
            raise InvalidParameterException("Log events in a single PutLogEvents request must be in chronological order.")
        previous = event["timestamp"]
    if total > MAX_BATCH_BYTES:
        raise InvalidParameterException(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")
    too_old_before = now - MAX_AGE_MS
    expired_before = now - retention_days * DAY_MS if retention_days else None
    too_new_after = now + MAX_AHEAD_MS
    rejected: dict[str, int] = {}
    accepted: list[tuple[int, str, int]] = []
    for index, event in enumerate(events):
        ts = event["timestamp"]
        if ts < too_old_before:
            rejected["tooOldLogEventEndIndex"] = index
        if expired_before is not None and ts < expired_before:
            rejected["expiredLogEventEndIndex"] = index
        if ts > too_new_after:
            rejected.setdefault("tooNewLogEventStartIndex", index)
        if ts >= too_old_before and ts <= too_new_after and (expired_before is None or ts >= expired_before):
            accepted.append((ts, event["message"], sizes[index]))
    if accepted and accepted[-1][0] - accepted[0][0] > MAX_SPAN_MS:
        raise InvalidParameterException(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
        )
    return Batch(accepted, rejected)


def sequence_token(upload_seq: int) -> str:
    return f"{upload_seq:056d}"


# --- event positions and paging tokens --------------------------------------------------------
# An event's position is (timestamp, id); eventIds and GetLogEvents tokens spell it in 56
# digits, as AWS's do: f/<digits>/s reads forward after it, b/<digits>/s backward before it.


def event_id(ts: int, row_id: int) -> str:
    return f"{ts:020d}{row_id:036d}"


def parse_event_id(text: str) -> tuple[int, int] | None:
    if len(text) != 56 or not text.isdigit():
        return None
    return int(text[:20]), int(text[20:])


def stream_token(direction: str, position: tuple[int, int]) -> str:
    return f"{direction}/{event_id(*position)}/s"


def parse_stream_token(token: str) -> tuple[str, tuple[int, int]]:
    parts = token.split("/")
    position = parse_event_id(parts[1]) if len(parts) == 3 and parts[0] in ("f", "b") and parts[2] == "s" else None
    if position is None:
        raise InvalidParameterException("The specified nextToken is invalid.")
    return parts[0], position


def page_token(data: Any) -> str:
    """An opaque nextToken for Describe* and FilterLogEvents pages."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def parse_page_token(token: str | None) -> Any:
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error):
        raise InvalidParameterException("The specified nextToken is invalid.") from None
