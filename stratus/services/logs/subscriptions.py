"""Subscription filters: matching what PutLogEvents ingests, and delivering it durably to Lambda.

PutLogEvents matches its accepted events against the group's subscription filters inside its
own transaction and writes one durable timer per filter that matched: the events of one call
are one delivery (split only where Lambda's payload limit requires). So an acknowledged
PutLogEvents is delivered even if the node dies right after; delivery is at least once.

The timer invokes the function asynchronously (InvocationType Event) through the internal
client, which puts the event on Lambda's own durable queue, with the event AWS sends:
``{"awslogs": {"data": base64(gzip(json))}}`` where the JSON is a ``DATA_MESSAGE`` with
``owner``, ``logGroup``, ``logStream``, ``subscriptionFilters`` and ``logEvents``
(``id``/``timestamp``/``message``) -- the user guide's "Log group-level subscription filters"
and "Using Lambda with CloudWatch Logs" (``policyLevel`` is documented for account-level
policies only, which stratus does not have). PutSubscriptionFilter also sends a
``CONTROL_MESSAGE``, the kind AWS emits "mainly for checking if the destination is reachable".

Failures follow the user guide's "Real-time processing of log data with subscriptions": a
retryable error (throttling, a server fault) is retried with backoff for up to 24 hours; a
non-retryable one (the function is gone, Logs may no longer invoke it) drops the delivery and
disables the filter for 10 minutes, during which matching events are skipped.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.engine.timers import Timer
from stratus.services.events.targets import is_retryable
from stratus.services.logs import destinations, model
from stratus.services.logs import store as db
from stratus.services.logs.filter_patterns import compile_pattern
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.node import Node

log = logging.getLogger("stratus.logs.subscriptions")

DELIVER_TIMER = "logs.subscription"
RETRY_FOR_MS = 24 * model.HOUR_MS
DISABLED_FOR_MS = 10 * 60_000
_MAX_BACKOFF_MS = 300_000
# Lambda's limit for an asynchronous invocation's payload (Invoke API reference: 1 MB).
LAMBDA_EVENT_LIMIT = 1024 * 1024
CONTROL_TEXT = "CWL CONTROL MESSAGE: Checking health of destination Lambda function."

# An event as delivered: (eventId, timestamp, message).
Event = tuple[str, int, str]


# --- payloads -----------------------------------------------------------------------------------


def data_message(owner: str, group: str, stream: str, filter_name: str, events: Sequence[Event]) -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": [filter_name],
        "logEvents": [{"id": i, "timestamp": ts, "message": message} for i, ts, message in events],
    }


def control_message(timestamp_ms: int) -> dict[str, Any]:
    """What AWS sends to check a destination: no group, no stream, one event with an empty id."""
    return {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": timestamp_ms, "message": CONTROL_TEXT}],
    }


def lambda_event(message: dict[str, Any]) -> bytes:
    """The Lambda event of a message: its JSON gzipped, then base64 encoded, under ``awslogs.data``."""
    data = base64.b64encode(gzip.compress(json.dumps(message, separators=(",", ":")).encode())).decode()
    return json.dumps({"awslogs": {"data": data}}).encode()


def lambda_events(
    owner: str, group: str, stream: str, filter_name: str, events: Sequence[Event], limit: int = LAMBDA_EVENT_LIMIT
) -> list[tuple[int, bytes]]:
    """The invocations that carry ``events``: (how many events, payload), halving a batch until each fits ``limit``.

    A single event too large even alone goes as it is, and Lambda refuses it as it would from AWS.
    """
    body = lambda_event(data_message(owner, group, stream, filter_name, events))
    if len(body) <= limit or len(events) <= 1:
        return [(len(events), body)]
    half = len(events) // 2
    return lambda_events(owner, group, stream, filter_name, events[:half], limit) + lambda_events(
        owner, group, stream, filter_name, events[half:], limit
    )


def matching(
    filters: Sequence[tuple[str, str, dict[str, Any]]], events: Sequence[Event]
) -> list[tuple[str, str, list[Event]]]:
    """(filter name, destination ARN, the events it matched) for every filter that matched any."""
    found = []
    for name, text, data in filters:
        pattern = compile_pattern(text)
        matched = [event for event in events if pattern.matches(event[2])]
        if matched:
            found.append((name, data["destinationArn"], matched))
    return found


# --- delivery -----------------------------------------------------------------------------------


class Subscriptions:
    """Writes deliveries in the caller's transaction and runs them on durable timers."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._store = node.store
        self._clock = node.clock
        self._timers = node.timers

    def register(self) -> None:
        self._timers.on(DELIVER_TIMER, self._on_deliver)

    def context(self, account: str, region: str) -> RequestContext:
        ctx = RequestContext(account=account, region=region, request_id=str(uuid.uuid4()), service="logs")
        ctx.client = self._node.client(ctx)
        return ctx

    async def deliver(
        self,
        tx: Tx,
        account: str,
        region: str,
        group: str,
        stream: str,
        filters: Sequence[tuple[str, str, dict[str, Any]]],
        events: Sequence[Event],
        now: int,
    ) -> None:
        """Match ``events`` (one PutLogEvents call) and write a delivery per filter that matched, in ``tx``."""
        for name, destination, matched in matching(filters, events):
            payload = {"a": account, "r": region, "g": group, "s": stream, "f": name, "d": destination,
                       "e": [list(event) for event in matched], "i": now, "n": 0}
            await self._timers.schedule(tx, DELIVER_TIMER, f"{group}|{name}|{uuid.uuid4().hex}", now, payload)

    async def check_destination(self, tx: Tx, account: str, region: str, group: str, name: str, destination: str, now: int) -> None:
        """Send the control message to a filter's destination, in the transaction that puts the filter."""
        payload = {"a": account, "r": region, "g": group, "s": "", "f": name, "d": destination, "c": 1, "i": now, "n": 0}
        await self._timers.schedule(tx, DELIVER_TIMER, f"{group}|{name}|{uuid.uuid4().hex}", now, payload)

    async def _on_deliver(self, timer: Timer) -> None:
        p = timer.payload
        async with self._store.transaction() as tx:
            current = await db.subscription_destination(tx, p["a"], p["r"], p["g"], p["f"])
        if current != p["d"]:
            return  # the filter (or its group) was deleted, or now sends elsewhere
        ctx = self.context(p["a"], p["r"])
        assert ctx.client is not None
        group_arn = model.group_arn(p["r"], p["a"], p["g"])
        remaining: list[Event] = [tuple(e) for e in p.get("e", [])]  # type: ignore[misc]
        try:
            # Logs invokes as itself: a permission removed since the filter was put stops delivery.
            await destinations.check_lambda_permission(ctx.client, p["d"], group_arn, p["a"], p["r"])
            if p.get("c"):
                parts = [(0, lambda_event(control_message(p["i"])))]
            else:
                parts = lambda_events(p["a"], p["g"], p["s"], p["f"], remaining)
            invoke = ctx.client.lambda_(source_arn=group_arn + ":*").invoke
            for count, body in parts:
                await invoke({"FunctionName": p["d"], "InvocationType": "Event", "Payload": body})
                remaining = remaining[count:]
        except AwsError as error:
            await self._failed(timer, error, remaining)

    async def _failed(self, timer: Timer, error: AwsError, remaining: list[Event]) -> None:
        p = timer.payload
        now = self._clock.now_ms()
        if not is_retryable(error):
            log.info("subscription filter %s of %s: delivery to %s failed (%s: %s); disabled for 10 minutes",
                     p["f"], p["g"], p["d"], error.code, error.message)
            async with self._store.transaction() as tx:
                await db.disable_subscription(tx, p["a"], p["r"], p["g"], p["f"], now + DISABLED_FOR_MS)
            return
        attempts = int(p.get("n", 0))
        due = now + min(1000 * 2**attempts, _MAX_BACKOFF_MS)
        if due - p["i"] > RETRY_FOR_MS:
            log.info("subscription filter %s of %s: delivery to %s dropped after 24 hours (%s)", p["f"], p["g"], p["d"], error.code)
            return
        retry = {**p, "n": attempts + 1}
        if "e" in p:
            retry["e"] = [list(event) for event in remaining]  # what was invoked already is not sent again
        async with self._store.transaction() as tx:
            # Same key: the upsert makes it a new firing, which the timers loop keeps.
            await self._timers.schedule(tx, DELIVER_TIMER, timer.key, due, retry)
