"""Amazon SQS: queues, messages, dead-letter redrive and message move tasks.

Each operation reads the queue row and changes state in one transaction. Receive is one
claim statement over the (queue_id, visible_at, id) index; delays, visibility timeouts and
retention are timestamps on the stratus clock, so no background work is needed for them.
Durable timers run what must happen without a request: retention sweeps and move tasks.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from stratus.aws.api.sqs import (
    AddPermissionRequest,
    BatchRequestTooLong,
    ChangeMessageVisibilityBatchRequest,
    ChangeMessageVisibilityBatchResult,
    ChangeMessageVisibilityRequest,
    CreateQueueRequest,
    CreateQueueResult,
    DeleteMessageBatchRequest,
    DeleteMessageBatchResult,
    DeleteMessageRequest,
    DeleteQueueRequest,
    GetQueueAttributesRequest,
    GetQueueAttributesResult,
    GetQueueUrlRequest,
    GetQueueUrlResult,
    InvalidAttributeName,
    InvalidAttributeValue,
    ListDeadLetterSourceQueuesRequest,
    ListDeadLetterSourceQueuesResult,
    ListQueuesRequest,
    ListQueuesResult,
    ListQueueTagsRequest,
    ListQueueTagsResult,
    MessageNotInflight,
    OverLimit,
    PurgeQueueInProgress,
    PurgeQueueRequest,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiveMessageRequest,
    ReceiveMessageResult,
    RemovePermissionRequest,
    SendMessageBatchRequest,
    SendMessageBatchResult,
    SendMessageRequest,
    SendMessageResult,
    SetQueueAttributesRequest,
    SqsApi,
    TagQueueRequest,
    UntagQueueRequest,
)
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, InvalidParameterValue, MissingParameter
from stratus.engine.timers import Timer
from stratus.services.sqs import model
from stratus.services.sqs import store as db
from stratus.services.sqs.model import Queue
from stratus.services.sqs.move_tasks import MOVE_TIMER, MessageMoveTasks
from stratus.services.sqs.sending import MessageBuilder, PreparedMessage
from stratus.store import Subscription, load_migrations
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.node import Node

SWEEP_TIMER = "sqs.sweep"
SWEEP_INTERVAL_MS = 60_000
# Long polls re-check at least this often: a wake-up is a hint, the table is the truth.
POLL_FALLBACK_S = 5.0
# How long an in-flight count well below the quota is trusted before counting again.
IN_FLIGHT_RECOUNT_MS = 1000


def _not_found(ctx: RequestContext) -> QueueDoesNotExist:
    # AWS words it differently for the query protocol (clients of the old WSDL API).
    if ctx.protocol == "query":
        return QueueDoesNotExist("The specified queue does not exist for this wsdl version.")
    return QueueDoesNotExist("The specified queue does not exist.")


def _page_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _after_token(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, binascii.Error):
        raise InvalidParameterValue("Invalid NextToken value.") from None


class SqsProvider(MessageMoveTasks, SqsApi):
    def __init__(self, node: Node) -> None:
        super().__init__(node)
        # queue id -> (in-flight count, when counted): see _at_in_flight_quota.
        self._in_flight: dict[int, tuple[int, int]] = {}

    async def start(self) -> None:
        await self.store.migrate("sqs", load_migrations("stratus.services.sqs"))
        self.timers.on(SWEEP_TIMER, self._on_sweep)
        self.timers.on(MOVE_TIMER, self._on_move)

    # --- helpers ----------------------------------------------------------------------------

    async def _queue(self, tx: Tx, ctx: RequestContext, url: str, *, lock: bool = False) -> Queue:
        account, name = model.parse_queue_url(url, ctx.account)
        queue = await db.get_queue(tx, account, ctx.region, name, lock=lock)
        if queue is None:
            raise _not_found(ctx)
        return queue

    async def _check_redrive(self, tx: Tx, source_arn: str, fifo: bool, attributes: dict[str, str]) -> None:
        policy = attributes.get("RedrivePolicy")
        if not policy:
            return
        target_arn = json.loads(policy)["deadLetterTargetArn"]
        target = await db.get_queue_by_arn(tx, target_arn)

        def invalid(reason: str) -> InvalidParameterValue:
            return InvalidParameterValue(f"Value {policy} for parameter RedrivePolicy is invalid. Reason: {reason}")

        if target is None:
            raise invalid("Dead letter target does not exist.")
        if target.fifo != fifo:
            raise invalid("Dead-letter queue must be same type of queue as the source.")
        if not model.redrive_allowed(target.attributes.get("RedriveAllowPolicy"), source_arn):
            raise invalid(f"Queue {source_arn} is not allowed to use {target_arn} as a dead-letter queue.")

    async def _sender_id(self, ctx: RequestContext) -> str:
        """SenderId as AWS shows it: the account for its root, the caller's unique id otherwise
        (an IAM user's AIDA..., an assumed role's AROA...:session)."""
        identity = await self.node.identities.resolve(ctx.access_key)
        return identity.user_id or identity.account

    def _oldest_sent(self, queue: Queue, now: int) -> int:
        """Messages sent at or before this instant are past the queue's retention period."""
        return now - queue.int_attr("MessageRetentionPeriod") * 1000

    # --- queues -----------------------------------------------------------------------------

    async def create_queue(self, ctx: RequestContext, request: CreateQueueRequest) -> CreateQueueResult:
        name = request["QueueName"]
        given = dict(request.get("Attributes") or {})
        tags = dict(request.get("tags") or {})
        fifo = str(given.get("FifoQueue", "")).lower() == "true"
        model.validate_queue_name(name, fifo)
        attributes = model.check_attributes(given, fifo=fifo, creating=True)
        model.check_tags(tags)
        now = self.clock.now_ms()
        arn = model.queue_arn(ctx.region, ctx.account, name)
        url = model.queue_url(ctx.endpoint, ctx.account, name)
        async with self.store.transaction() as tx:
            existing = await db.get_queue(tx, ctx.account, ctx.region, name)
            if existing is None:
                deleted = await db.deleted_at(tx, ctx.account, ctx.region, name)
                if deleted is not None and now - deleted < model.DELETED_NAME_HOLD_MS:
                    raise QueueDeletedRecently(
                        "You must wait 60 seconds after deleting a queue before you can create another with the "
                        "same name."
                    )
                await self._check_redrive(tx, arn, fifo, attributes)
                stored = {**(model.FIFO_DEFAULTS if fifo else model.STANDARD_DEFAULTS)}
                if attributes.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in attributes:
                    stored["SqsManagedSseEnabled"] = "false"
                stored.update(attributes)
                if not fifo:
                    stored.pop("FifoQueue", None)
                stored = {k: v for k, v in stored.items() if v != ""}
                queue = await db.insert_queue(tx, ctx.account, ctx.region, name, fifo, stored, tags, now)
                if queue is not None:
                    await self.timers.schedule(
                        tx, SWEEP_TIMER, str(queue.id), now + SWEEP_INTERVAL_MS, {"queue": queue.id}
                    )
                    return {"QueueUrl": url}
                existing = await db.get_queue(tx, ctx.account, ctx.region, name)
            assert existing is not None
            # CreateQueue is idempotent only when every given attribute matches the queue's.
            for key, value in attributes.items():
                current = existing.attributes.get(key, "false" if key == "FifoQueue" else "")
                if current != value:
                    raise QueueNameExists(
                        f"A queue already exists with the same name and a different value for attribute {key}"
                    )
        return {"QueueUrl": url}

    async def get_queue_url(self, ctx: RequestContext, request: GetQueueUrlRequest) -> GetQueueUrlResult:
        account = request.get("QueueOwnerAWSAccountId") or ctx.account
        name = request["QueueName"]
        async with self.store.transaction() as tx:
            queue = await db.get_queue(tx, account, ctx.region, name)
        if queue is None:
            raise _not_found(ctx)
        return {"QueueUrl": model.queue_url(ctx.endpoint, account, name)}

    async def delete_queue(self, ctx: RequestContext, request: DeleteQueueRequest) -> dict[str, Any]:
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=True)
            await db.delete_queue(tx, queue, now)
            await self.timers.cancel(tx, SWEEP_TIMER, str(queue.id))
            tx.notify(queue.channel)  # long polls on it end
        return {}

    async def list_queues(self, ctx: RequestContext, request: ListQueuesRequest) -> ListQueuesResult:
        max_results = request.get("MaxResults")
        if max_results is not None:
            model.check_list_max_results(max_results)
        after = _after_token(request.get("NextToken"))
        limit = max_results or 1000
        async with self.store.transaction() as tx:
            names = await db.list_queue_names(tx, ctx.account, ctx.region, request.get("QueueNamePrefix") or "", after)
        page = names[:limit]
        result: ListQueuesResult = {}
        if page:
            result["QueueUrls"] = [model.queue_url(ctx.endpoint, ctx.account, name) for name in page]
        if max_results is not None and len(names) > limit:
            result["NextToken"] = _page_token(page[-1])
        return result

    async def get_queue_attributes(
        self, ctx: RequestContext, request: GetQueueAttributesRequest
    ) -> GetQueueAttributesResult:
        names = list(request.get("AttributeNames") or [])
        for name in names:
            if name != "All" and name not in model.ALL_QUEUE_ATTRIBUTES:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
        wanted = set(model.ALL_QUEUE_ATTRIBUTES) if "All" in names else set(names)
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])
            counts = None
            if wanted & {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"}:
                counts = await db.counts(tx, queue.id, now, self._oldest_sent(queue, now))
        values: dict[str, str] = dict(queue.attributes)
        values["QueueArn"] = queue.arn
        values["CreatedTimestamp"] = str(queue.created_ms // 1000)
        values["LastModifiedTimestamp"] = str(queue.modified_ms // 1000)
        if counts is not None:
            values["ApproximateNumberOfMessages"] = str(counts[0])
            values["ApproximateNumberOfMessagesNotVisible"] = str(counts[1])
            values["ApproximateNumberOfMessagesDelayed"] = str(counts[2])
        attributes = {name: value for name, value in values.items() if name in wanted}
        return {"Attributes": attributes} if attributes else {}

    async def set_queue_attributes(self, ctx: RequestContext, request: SetQueueAttributesRequest) -> dict[str, Any]:
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=True)
            changes = model.check_attributes(dict(request["Attributes"]), fifo=queue.fifo, creating=False)
            await self._check_redrive(tx, queue.arn, queue.fifo, changes)
            attributes = dict(queue.attributes)
            for name, value in changes.items():
                if value == "" and name in model.OPTIONAL_ATTRIBUTES:
                    attributes.pop(name, None)
                else:
                    attributes[name] = value
            # One kind of server-side encryption at a time: choosing one turns the other off.
            if changes.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in changes:
                attributes["SqsManagedSseEnabled"] = "false"
            elif changes.get("SqsManagedSseEnabled") == "true":
                attributes.pop("KmsMasterKeyId", None)
            if (
                attributes.get("FifoThroughputLimit") == "perMessageGroupId"
                and attributes.get("DeduplicationScope") != "messageGroup"
            ):
                raise InvalidAttributeValue(
                    "Invalid value for the parameter FifoThroughputLimit. Reason: The perMessageGroupId value is "
                    "allowed only when the value for DeduplicationScope is messageGroup"
                )
            await db.update_attributes(tx, queue, attributes, now)
            tx.notify(queue.channel)  # long polls re-read their queue (e.g. a new visibility timeout)
        return {}

    async def purge_queue(self, ctx: RequestContext, request: PurgeQueueRequest) -> dict[str, Any]:
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=True)
            if queue.purged_ms and now - queue.purged_ms < model.PURGE_INTERVAL_MS:
                raise PurgeQueueInProgress(
                    f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds."
                )
            await db.purge(tx, queue.id)
            await db.mark_purged(tx, queue, now)
        return {}

    async def tag_queue(self, ctx: RequestContext, request: TagQueueRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=True)
            tags = {**queue.tags, **request["Tags"]}
            model.check_tags(tags)
            await db.update_tags(tx, queue, tags)
        return {}

    async def untag_queue(self, ctx: RequestContext, request: UntagQueueRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=True)
            tags = {k: v for k, v in queue.tags.items() if k not in set(request["TagKeys"])}
            await db.update_tags(tx, queue, tags)
        return {}

    async def list_queue_tags(self, ctx: RequestContext, request: ListQueueTagsRequest) -> ListQueueTagsResult:
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])
        return {"Tags": dict(queue.tags)} if queue.tags else {}

    async def add_permission(self, ctx: RequestContext, request: AddPermissionRequest) -> dict[str, Any]:
        label = request["Label"]
        model.check_label(label)
        accounts = request["AWSAccountIds"]
        actions = request["Actions"]
        if not accounts:
            raise MissingParameter("The request must contain the parameter AWSAccountIds.")
        if not actions:
            raise MissingParameter("The request must contain the parameter Actions.")
        for action in actions:
            if action not in model.PERMISSION_ACTIONS:
                raise InvalidParameterValue(
                    f"Value SQS:{action} for parameter ActionName is invalid. "
                    "Reason: Please refer to the appropriate WSDL for a list of valid actions."
                )
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=True)
            policy = json.loads(queue.attributes.get("Policy") or "null") or {
                "Version": "2008-10-17",
                "Id": f"{queue.arn}/SQSDefaultPolicy",
                "Statement": [],
            }
            statements = policy.setdefault("Statement", [])
            if any(s.get("Sid") == label for s in statements):
                raise InvalidParameterValue(f"Value {label} for parameter Label is invalid. Reason: Already exists.")
            principals = [f"arn:aws:iam::{account}:root" for account in accounts]
            granted = [f"SQS:{action}" for action in actions]
            statements.append(
                {
                    "Sid": label,
                    "Effect": "Allow",
                    "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                    "Action": granted[0] if len(granted) == 1 else granted,
                    "Resource": queue.arn,
                }
            )
            await db.update_attributes(tx, queue, {**queue.attributes, "Policy": json.dumps(policy)}, now)
        return {}

    async def remove_permission(self, ctx: RequestContext, request: RemovePermissionRequest) -> dict[str, Any]:
        label = request["Label"]
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=True)
            policy = json.loads(queue.attributes.get("Policy") or "null") or {}
            statements = policy.get("Statement") or []
            kept = [s for s in statements if s.get("Sid") != label]
            if len(kept) == len(statements):
                raise InvalidParameterValue(
                    f"Value {label} for parameter Label is invalid. Reason: can't find label."
                )
            attributes = dict(queue.attributes)
            if kept:
                attributes["Policy"] = json.dumps({**policy, "Statement": kept})
            else:
                attributes.pop("Policy", None)
            await db.update_attributes(tx, queue, attributes, now)
        return {}

    async def list_dead_letter_source_queues(
        self, ctx: RequestContext, request: ListDeadLetterSourceQueuesRequest
    ) -> ListDeadLetterSourceQueuesResult:
        max_results = request.get("MaxResults")
        if max_results is not None:
            model.check_list_max_results(max_results)
        after = _after_token(request.get("NextToken"))
        limit = max_results or 1000
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])
            sources = await db.dead_letter_sources(tx, queue.arn, after)
        page = sources[:limit]
        result: ListDeadLetterSourceQueuesResult = {
            "queueUrls": [model.queue_url(ctx.endpoint, q.account, q.name) for q in page]
        }
        if max_results is not None and len(sources) > limit:
            result["NextToken"] = _page_token(page[-1].name)
        return result

    # --- sending ----------------------------------------------------------------------------

    async def send_message(self, ctx: RequestContext, request: SendMessageRequest) -> SendMessageResult:
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"], lock=False)
            builder = MessageBuilder(queue, now, sender_id=await self._sender_id(ctx))
            prepared = builder.prepare(request)
            result = await self._enqueue(tx, queue, [prepared], now)
            if prepared.visible_at <= now:
                tx.notify(queue.channel)
        return result[0]

    async def send_message_batch(self, ctx: RequestContext, request: SendMessageBatchRequest) -> SendMessageBatchResult:
        entries = request["Entries"]
        model.check_batch(entries, "SendMessageBatchRequestEntry")
        now = self.clock.now_ms()
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])
            builder = MessageBuilder(queue, now, sender_id=await self._sender_id(ctx))
            builder.check_batch_fifo_ids(entries)
            prepared: list[PreparedMessage] = []
            total = 0
            for entry in entries:
                try:
                    message = builder.prepare(entry)
                except AwsError as error:
                    failed.append(_failure(entry["Id"], error))
                    continue
                total += message.size
                prepared.append(message)
            if total > model.MAX_MESSAGE_SIZE:
                raise BatchRequestTooLong(
                    f"Batch requests cannot be longer than {model.MAX_MESSAGE_SIZE} bytes. You have sent {total} bytes."
                )
            results = await self._enqueue(tx, queue, prepared, now)
            for message, result in zip(prepared, results, strict=True):
                successful.append({"Id": message.entry_id, **result})
            if any(m.visible_at <= now for m in prepared):
                tx.notify(queue.channel)
        return {"Successful": successful, "Failed": failed}

    async def _enqueue(self, tx: Tx, queue: Queue, messages: list[PreparedMessage], now: int) -> list[dict[str, Any]]:
        """Store prepared messages (FIFO: numbered and deduplicated); answer each one's result."""
        results: list[dict[str, Any]] = []
        fresh: list[db.NewMessage] = []
        for message in messages:
            row = message.row
            if queue.fifo:
                row.seq = await db.next_sequence(tx, queue)
                # Ids are printable ASCII without spaces, so a space separates them unambiguously
                # (PostgreSQL text cannot hold NUL).
                key = f"{row.group_id} {row.dedup_id}" if queue.dedup_per_group else str(row.dedup_id)
                earlier = await db.claim_dedup(
                    tx, queue.id, key, row.message_id, row.seq, now, now + model.DEDUPLICATION_WINDOW_MS
                )
                if earlier is not None:
                    # A duplicate: accepted, not delivered again; AWS answers the first send's id.
                    row.message_id, row.seq = earlier
                else:
                    fresh.append(row)
            else:
                fresh.append(row)
            results.append(message.result())
        if len(fresh) == 1:
            await db.insert_message(tx, queue.id, fresh[0])
        elif fresh:
            await db.insert_messages(tx, queue.id, fresh)
        return results

    # --- receiving --------------------------------------------------------------------------

    async def receive_message(self, ctx: RequestContext, request: ReceiveMessageRequest) -> ReceiveMessageResult:
        limit = request.get("MaxNumberOfMessages", 1)
        model.check_range("MaxNumberOfMessages", limit, 1, model.MAX_BATCH_ENTRIES)
        visibility = request.get("VisibilityTimeout")
        if visibility is not None:
            model.check_range("VisibilityTimeout", visibility, 0, model.MAX_VISIBILITY_TIMEOUT,
                              model.bounds(0, model.MAX_VISIBILITY_TIMEOUT))
        wait = request.get("WaitTimeSeconds")
        if wait is not None:
            model.check_range("WaitTimeSeconds", wait, 0, model.MAX_WAIT_TIME_SECONDS,
                              model.bounds(0, model.MAX_WAIT_TIME_SECONDS))
        system_names = set(request.get("AttributeNames") or ()) | set(request.get("MessageSystemAttributeNames") or ())
        wanted_system = set(model.SYSTEM_ATTRIBUTES) if "All" in system_names else system_names
        attribute_names = list(request.get("MessageAttributeNames") or ())
        attempt_id = request.get("ReceiveRequestAttemptId")
        if attempt_id is not None:
            model.check_fifo_id("ReceiveRequestAttemptId", attempt_id)
        url = request["QueueUrl"]

        deadline: int | None = None
        with ExitStack() as stack:
            subscription: Subscription | None = None
            while True:
                now = self.clock.now_ms()
                async with self.store.transaction() as tx:
                    queue = await db.get_queue(tx, *self._locate(ctx, url))
                    if queue is not None and queue.fifo and tx.dialect == "postgresql":
                        # One FIFO receiver at a time per queue, so two cannot split a message group.
                        queue = await db.get_queue(tx, *self._locate(ctx, url), lock=True)
                    if queue is None:
                        if deadline is None:
                            raise _not_found(ctx)
                        return {}  # deleted while we waited
                    if deadline is None:
                        wait_s = wait if wait is not None else queue.int_attr("ReceiveMessageWaitTimeSeconds")
                        deadline = now + wait_s * 1000
                    vt = visibility if visibility is not None else queue.int_attr("VisibilityTimeout")
                    claimed = []
                    if not await self._at_in_flight_quota(tx, queue.id, now):
                        claimed = await self._claim(tx, queue, now, vt, limit, attempt_id if queue.fifo else None)
                    elif not queue.fifo and now >= deadline:
                        # "Amazon SQS message quotas": a short poll on a standard queue at the
                        # in-flight quota fails; a long poll and FIFO queues just get nothing.
                        raise OverLimit(
                            f"The maximum number of in flight messages ({model.MAX_IN_FLIGHT}) is reached."
                        )
                    wake_at = None
                    if not claimed and now < deadline:
                        wake_at = await db.next_visible_at(tx, queue.id, now)
                if claimed:
                    return {"Messages": [self._render(queue, m, wanted_system, attribute_names) for m in claimed]}
                if now >= deadline:
                    return {}
                if subscription is None:
                    # Subscribe, then check once more: a send committed in between is not missed.
                    subscription = stack.enter_context(self.store.subscribe(queue.channel))
                    continue
                until = min(deadline, wake_at) if wake_at else deadline
                await subscription.wait(min(max((until - now) / 1000, 0.001), POLL_FALLBACK_S))

    async def _at_in_flight_quota(self, tx: Tx, queue_id: int, now: int) -> bool:
        """Whether the queue holds the most in-flight messages SQS allows.

        Counting costs a scan of the in-flight messages, so a count far below the quota is
        trusted for a second; near the quota every receive counts again.
        """
        count, counted_at = self._in_flight.get(queue_id, (0, -IN_FLIGHT_RECOUNT_MS))
        if count < model.MAX_IN_FLIGHT * 0.9 and now - counted_at < IN_FLIGHT_RECOUNT_MS:
            return False
        count = await db.in_flight_count(tx, queue_id, now, model.MAX_IN_FLIGHT)
        self._in_flight[queue_id] = (count, now)
        return count >= model.MAX_IN_FLIGHT

    def _locate(self, ctx: RequestContext, url: str) -> tuple[str, str, str]:
        account, name = model.parse_queue_url(url, ctx.account)
        return account, ctx.region, name

    async def _claim(
        self, tx: Tx, queue: Queue, now: int, vt: int, limit: int, attempt_id: str | None
    ) -> list[db.ClaimedMessage]:
        visible_until = now + vt * 1000
        if attempt_id:
            earlier = await db.get_attempt(tx, queue.id, attempt_id, now)
            if earlier is not None:
                again = await db.messages_by_receipt(tx, queue.id, earlier[1], earlier[0], visible_until)
                if again:
                    for message in again:
                        message.nonce = earlier[0]
                    return again
        nonce = secrets.token_hex(8)
        while True:
            claimed = await db.claim_messages(tx, queue, now, visible_until, nonce, limit, self._oldest_sent(queue, now))
            redrive = queue.redrive
            if not claimed or redrive is None:
                break
            dlq_arn, max_receives = redrive
            over = [m for m in claimed if m.receive_count > max_receives]
            if not over:
                break
            dlq = await db.get_queue_by_arn(tx, dlq_arn)
            if dlq is None:
                break  # the dead-letter queue is gone: keep delivering, as AWS does
            await db.move_to_queue(tx, [m.row for m in over], dlq.id, queue.arn, now)
            tx.notify(dlq.channel)
            claimed = [m for m in claimed if m.receive_count <= max_receives]
            if claimed:
                break
        for message in claimed:
            message.nonce = nonce
        if attempt_id and claimed:
            await db.put_attempt(
                tx, queue.id, attempt_id, nonce, [m.row for m in claimed], now + model.RECEIVE_ATTEMPT_WINDOW_MS
            )
        return claimed

    def _render(
        self, queue: Queue, m: db.ClaimedMessage, wanted_system: set[str], attribute_names: list[str]
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "MessageId": m.message_id,
            "ReceiptHandle": model.receipt_handle(queue.id, m.row, m.nonce),
            "MD5OfBody": m.md5_body,
            "Body": m.body,
        }
        if wanted_system:
            system: dict[str, str] = {}
            trace = json.loads(m.system_attributes).get("AWSTraceHeader") if m.system_attributes else None
            candidates = {
                "SenderId": m.sender_id,
                "SentTimestamp": str(m.sent_ms),
                "ApproximateReceiveCount": str(m.receive_count),
                "ApproximateFirstReceiveTimestamp": str(m.first_receive_ms),
                "SequenceNumber": f"{m.seq:020d}" if queue.fifo and m.seq is not None else None,
                "MessageDeduplicationId": m.dedup_id,
                "MessageGroupId": m.group_id,
                "AWSTraceHeader": trace["StringValue"] if trace else None,
                "DeadLetterQueueSourceArn": m.source_arn,
            }
            for name in wanted_system:
                value = candidates.get(name)
                if value is not None:
                    system[name] = value
            if system:
                message["Attributes"] = system
        if attribute_names and m.attributes:
            every = model.decode_attributes(m.attributes)
            chosen = model.select_attributes(every, attribute_names)
            if chosen:
                message["MessageAttributes"] = chosen
                message["MD5OfMessageAttributes"] = (
                    m.md5_attributes if len(chosen) == len(every) else model.md5_of_attributes(chosen)
                )
        return message

    # --- acknowledging ----------------------------------------------------------------------

    async def delete_message(self, ctx: RequestContext, request: DeleteMessageRequest) -> dict[str, Any]:
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])
            await self._delete(tx, queue, request["ReceiptHandle"], now)
        return {}

    async def delete_message_batch(
        self, ctx: RequestContext, request: DeleteMessageBatchRequest
    ) -> DeleteMessageBatchResult:
        entries = request["Entries"]
        model.check_batch(entries, "DeleteMessageBatchRequestEntry")
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])

            async def delete(entry: dict[str, Any]) -> None:
                await self._delete(tx, queue, entry["ReceiptHandle"], now)

            successful, failed = await _each_entry(entries, delete)
        return {"Successful": successful, "Failed": failed}

    async def _delete(self, tx: Tx, queue: Queue, handle: str, now: int) -> None:
        row, nonce = model.parse_receipt_handle(handle, queue.id)
        if not queue.fifo:
            # A stale handle (the message was received again since) succeeds without deleting,
            # as the SQS API reference documents for DeleteMessage.
            await db.delete_message(tx, queue.id, row, nonce)
            return
        # FIFO: a handle whose visibility timeout has passed (or that a later receive replaced)
        # no longer deletes, and says so; ordering within the group depends on it.
        state = await db.receipt_state(tx, queue.id, row, nonce)
        if state is None:
            return
        if not state.current or state.visible_at <= now:
            raise model.receipt_handle_expired(handle)
        await db.delete_message(tx, queue.id, row, nonce)

    async def change_message_visibility(
        self, ctx: RequestContext, request: ChangeMessageVisibilityRequest
    ) -> dict[str, Any]:
        visibility = request["VisibilityTimeout"]
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])
            await self._change_visibility(tx, queue, request["ReceiptHandle"], visibility, now)
        return {}

    async def change_message_visibility_batch(
        self, ctx: RequestContext, request: ChangeMessageVisibilityBatchRequest
    ) -> ChangeMessageVisibilityBatchResult:
        entries = request["Entries"]
        model.check_batch(entries, "ChangeMessageVisibilityBatchRequestEntry")
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            queue = await self._queue(tx, ctx, request["QueueUrl"])

            async def change(entry: dict[str, Any]) -> None:
                visibility = entry.get("VisibilityTimeout")
                if visibility is None:
                    raise MissingParameter("The request must contain the parameter VisibilityTimeout.")
                await self._change_visibility(tx, queue, entry["ReceiptHandle"], visibility, now)

            successful, failed = await _each_entry(entries, change)
        return {"Successful": successful, "Failed": failed}

    async def _change_visibility(self, tx: Tx, queue: Queue, handle: str, visibility: int, now: int) -> None:
        model.check_range("VisibilityTimeout", visibility, 0, model.MAX_VISIBILITY_TIMEOUT)
        row, nonce = model.parse_receipt_handle(handle, queue.id)
        state = await db.receipt_state(tx, queue.id, row, nonce)
        if state is None or not state.current:
            raise model.not_available_for_visibility_change(handle)
        # A standard queue accepts the latest handle even once its timeout has passed (the
        # message is hidden again); a FIFO message whose timeout passed is no longer in flight.
        if queue.fifo and state.visible_at <= now:
            raise MessageNotInflight("Message does not exist or is not available for visibility timeout change.")
        if state.received_ms is not None:
            model.check_total_visibility(visibility, now - state.received_ms)
        await db.set_visible_at(tx, row, now + visibility * 1000)
        if visibility == 0:
            tx.notify(queue.channel)

    # --- timers -----------------------------------------------------------------------------

    async def _on_sweep(self, timer: Timer) -> None:
        """Drop what retention and the deduplication window let go, then come back in a minute."""
        async with self.store.transaction() as tx:
            queue = await db.get_queue_by_id(tx, int(timer.key))
            if queue is None:
                return
            now = self.clock.now_ms()
            await db.sweep(tx, queue.id, self._oldest_sent(queue, now), now)
            await db.forget_deleted_names(tx, now - model.DELETED_NAME_HOLD_MS)
            await self.timers.schedule(tx, SWEEP_TIMER, timer.key, now + SWEEP_INTERVAL_MS, timer.payload)


async def _each_entry(
    entries: list[Any], action: Callable[[dict[str, Any]], Awaitable[None]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(successful, failed) entries of a batch: an entry's AwsError fails that entry, not the batch."""
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            await action(entry)
        except AwsError as error:
            failed.append(_failure(entry["Id"], error))
            continue
        successful.append({"Id": entry["Id"]})
    return successful, failed


def _failure(entry_id: str, error: AwsError) -> dict[str, Any]:
    return {"Id": entry_id, "SenderFault": error.sender_fault, "Code": error.code, "Message": error.message}
