"""Event source mappings: Lambda reading an Amazon SQS queue and invoking a function with batches.

Developer guide, "Using Lambda with Amazon SQS" and its pages (configuring, scaling and batching,
error handling, parameters, event filtering). What a poller does for a mapping:
- long-polls the queue through the internal client, gathering up to ``BatchSize`` messages for
  at most ``MaximumBatchingWindowInSeconds`` (one receive when the window is 0), returning any
  message that would take the event past the 6 MB synchronous payload limit;
- drops the records no ``FilterCriteria`` pattern matches (patterns apply to the record, the
  body parsed when it is JSON; SQS mappings filter on ``body`` only) and deletes those messages
  as processed, without an invocation when nothing is left;
- invokes the function synchronously through ``Invocations.run``, so reserved and account
  concurrency and throttles apply; a FIFO queue's messages go one batch per message group, in
  order;
- deletes what succeeded. A function error or a throttle leaves the batch in flight: it becomes
  visible again after the queue's visibility timeout, and the queue's redrive policy moves it to
  a dead-letter queue after ``maxReceiveCount`` receives. With ``ReportBatchItemFailures`` only
  the reported messages stay (a malformed answer fails the whole batch, an empty one fails none).

Scaling: one worker receives; a worker whose receive came back full starts another, up to
``ScalingConfig.MaximumConcurrency`` (default: the account's concurrency), and a worker whose
receive came back empty stops while others run. Throttles and errors back the worker off.

Scheduling across nodes: the mapping's row carries a lease (owner, expiry in real time, as the
timers' leases). Each node's manager loop renews its leases, takes mappings nobody holds (or
whose holder's lease ran out: a dead node), and runs a poller for each one it holds. State steps
(Creating/Enabling/Updating to Enabled or Disabled, Disabling to Disabled, Deleting to gone) are
made by the holder after its poller stopped, guarded by the row's generation so a newer API
change is never overwritten. API changes wake every node's manager at commit.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid as uuids
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from stratus.aws.api.lambda_ import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from stratus.aws.arns import Arn, parse_arn, queue_url
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.services.events.patterns import Pattern, PatternError
from stratus.services.events.patterns import compile as compile_pattern
from stratus.services.lambda_ import model
from stratus.services.lambda_ import store as db
from stratus.services.lambda_.invoke import Throttled
from stratus.services.lambda_.store import Mapping
from stratus.store.wakeups import Subscription

if TYPE_CHECKING:
    from stratus.services.lambda_.provider import LambdaProvider

log = logging.getLogger("stratus.lambda.esm")

CHANNEL = "lambda.event-source-mappings"
LEASE_MS = 30_000
_MANAGER_POLL_S = 5.0
_CLAIM_LIMIT = 100
_RECEIVE_WAIT_S = 20  # the longest SQS long poll
_STOP_GRACE_S = 10.0
_MAX_BACKOFF_S = 30.0

DEFAULT_BATCH_SIZE = 10
FIFO_MAX_BATCH_SIZE = 10
SETTLING = ("Creating", "Enabling", "Updating")
RECORD_ATTRIBUTES = ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
                     "SequenceNumber", "MessageGroupId", "MessageDeduplicationId", "AWSTraceHeader")
# Members of CreateEventSourceMapping that belong to other event source kinds, or that stratus
# does not honour for SQS: refused, never stored as if they took effect.
_OTHER_KINDS = ("StartingPosition", "StartingPositionTimestamp", "ParallelizationFactor", "DestinationConfig",
                "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
                "TumblingWindowInSeconds", "Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
                "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig")
_NOT_HONOURED = ("KMSKeyArn", "MetricsConfig", "LoggingConfig", "ProvisionedPollerConfig", "Tags")
# Services whose event sources Lambda polls, but stratus does not (yet).
_OTHER_SOURCES = {"kinesis": "Amazon Kinesis", "dynamodb": "Amazon DynamoDB Streams", "kafka": "Amazon MSK",
                  "mq": "Amazon MQ", "rds": "Amazon DocumentDB", "docdb": "Amazon DocumentDB"}


def not_found() -> AwsError:
    error = ResourceNotFoundException("The resource you requested does not exist.")
    error.fields = {"Type": "User"}
    return error


def invalid(message: str) -> InvalidParameterValueException:
    error = InvalidParameterValueException(message)
    error.fields = {"Type": "User"}
    return error


def in_use(uuid: str) -> AwsError:
    error = ResourceInUseException(
        f"The operation cannot be performed at this time. The event source mapping {uuid} is currently being deleted."
    )
    error.fields = {"Type": "User"}
    return error


def mapping_arn(region: str, account: str, uuid: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:event-source-mapping:{uuid}"


def is_fifo(source_arn: str) -> bool:
    return source_arn.endswith(".fifo")


# --- the API's rules -----------------------------------------------------------------------


def sqs_source(request: dict[str, Any]) -> Arn:
    """The queue an SQS mapping reads, or the error AWS (or stratus, for the kinds it lacks) answers."""
    source = request.get("EventSourceArn")
    if not source:
        if request.get("SelfManagedEventSource"):
            raise _not_implemented("self-managed Apache Kafka")
        raise invalid("Unrecognized event source, must be kafka or specify an EventSourceArn")
    parsed = parse_arn(source)
    if parsed is None:
        raise invalid(f"Unrecognized event source: {source}")
    if parsed.service in _OTHER_SOURCES:
        raise _not_implemented(_OTHER_SOURCES[parsed.service])
    if parsed.service != "sqs" or not parsed.resource or ":" in parsed.resource:
        raise invalid(f"Unrecognized event source: {source}")
    return parsed


def _not_implemented(kind: str) -> AwsError:
    return AwsError(
        f"stratus implements event source mappings for Amazon SQS queues only: {kind} event sources are not supported.",
        code="NotImplemented", status=501, sender_fault=False,
    )


def check_members(request: dict[str, Any]) -> None:
    for member in _OTHER_KINDS:
        if request.get(member) is not None:
            raise invalid(f"Unsupported {member} parameter for given event source mapping type.")
    for member in _NOT_HONOURED:
        if request.get(member):
            raise invalid(f"stratus does not support {member} on event source mappings yet.")


def check_batching(config: dict[str, Any], fifo: bool) -> None:
    """BatchSize and the batching window together (each one's range the model already checked)."""
    size, window = config["BatchSize"], config["MaximumBatchingWindowInSeconds"]
    if fifo and window > 0:
        raise invalid("Batching window is not supported for FIFO queues")
    if fifo and size > FIFO_MAX_BATCH_SIZE:
        raise invalid(f"Batch size for FIFO queues must be less than or equal to {FIFO_MAX_BATCH_SIZE}")
    if size > 10 and window == 0:
        raise invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")


def compile_filters(criteria: dict[str, Any] | None) -> list[Pattern]:
    patterns = []
    for item in (criteria or {}).get("Filters") or []:
        text = item.get("Pattern")
        if not text:
            raise invalid("Invalid filter pattern definition.")
        try:
            pattern = compile_pattern(text)
        except PatternError:
            raise invalid("Invalid filter pattern definition.") from None
        patterns.append(pattern)
    return patterns


async def queue_attributes(provider: LambdaProvider, ctx: RequestContext, source: Arn) -> dict[str, str]:
    """The queue's VisibilityTimeout and FifoQueue, read as the poller would read the queue: a queue
    that is not there (or not in the function's region) is AWS's ReceiveMessage error."""
    sqs = provider.node.client(ctx).sqs(account=source.account, region=source.region)
    url = queue_url(provider.node.config.endpoint, source.account, source.resource)
    try:
        if source.region != ctx.region:
            raise AwsError("not in the function's region", code="QueueDoesNotExist")
        answer = await sqs.get_queue_attributes({"QueueUrl": url, "AttributeNames": ["VisibilityTimeout", "FifoQueue"]})
    except AwsError as exc:
        if exc.code != "QueueDoesNotExist":
            raise
        raise invalid(
            "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
            "SQS Error Message: The specified queue does not exist or you do not have access to it."
        ) from None
    return dict(answer.get("Attributes") or {})


def new_mapping(ref: model.FunctionRef, function_arn: str, source_arn: str, config: dict[str, Any], enabled: bool, now_ms: int) -> Mapping:
    return Mapping(
        uuid=str(uuids.uuid4()), account=ref.account, region=ref.region, function_name=ref.name, qualifier=ref.qualifier,
        function_arn=function_arn, source_arn=source_arn, config=config, enabled=enabled, state="Creating",
        state_reason="USER_INITIATED", last_result=None, modified_ms=now_ms, generation=0,
    )


def apply_settings(config: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The mapping's settings after a Create (on the defaults) or an Update (on the current ones)."""
    out = dict(config)
    for member in ("BatchSize", "MaximumBatchingWindowInSeconds"):
        if request.get(member) is not None:
            out[member] = request[member]
    if "FunctionResponseTypes" in request:
        out["FunctionResponseTypes"] = list(request["FunctionResponseTypes"] or [])
    if "FilterCriteria" in request:
        filters = [{"Pattern": f.get("Pattern", "")} for f in (request["FilterCriteria"] or {}).get("Filters") or []]
        out.pop("FilterCriteria", None)
        if filters:
            out["FilterCriteria"] = {"Filters": filters}
    if "ScalingConfig" in request:
        out.pop("ScalingConfig", None)
        if (request["ScalingConfig"] or {}).get("MaximumConcurrency"):
            out["ScalingConfig"] = {"MaximumConcurrency": request["ScalingConfig"]["MaximumConcurrency"]}
    return out


DEFAULTS = {"BatchSize": DEFAULT_BATCH_SIZE, "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": []}


def conflict(source_arn: str, function_name: str, existing: str) -> AwsError:
    error = ResourceConflictException(
        f'An event source mapping with SQS arn (" {source_arn} ") and function (" {function_name} ") already exists. '
        f"Please update or delete the existing mapping with UUID {existing}"
    )
    error.fields = {"Type": "User"}
    return error


def check_timeout(visibility_s: int, function_timeout_s: int) -> None:
    if function_timeout_s > visibility_s:
        raise invalid(f"Queue visibility timeout: {visibility_s} seconds is less than Function timeout: {function_timeout_s} seconds")


def render(m: Mapping, state: str | None = None) -> dict[str, Any]:
    """The EventSourceMappingConfiguration AWS answers for an SQS mapping."""
    c = m.config
    out: dict[str, Any] = {
        "UUID": m.uuid,
        "BatchSize": c["BatchSize"],
        "MaximumBatchingWindowInSeconds": c["MaximumBatchingWindowInSeconds"],
        "EventSourceArn": m.source_arn,
        "FunctionArn": m.function_arn,
        "LastModified": m.modified_ms / 1000,
        "State": state or m.state,
        "StateTransitionReason": m.state_reason,
        "FunctionResponseTypes": list(c.get("FunctionResponseTypes") or []),
        "EventSourceMappingArn": mapping_arn(m.region, m.account, m.uuid),
    }
    if (c.get("FilterCriteria") or {}).get("Filters"):
        out["FilterCriteria"] = c["FilterCriteria"]
    if (c.get("ScalingConfig") or {}).get("MaximumConcurrency"):
        out["ScalingConfig"] = c["ScalingConfig"]
    if m.last_result:
        out["LastProcessingResult"] = m.last_result
    return out


def page(items: list[dict[str, Any]], marker: str | None, max_items: int | None) -> tuple[list[dict[str, Any]], str | None]:
    """ListEventSourceMappings pages: "a maximum of 100 items in each response" (API reference)."""
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except ValueError:
            raise invalid("Invalid Marker") from None
        items = [i for i in items if i["UUID"] > after]
    limit = min(max_items or 100, 100)
    chosen = items[:limit]
    more = len(items) > limit and chosen
    return chosen, (base64.urlsafe_b64encode(chosen[-1]["UUID"].encode()).decode() if more else None)


# --- the SQS event and the function's answer ----------------------------------------------------


def sqs_record(message: dict[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    """One record of the ``aws:sqs`` event, as the developer guide shows it."""
    system = message.get("Attributes") or {}
    attributes: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        item: dict[str, Any] = {}
        if value.get("StringValue") is not None:
            item["stringValue"] = value["StringValue"]
        if value.get("BinaryValue") is not None:
            item["binaryValue"] = base64.b64encode(bytes(value["BinaryValue"])).decode()
        item["stringListValues"] = list(value.get("StringListValues") or [])
        item["binaryListValues"] = [base64.b64encode(bytes(v)).decode() for v in value.get("BinaryListValues") or []]
        item["dataType"] = value["DataType"]
        attributes[name] = item
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: system[k] for k in RECORD_ATTRIBUTES if k in system},
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": region,
    }


def matches(patterns: list[Pattern], record: dict[str, Any]) -> bool:
    """Whether any pattern matches the record's ``body`` (parsed when it is a JSON object: "Amazon SQS
    event source mappings only support filtering on the body key")."""
    if not patterns:
        return True
    body: Any = record["body"]
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        body = parsed
    return any(p.matches({"body": body}) for p in patterns)


def failed_items(payload: bytes, ids: list[str]) -> set[str]:
    """The messages a ReportBatchItemFailures answer leaves in the queue ("Implementing partial batch
    responses"): none for a null or empty ``batchItemFailures`` or an empty answer; all of them for an
    answer that is not JSON, or an item whose ``itemIdentifier`` is null, empty, misnamed or not a
    message of the batch."""
    everything = set(ids)
    if not payload.strip():
        return set()
    try:
        answer = json.loads(payload)
    except ValueError:
        return everything
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        return everything
    failures = answer.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed


# --- pollers ------------------------------------------------------------------------------


def _real_ms() -> int:
    return time.time_ns() // 1_000_000


class EventSourcePollers:
    """The manager loop of one node: leases, state steps, and a poller per mapping it holds."""

    def __init__(self, provider: LambdaProvider) -> None:
        self.p = provider
        self._pollers: dict[str, SqsPoller] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        async with self.p.store.transaction() as tx:
            # One process per SQLite file: every lease there is a previous life's. On PostgreSQL,
            # this node's own leases (its id survives restarts) are handed back at once.
            await db.release_mappings(tx, None if tx.dialect == "sqlite" else self.p.node.id)
        self._task = asyncio.create_task(self._loop(), name="lambda-event-source-mappings")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        pollers = list(self._pollers.values())
        for poller in pollers:
            poller.request_stop()
        await asyncio.gather(*(poller.stopped(_STOP_GRACE_S) for poller in pollers), return_exceptions=True)
        self._pollers.clear()
        try:
            async with self.p.store.transaction() as tx:
                await db.release_mappings(tx, self.p.node.id)
        except Exception:
            log.exception("could not hand back the event source mapping leases; they expire on their own")

    def kick(self) -> None:
        """Run the manager pass again soon (this node's API changes also arrive through the channel)."""
        if self._subscription is not None:
            self._subscription.wake()

    async def _loop(self) -> None:
        while self.p.node.state == "starting":  # other services (SQS) finish their migrations first
            await asyncio.sleep(0.05)
        with self.p.store.subscribe(CHANNEL) as subscription:
            self._subscription = subscription
            try:
                while True:
                    try:
                        await self._tick()
                    except Exception:
                        log.exception("event source mappings: a manager pass failed; trying again")
                    await subscription.wait(_MANAGER_POLL_S)
            finally:
                self._subscription = None

    async def _tick(self) -> None:
        async with self.p.store.transaction() as tx:
            held = await db.claim_mappings(tx, self.p.node.id, _real_ms(), LEASE_MS, _CLAIM_LIMIT)
        held_ids = {m.uuid for m in held}
        for uuid, poller in list(self._pollers.items()):
            if uuid not in held_ids:  # deleted, or our lease lapsed and another node took it
                poller.request_stop()
                if poller.done:
                    del self._pollers[uuid]
        for m in held:
            await self._step(m)

    async def _step(self, m: Mapping) -> None:
        poller = self._pollers.get(m.uuid)
        if m.state in SETTLING:
            target = "Enabled" if m.enabled else "Disabled"
            if target == "Disabled" and not await self._stopped(m.uuid):
                return
            async with self.p.store.transaction() as tx:
                settled = await db.settle_mapping(tx, m.uuid, m.generation, target, release=target == "Disabled")
            if not settled:
                return self.kick()  # changed meanwhile: look again
            m.state = target
        if m.state == "Enabled":
            if poller is None or poller.stopping:
                if poller is not None and not poller.done:
                    return  # the previous poller is still finishing its batch
                self._pollers[m.uuid] = poller = SqsPoller(self, m)
                poller.start()
            else:
                poller.update(m)  # configuration changes apply from the next batch
            return
        if not await self._stopped(m.uuid):
            return
        async with self.p.store.transaction() as tx:
            if m.state == "Deleting":
                await db.delete_mapping(tx, m.uuid, m.generation)
            elif m.state == "Disabling":
                await db.settle_mapping(tx, m.uuid, m.generation, "Disabled", release=True)
            else:  # Disabled: nothing to run
                await db.settle_mapping(tx, m.uuid, m.generation, m.state, release=True)

    async def _stopped(self, uuid: str) -> bool:
        """Ask the mapping's poller to stop; whether it has (its end kicks the loop again)."""
        poller = self._pollers.get(uuid)
        if poller is None:
            return True
        poller.request_stop()
        if not poller.done:
            return False
        del self._pollers[uuid]
        return True

    async def record_result(self, m: Mapping, result: str) -> None:
        if m.last_result == result:
            return
        m.last_result = result
        async with self.p.store.transaction() as tx:
            await db.set_mapping_result(tx, m.uuid, result)


class SqsPoller:
    """The workers of one mapping on this node."""

    def __init__(self, manager: EventSourcePollers, mapping: Mapping) -> None:
        self.manager = manager
        self.p = manager.p
        self.mapping = mapping
        self.stopping = False
        self._workers: dict[asyncio.Task[None], str] = {}  # task -> phase ("wait" or "invoke")
        self._invocations: asyncio.Semaphore | None = None
        self._compiled: tuple[int, list[Pattern]] = (-1, [])
        self._source = parse_arn(mapping.source_arn)
        assert self._source is not None
        self._url = queue_url(self.p.node.config.endpoint, self._source.account, self._source.resource)

    @property
    def done(self) -> bool:
        return not self._workers

    def update(self, mapping: Mapping) -> None:
        if mapping.generation != self.mapping.generation:
            self.mapping = mapping
            self._invocations = asyncio.Semaphore(self._cap())

    def start(self) -> None:
        self._invocations = asyncio.Semaphore(self._cap())
        self._spawn()

    def request_stop(self) -> None:
        """Stop: a worker waiting (on the queue or a backoff) stops now, one invoking after its batch."""
        self.stopping = True
        for task, phase in self._workers.items():
            if phase == "wait":
                task.cancel()

    async def stopped(self, grace_s: float) -> None:
        tasks = set(self._workers)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    def _cap(self) -> int:
        return int((self.mapping.config.get("ScalingConfig") or {}).get("MaximumConcurrency")
                   or self.p.node.config.lambda_concurrency)

    def _spawn(self) -> None:
        task = asyncio.create_task(self._work(), name=f"esm {self.mapping.uuid}")
        self._workers[task] = "wait"
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._workers.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("event source mapping %s: a worker failed", self.mapping.uuid, exc_info=task.exception())
        if self.stopping and not self._workers:
            self.manager.kick()  # its state step can be made now
        elif not self.stopping and not self._workers:
            self._spawn()  # never leave an enabled mapping without a worker

    def _phase(self, phase: str) -> None:
        task = asyncio.current_task()
        if task in self._workers:
            self._workers[task] = phase  # type: ignore[index]

    async def _work(self) -> None:
        backoff = 0
        while not self.stopping:
            self._phase("wait")
            try:
                delay = await self._round()
            except Exception:
                log.exception("event source mapping %s: a batch failed; trying again", self.mapping.uuid)
                delay = 1.0
            if delay is None:
                return  # a spare worker that found the queue empty
            self._phase("wait")
            if self.stopping:
                return
            if delay:
                backoff = min(backoff + 1, 6)
                await asyncio.sleep(min(delay * 2 ** (backoff - 1), _MAX_BACKOFF_S))
            else:
                backoff = 0

    def _patterns(self, m: Mapping) -> list[Pattern]:
        if self._compiled[0] != m.generation:
            self._compiled = (m.generation, compile_filters(m.config.get("FilterCriteria")))
        return self._compiled[1]

    def _context(self) -> RequestContext:
        m = self.mapping
        ctx = RequestContext(account=m.account, region=m.region, request_id=str(uuids.uuid4()))
        ctx.client = self.p.node.client(ctx)
        return ctx

    async def _round(self) -> float | None:
        """Receive a batch and process it; answer seconds to back off (0: none; None: stop this worker)."""
        m = self.mapping
        ref = model.FunctionRef(m.account, m.region, m.function_name, m.qualifier)
        # The function first: receiving for a function that cannot run would spend receive counts.
        try:
            version = await self.p.resolve_for_invoke(ref)
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                await self.manager.record_result(m, "PROBLEM: Function not found.")
            return 1.0  # not found, or not Active yet (being created or updated)
        ctx = self._context()
        sqs = ctx.client.sqs(account=self._source.account, region=self._source.region)  # type: ignore[union-attr]
        try:
            messages = await self._gather(sqs, m)
        except AwsError as exc:
            await self.manager.record_result(m, f"PROBLEM: {exc.message}")
            return 1.0
        if not messages:
            return None if len(self._workers) > 1 else 0
        if len(messages) >= min(m.config["BatchSize"], 10) and len(self._workers) < self._cap() and not self.stopping:
            self._spawn()  # a full receive: there is more to do than this worker can take
        self._phase("invoke")
        records = [sqs_record(message, m.source_arn, self._source.region) for message in messages]
        patterns = self._patterns(m)
        kept = [r for r in records if matches(patterns, r)]
        dropped = [r for r in records if not matches(patterns, r)] if patterns else []
        if dropped:  # "the event is discarded as processed successfully"
            await self._delete(sqs, dropped)
        if not kept:
            return 0
        batches = _by_group(kept) if is_fifo(m.source_arn) else [kept]
        outcomes = await asyncio.gather(*(self._invoke(ctx, sqs, version, m, batch) for batch in batches))
        return max(outcomes)

    async def _gather(self, sqs: Any, m: Mapping) -> list[dict[str, Any]]:
        """Up to BatchSize messages: one long poll, then more while the batching window lasts."""
        size, window = m.config["BatchSize"], m.config["MaximumBatchingWindowInSeconds"]
        messages = await self._receive(sqs, min(size, 10), _RECEIVE_WAIT_S)
        if messages and window > 0:
            deadline = self.p.clock.now_ms() + window * 1000
            while len(messages) < size and not self.stopping and (left := deadline - self.p.clock.now_ms()) > 0:
                messages += await self._receive(sqs, min(size - len(messages), 10), min(_RECEIVE_WAIT_S, -(-left // 1000)))
                if _event_size(messages) > model.SYNC_PAYLOAD_LIMIT:
                    break
        while len(messages) > 1 and _event_size(messages) > model.SYNC_PAYLOAD_LIMIT:
            extra = messages.pop()  # past the synchronous payload limit: back to the queue for the next batch
            await self._ignore_errors(sqs.change_message_visibility(
                {"QueueUrl": self._url, "ReceiptHandle": extra["ReceiptHandle"], "VisibilityTimeout": 0}))
        return messages

    async def _receive(self, sqs: Any, count: int, wait_s: int) -> list[dict[str, Any]]:
        answer = await sqs.receive_message({
            "QueueUrl": self._url, "MaxNumberOfMessages": count, "WaitTimeSeconds": int(wait_s),
            "MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"],
        })
        return list(answer.get("Messages") or [])

    async def _invoke(self, ctx: RequestContext, sqs: Any, version: model.Version, m: Mapping, records: list[dict[str, Any]]) -> float:
        """Run one batch; delete what succeeded; answer the backoff the outcome asks for."""
        payload = json.dumps({"Records": records}, separators=(",", ":")).encode()
        request_id = str(uuids.uuid4())
        assert self._invocations is not None
        async with self._invocations:
            try:
                result = await self.p.run(ctx, version, payload, request_id=request_id, invoked_arn=m.function_arn)
            except Throttled:
                await self.manager.record_result(m, "PROBLEM: Function call failed due to throttling.")
                return 1.0  # the batch comes back after the visibility timeout
            except (AwsError, OSError) as exc:
                log.warning("event source mapping %s: invoking %s failed: %s", m.uuid, m.function_arn, exc)
                await self.manager.record_result(m, "PROBLEM: Function call failed.")
                return 1.0
        ids = [r["messageId"] for r in records]
        if result.function_error:
            await self.manager.record_result(m, "PROBLEM: Function call failed.")
            return 0.5
        if "ReportBatchItemFailures" in (m.config.get("FunctionResponseTypes") or []):
            failed = failed_items(result.payload, ids)
        else:
            failed = set()
        await self._delete(sqs, [r for r in records if r["messageId"] not in failed])
        await self.manager.record_result(m, "OK")
        return 0

    async def _delete(self, sqs: Any, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start:start + 10]
            answer = await self._ignore_errors(sqs.delete_message_batch({"QueueUrl": self._url, "Entries": [
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)]}))
            for failure in (answer or {}).get("Failed") or []:
                log.info("event source mapping %s: could not delete a message: %s", self.mapping.uuid, failure.get("Message"))

    async def _ignore_errors(self, call: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
        """Deletes and visibility changes after the fact: a failure leaves the message to come back."""
        try:
            return await call
        except AwsError as exc:
            log.info("event source mapping %s: %s", self.mapping.uuid, exc)
            return None


def _by_group(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """FIFO: one batch per message group, each in the order the queue gave."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["attributes"].get("MessageGroupId", ""), []).append(record)
    return list(groups.values())


def _event_size(messages: list[dict[str, Any]]) -> int:
    """About the size of the event these messages make: bodies, attribute values (binary ones in
    base64) and a kilobyte of record around each."""
    total = 0
    for m in messages:
        total += len(m["Body"].encode()) + 1024
        for value in (m.get("MessageAttributes") or {}).values():
            total += len(str(value.get("StringValue") or "").encode()) + 64
            total += len(bytes(value.get("BinaryValue") or b"")) * 4 // 3
    return total

