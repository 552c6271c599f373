"""Routing and delivery: matching events to rules, durable deliveries with retries, schedules, replays.

An accepted event never lives only in memory. PutEvents matches each event against the
bus's rules inside its own transaction and writes one durable timer per (event, rule,
target) -- the delivery -- and the archive rows, so a crash right after PutEvents answers
loses nothing: the timers fire after the restart. A delivery that fails is rescheduled
on the stratus clock with exponential backoff until the target's RetryPolicy gives up,
then sent to its dead-letter queue with the attributes EventBridge sets.

Each node keeps every bus's rules compiled (one ``PatternSet``, patterns compiled once),
tagged with the bus's version; PutEvents reads that version in its transaction and
rebuilds only when a rule, target, archive or the bus itself changed (on any node).

A bus with a customer managed KMS key (``encryption.py``) takes one more step: PutEvents
writes an ingest timer for each custom or partner event, and the ingest handler -- outside
any transaction, since KMS needs its own -- gets a data key from the bus's key, then matches
the event and writes its deliveries and archive rows sealed under that data key. A key that
is disabled or gone is a non-retriable error: the event goes to the bus's dead-letter queue
(at ingest) or to the target's (when a sealed delivery cannot be opened), as AWS documents in
"Using dead-letter queues to capture encrypted event errors".
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.arns import parse_arn
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.engine.timers import Timer
from stratus.services.events import encryption, model, transform
from stratus.services.events import store as db
from stratus.services.events.patterns import Pattern
from stratus.services.events.patterns import compile as compile_pattern
from stratus.services.events.patterns_set import PatternSet
from stratus.services.events.targets import TargetOptions, is_retryable, send_to_dead_letter_queue, send_to_target
from stratus.services.scheduler import expressions
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.node import Node

log = logging.getLogger("stratus.events")

DELIVER_TIMER = "events.deliver"
SCHEDULE_TIMER = "events.schedule"
REPLAY_TIMER = "events.replay"
INGEST_TIMER = "events.ingest"
_MAX_BACKOFF_S = 300
_REPLAY_BATCH = 100
ENABLED_STATES = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")


@dataclass(slots=True)
class CompiledBus:
    version: int
    patterns: PatternSet
    rules: dict[str, tuple[str, list[dict[str, Any]]]]  # name -> (arn, targets)
    archives: list[tuple[str, Pattern | None]] = field(default_factory=list)
    kms_key: str | None = None  # the bus's KmsKeyIdentifier: its custom events go through ingest


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _backoff_ms(attempts: int) -> int:
    return min(2**attempts, _MAX_BACKOFF_S) * 1000


def _error_code(error: AwsError) -> str:
    """The ERROR_CODE attribute of a dead-lettered event, from the target's error (AWS's documented codes)."""
    code = error.code
    if "Throttl" in code or code == "TooManyRequestsException":
        return "THROTTLING"
    if "AccessDenied" in code or code == "AuthorizationError":
        return "NO_PERMISSIONS"
    if "NotFound" in code or "DoesNotExist" in code or code == "AWS.SimpleQueueService.NonExistentQueue":
        return "NO_RESOURCE"
    return "SDK_CLIENT_ERROR"


async def expire_archive(tx: Tx, archive: db.Archive, now_ms: int) -> None:
    """Drop the events older than the archive's RetentionDays (0 keeps them for ever)."""
    days = archive.data.get("RetentionDays") or 0
    if days > 0:
        await db.expire_archived(tx, archive.account, archive.region, archive.name, now_ms - days * 86_400_000)


class Router:
    """Everything that makes events move; owned by the provider, driven by its transactions and timers."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._store = node.store
        self._clock = node.clock
        self._timers = node.timers
        self._compiled: dict[tuple[str, str, str], CompiledBus] = {}

    def register(self) -> None:
        self._timers.on(DELIVER_TIMER, self._on_deliver)
        self._timers.on(SCHEDULE_TIMER, self._on_schedule)
        self._timers.on(REPLAY_TIMER, self._on_replay)
        self._timers.on(INGEST_TIMER, self._on_ingest)

    def context(self, account: str, region: str) -> RequestContext:
        ctx = RequestContext(account=account, region=region, request_id=str(uuid.uuid4()), service="events")
        ctx.client = self._node.client(ctx)
        return ctx

    # --- matching --------------------------------------------------------------------------

    async def compiled(self, tx: Tx, account: str, region: str, bus: str) -> CompiledBus:
        version = await db.bus_version(tx, account, region, bus)
        key = (account, region, bus)
        cached = self._compiled.get(key)
        if cached is not None and cached.version == (version if version is not None else -1):
            return cached
        built = CompiledBus(version if version is not None else -1, PatternSet(), {})
        if version is not None:
            row = await db.get_bus(tx, account, region, bus)
            built.kms_key = (row.data.get("KmsKeyIdentifier") or None) if row else None
            targets = await db.targets_of_bus(tx, account, region, bus)
            for rule in await db.list_rules(tx, account, region, bus):
                pattern_text = rule.data.get("EventPattern")
                if not pattern_text or rule.data.get("State") not in ENABLED_STATES:
                    continue
                built.patterns.add(rule.name, compile_pattern(pattern_text))
                built.rules[rule.name] = (model.rule_arn(region, account, bus, rule.name), targets.get(rule.name, []))
            for archive in await db.archives_of_bus(tx, account, region, bus):
                if archive.data.get("State", "ENABLED") != "ENABLED":
                    continue
                text = archive.data.get("EventPattern")
                built.archives.append((archive.name, compile_pattern(text) if text else None))
        self._compiled[key] = built
        return built

    async def accept(self, tx: Tx, account: str, region: str, bus: str, event: dict[str, Any], ingestion_ms: int,
                     *, replay: str | None = None, filter_arns: list[str] | None = None,
                     compiled: CompiledBus | None = None) -> None:
        """Write the deliveries (and archive rows) ``event`` causes on ``bus``, in ``tx``.

        ``compiled`` is the bus's matcher when the caller already read it in ``tx``. On a bus
        with a customer managed key a custom or partner event is handed to the ingest timer,
        which encrypts before anything else is stored.
        """
        if compiled is None:
            compiled = await self.compiled(tx, account, region, bus)
        if compiled.kms_key and _customer_event(event):
            await self.ingest_later(tx, account, region, bus, f"{event['id']}|{replay or ''}", ingestion_ms,
                                    {"ev": _dumps(event)}, replay=replay, filter_arns=filter_arns)
            return
        await self._route(tx, account, region, bus, compiled, event, ingestion_ms, replay, filter_arns, None)

    async def ingest_later(self, tx: Tx, account: str, region: str, bus: str, key: str, ingestion_ms: int,
                           body: dict[str, str], *, replay: str | None, filter_arns: list[str] | None) -> None:
        """Schedule the encrypting step of one event (``body``: ``ev``, the plain event, or ``sealed``)."""
        payload: dict[str, Any] = {"a": account, "r": region, "bus": bus, "i": ingestion_ms, **body}
        if replay:
            payload["replay"] = replay
        if filter_arns:
            payload["filter"] = filter_arns
        await self._timers.schedule(tx, INGEST_TIMER, f"{account}/{region}/{bus}|{key}", ingestion_ms, payload)

    async def _route(self, tx: Tx, account: str, region: str, bus: str, compiled: CompiledBus, event: dict[str, Any],
                     ingestion_ms: int, replay: str | None, filter_arns: list[str] | None,
                     key: encryption.DataKey | None) -> None:
        """Match ``event`` and write its deliveries and archive rows, sealed under ``key`` when given."""
        bus_arn = model.bus_arn(region, account, bus)
        stored: str | None = None
        plain_size = 0

        def text() -> str:
            nonlocal stored, plain_size
            if stored is None:
                plain = _dumps(event)
                plain_size = len(plain.encode())
                stored = encryption.seal(key, bus_arn, plain) if key is not None else plain
            return stored

        for name in compiled.patterns.matching(event):
            arn, targets = compiled.rules[name]  # type: ignore[index]
            if filter_arns and arn not in filter_arns:
                continue
            if targets:
                await self.deliver(tx, account, region, arn, str(name), targets, event["id"], text(), ingestion_ms, replay,
                                   bus_arn=bus_arn)
        if replay is None:
            for archive, pattern in compiled.archives:
                if pattern is None or pattern.matches(event):
                    await db.archive_event(tx, account, region, archive, ingestion_ms, text(), size=plain_size)

    async def _on_ingest(self, timer: Timer) -> None:
        """Encrypt and route one event of a bus with a customer managed key (see the module docstring)."""
        p = timer.payload
        account, region, bus = p["a"], p["r"], p["bus"]
        bus_arn = model.bus_arn(region, account, bus)
        async with self._store.transaction() as tx:
            row = await db.get_bus(tx, account, region, bus)
        if row is None:
            return  # the bus was deleted since: the event goes nowhere, as for a bus that does not exist
        key_id = row.data.get("KmsKeyIdentifier") or None
        ctx = self.context(account, region)
        assert ctx.client is not None
        plain: str | None = p.get("ev")
        key: encryption.DataKey | None = None
        try:
            if plain is None:
                plain = await encryption.open_sealed(ctx.client, bus_arn, p["sealed"])
            if key_id:
                key = await encryption.data_key(ctx.client, key_id, bus_arn)
        except AwsError as error:
            if not encryption.is_non_retriable(error):
                raise  # throttling or a KMS fault: the timers loop retries the ingest
            await self._bus_dead_letter(ctx, row, plain, p.get("sealed"), error)
            return
        event = json.loads(plain)
        if p.get("replay"):
            event["replay-name"] = p["replay"]
        async with self._store.transaction() as tx:
            compiled = await self.compiled(tx, account, region, bus)
            await self._route(tx, account, region, bus, compiled, event, p["i"], p.get("replay"), p.get("filter"), key)

    async def _bus_dead_letter(self, ctx: RequestContext, bus: db.Bus, plain: str | None, sealed: str | None,
                               error: AwsError) -> None:
        """An event the bus could not encrypt (or decrypt, for a replay) goes to the bus's dead-letter queue."""
        bus_arn = model.bus_arn(bus.region, bus.account, bus.name)
        log.info("event on %s failed for good at ingest (%s: %s)", bus_arn, error.code, error.message)
        dlq = (bus.data.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            return
        if plain is None:
            # Not readable any more: the ciphertext goes as AWS sends encrypted events.
            assert sealed is not None
            plain = _dumps(encryption.encrypted_event(str(uuid.uuid4()), bus.account, bus.region,
                                                      model.iso_time(self._clock.now_ms()), bus_arn, None, sealed))
        attributes = {"ERROR_CODE": _error_code(error), "ERROR_MESSAGE": error.message or error.code}
        await self._send_dead_letter(ctx, dlq, plain, attributes, 0, bus_arn)

    async def deliver(self, tx: Tx, account: str, region: str, rule_arn: str, rule_name: str,
                      targets: list[dict[str, Any]], event_id: str, event_text: str, ingestion_ms: int,
                      replay: str | None, *, bus_arn: str | None = None) -> None:
        for target in targets:
            payload = {"a": account, "r": region, "rule": rule_arn, "name": rule_name, "t": target,
                       "ev": event_text, "i": ingestion_ms, "n": 0}
            if bus_arn:
                payload["b"] = bus_arn
            key = f"{event_id}|{replay or ''}|{rule_arn}|{target['Id']}"
            await self._timers.schedule(tx, DELIVER_TIMER, key, ingestion_ms, payload)

    # --- delivery --------------------------------------------------------------------------

    async def _on_deliver(self, timer: Timer) -> None:
        p = timer.payload
        target = p["t"]
        ctx = self.context(p["a"], p["r"])
        text = p["ev"]
        if encryption.is_sealed(text):
            assert ctx.client is not None
            try:
                text = await encryption.open_sealed(ctx.client, p["b"], text)
            except AwsError as error:
                if not encryption.is_non_retriable(error):
                    raise  # a passing KMS fault: the timers loop retries this delivery
                # A decryption error on the way to a target goes to the target's dead-letter queue.
                await self._dead_letter(ctx, p, error, None, p.get("n", 0))
                return
        event = json.loads(text)
        sqs_parameters = target.get("SqsParameters") or {}
        options = TargetOptions(
            message_group_id=sqs_parameters.get("MessageGroupId"),
            deduplication_id=event.get("id"),
            http_parameters=target.get("HttpParameters"),
            role_arn=target.get("RoleArn"),
            source_arn=p["rule"],
            log_stream=event.get("id"),
            timestamp_ms=model.parse_iso_time(event.get("time", "")) or p["i"],
        )
        try:
            body = transform.render(target, event, p["rule"], p["name"], p["i"])
            await send_to_target(ctx, target["Arn"], body, options)
        except AwsError as error:
            await self._failed(timer, ctx, error)

    async def _failed(self, timer: Timer, ctx: RequestContext, error: AwsError) -> None:
        p = timer.payload
        policy = p["t"].get("RetryPolicy") or {}
        max_attempts = policy.get("MaximumRetryAttempts", model.DEFAULT_MAX_RETRY_ATTEMPTS)
        max_age_ms = policy.get("MaximumEventAgeInSeconds", model.DEFAULT_MAX_EVENT_AGE_S) * 1000
        attempts = p.get("n", 0)
        condition: str | None = None
        if not is_retryable(error):
            condition = None  # dead-lettered at once, as AWS does for missing resources and permissions
        elif attempts >= max_attempts:
            condition = "MaximumRetryAttempts"
        else:
            due = self._clock.now_ms() + _backoff_ms(attempts)
            if due - p["i"] > max_age_ms:
                condition = "MaximumEventAgeInSeconds"
            else:
                async with self._store.transaction() as tx:
                    # Same key: the upsert makes it a new firing, which the timers loop keeps.
                    await self._timers.schedule(tx, DELIVER_TIMER, timer.key, due, {**p, "n": attempts + 1})
                return
        await self._dead_letter(ctx, p, error, condition, attempts)

    async def _dead_letter(self, ctx: RequestContext, p: dict[str, Any], error: AwsError, condition: str | None,
                           attempts: int) -> None:
        dlq = (p["t"].get("DeadLetterConfig") or {}).get("Arn")
        log.info("event delivery to %s for %s failed for good (%s: %s)", p["t"]["Arn"], p["rule"], error.code, error.message)
        if not dlq:
            return
        attributes = {
            "RULE_ARN": p["rule"],
            "TARGET_ARN": p["t"]["Arn"],
            "ERROR_CODE": _error_code(error),
            "ERROR_MESSAGE": error.message or error.code,
        }
        if condition:
            attributes["EXHAUSTED_RETRY_CONDITION"] = condition
        body = p["ev"]
        if encryption.is_sealed(body):
            # Sent as AWS sends an encrypted event it could not decrypt (the same sealed bytes).
            body = _dumps(encryption.encrypted_event(str(uuid.uuid4()), p["a"], p["r"], model.iso_time(self._clock.now_ms()),
                                                     p["b"], p["rule"], body))
        await self._send_dead_letter(ctx, dlq, body, attributes, attempts, p["rule"])

    async def _send_dead_letter(self, ctx: RequestContext, dlq: str, body: str, attributes: dict[str, str], attempts: int,
                                source_arn: str) -> None:
        """Send ``body`` to the dead-letter queue ``dlq`` with the message attributes EventBridge sets."""
        message_attributes: dict[str, Any] = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        message_attributes["RETRY_ATTEMPTS"] = {"DataType": "Number", "StringValue": str(attempts)}
        queue = parse_arn(dlq)
        if queue is None or ":" in queue.resource:
            return
        try:
            await send_to_dead_letter_queue(ctx, queue, body, message_attributes, source_arn)
        except AwsError as dlq_error:
            # AWS drops the event when its dead-letter queue cannot take it either.
            log.warning("dead-letter queue %s refused an event: %s", dlq, dlq_error.message)

    # --- schedule rules --------------------------------------------------------------------

    async def schedule_rule(self, tx: Tx, account: str, region: str, rule: db.Rule) -> None:
        """(Re)arm the timer of a rule with a ScheduleExpression, or disarm it."""
        arn = model.rule_arn(region, account, rule.bus, rule.name)
        expression = rule.data.get("ScheduleExpression")
        if not expression or rule.data.get("State") not in ENABLED_STATES:
            await self._timers.cancel(tx, SCHEDULE_TIMER, arn)
            return
        anchor = rule.data.get("ScheduleAnchorMs", rule.created_ms)
        due = self._next_fire(expression, self._clock.now_ms(), anchor)
        if due is None:
            return
        payload = {"a": account, "r": region, "bus": rule.bus, "name": rule.name, "expr": expression, "anchor": anchor}
        await self._timers.schedule(tx, SCHEDULE_TIMER, arn, due, payload)

    async def unschedule_rule(self, tx: Tx, account: str, region: str, bus: str, name: str) -> None:
        await self._timers.cancel(tx, SCHEDULE_TIMER, model.rule_arn(region, account, bus, name))

    @staticmethod
    def _next_fire(expression: str, after_ms: int, anchor_ms: int) -> int | None:
        schedule = expressions.parse(expression, flavour="rule")
        after = datetime.fromtimestamp(after_ms / 1000, UTC)
        anchor = datetime.fromtimestamp(anchor_ms / 1000, UTC)
        moment = schedule.next_after(after, anchor=anchor)
        return None if moment is None else int(moment.timestamp() * 1000)

    async def _on_schedule(self, timer: Timer) -> None:
        p = timer.payload
        async with self._store.transaction() as tx:
            rule = await db.get_rule(tx, p["a"], p["r"], p["bus"], p["name"])
            if (rule is None or rule.data.get("State") not in ENABLED_STATES
                    or rule.data.get("ScheduleExpression") != p["expr"]):
                return  # changed since: PutRule/EnableRule armed a new timer if one is due
            arn = model.rule_arn(p["r"], p["a"], p["bus"], p["name"])
            targets = await db.list_targets(tx, p["a"], p["r"], p["bus"], p["name"])
            if targets:
                event = model.scheduled_event(p["a"], p["r"], arn, timer.due_ms)
                # A scheduled event is an AWS event: AWS encrypts those with its own key, never the bus's.
                await self.deliver(tx, p["a"], p["r"], arn, p["name"], targets, event["id"], _dumps(event),
                                   timer.due_ms, None, bus_arn=model.bus_arn(p["r"], p["a"], p["bus"]))
            # From now, not from the due time: a clock moved far ahead fires once, not once per missed period.
            due = self._next_fire(p["expr"], max(self._clock.now_ms(), timer.due_ms), p["anchor"])
            if due is not None:
                await self._timers.schedule(tx, SCHEDULE_TIMER, timer.key, due, p)

    # --- replays ---------------------------------------------------------------------------

    async def _on_replay(self, timer: Timer) -> None:
        p = timer.payload
        async with self._store.transaction() as tx:
            replay = await db.get_replay(tx, p["a"], p["r"], p["name"])
            if replay is None or replay.state not in ("STARTING", "RUNNING", "CANCELLING"):
                return
            now = self._clock.now_ms()
            if replay.state == "CANCELLING":
                replay.state = "CANCELLED"
                replay.data["ReplayEndTime"] = now
                await db.update_replay(tx, replay)
                return
            data = replay.data
            archive = await db.get_archive(tx, p["a"], p["r"], data["Archive"])
            if archive is not None:
                await expire_archive(tx, archive, now)
            rows = await db.archived_events(tx, p["a"], p["r"], data["Archive"], data["EventStartTime"],
                                            data["EventEndTime"], data.get("Cursor", 0), _REPLAY_BATCH)
            destination = data["Destination"]
            d_account, d_region, d_bus = model.parse_bus(destination["Arn"], p["a"], p["r"])
            for row_id, time_ms, text in rows:
                data["Cursor"] = row_id
                data["EventLastReplayedTime"] = time_ms
                if encryption.is_sealed(text):
                    # Opening it needs KMS, outside this transaction: the ingest step does it.
                    await self.ingest_later(tx, d_account, d_region, d_bus, f"{data['Archive']}/{row_id}|{replay.name}",
                                            time_ms, {"sealed": text}, replay=replay.name,
                                            filter_arns=destination.get("FilterArns") or None)
                    continue
                event = json.loads(text)
                event["replay-name"] = replay.name
                await self.accept(tx, d_account, d_region, d_bus, event, time_ms, replay=replay.name,
                                  filter_arns=destination.get("FilterArns") or None)
            if len(rows) == _REPLAY_BATCH:
                replay.state = "RUNNING"
                await self._timers.schedule(tx, REPLAY_TIMER, timer.key, now, p)
            else:
                replay.state = "COMPLETED"
                data["ReplayEndTime"] = now
            await db.update_replay(tx, replay)


def _customer_event(event: dict[str, Any]) -> bool:
    """Custom and partner events use the bus's key; other AWS service events an AWS owned key
    ("Encrypting EventBridge event buses with AWS KMS keys")."""
    source = str(event.get("source", ""))
    return not source.startswith("aws.") or source.startswith("aws.partner/")
