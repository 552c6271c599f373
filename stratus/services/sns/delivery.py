"""Delivering published messages to subscriptions, durably and after Publish has answered.

Publish writes, in its own transaction, one durable timer per (message, subscription) of a
standard topic, or one backlog row per subscription of a FIFO topic plus a "drain" timer
for that subscription (so a group's messages arrive in order). A message Publish accepted
is therefore delivered even if the process dies right after answering.

Each attempt follows the subscription's retry policy (the DeliveryPolicy of HTTP/S
subscriptions, AWS's fixed policy for AWS-managed endpoints) on the stratus clock. Client
errors (a deleted queue, a 4xx answer) are not retried. A message whose retries are spent,
or that failed with a client error, goes to the subscription's RedrivePolicy dead-letter
queue with the RequestID, ErrorCode and ErrorMessage attributes SNS sets, or is dropped.

What is delivered: sqs (SendMessage through the internal client), lambda (an asynchronous
Invoke with the SNS event), http/https (a POST with SNS's headers), email, email-json and
sms (captured in ``sns_captured``; nothing is sent). firehose and application
(mobile push) subscriptions are kept but nothing is delivered to them.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from stratus.aws.arns import parse_arn, queue_url
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.engine.timers import Timer
from stratus.services.events.patterns import Pattern, PatternError
from stratus.services.events.patterns import compile as compile_pattern
from stratus.services.sns import model
from stratus.services.sns import store as db
from stratus.services.sns.model import Published
from stratus.services.sns.signing import SigningKey
from stratus.services.sns.store import Subscription, Topic
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.node import Node

log = logging.getLogger("stratus.sns.delivery")

DELIVER_TIMER = "sns.deliver"
DRAIN_TIMER = "sns.drain"
CONFIRM_TIMER = "sns.confirm"
HTTP_TIMEOUT_S = 15
# Protocols nothing is delivered to (see the module docstring).
NOT_DELIVERED = frozenset({"firehose", "application"})
_DRAIN_BATCH = 10
_CONFIRM_ATTEMPTS = 3


class DeliveryFailed(Exception):
    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


def iso_timestamp(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def subscribe_url(endpoint: str, topic_arn: str, token: str) -> str:
    return (f"{endpoint}/_stratus/sns/confirm?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}"
            f"&Token={token}")


def unsubscribe_url(endpoint: str, subscription_arn: str) -> str:
    return f"{endpoint}/_stratus/sns/unsubscribe?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn, safe='')}"


def retry_policy(sub: Subscription, topic: Topic | None) -> dict[str, Any]:
    if sub.protocol not in ("http", "https"):
        return model.MANAGED_RETRY_POLICY
    policy = dict(model.DEFAULT_HEALTHY_RETRY_POLICY)
    if topic is not None and topic.attributes.get("DeliveryPolicy"):
        topic_policy = json.loads(topic.attributes["DeliveryPolicy"]).get("http", {})
        policy.update(topic_policy.get("defaultHealthyRetryPolicy") or {})
        if topic_policy.get("disableSubscriptionOverrides"):
            return policy
    if sub.attributes.get("DeliveryPolicy"):
        policy.update(json.loads(sub.attributes["DeliveryPolicy"]).get("healthyRetryPolicy") or {})
    return policy


class Filters:
    """Compiled filter policies, shared by every publish (a policy compiles once)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Pattern] = {}

    def compile(self, policy: str, scope: str) -> Pattern:
        key = (policy, scope)
        pattern = self._cache.get(key)
        if pattern is None:
            pattern = compile_pattern(policy, dialect="sns", scope=scope)  # type: ignore[arg-type]
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = pattern
        return pattern

    def accepts(self, sub: Subscription, published: Published) -> bool:
        policy = sub.attributes.get("FilterPolicy")
        if not policy:
            return True
        scope = sub.attributes.get("FilterPolicyScope", "MessageAttributes")
        try:
            pattern = self.compile(policy, scope)
        except PatternError:
            return False
        if scope == "MessageBody":
            return pattern.matches_message_body(published.message_for(sub.protocol))
        return pattern.matches_attributes(published.attributes)


class Delivery:
    def __init__(self, node: Node, signing_key: Callable[[], SigningKey]) -> None:
        self.node = node
        self.store = node.store
        self.clock = node.clock
        self.timers = node.timers
        self.filters = Filters()
        self._signing_key = signing_key
        # One drain per FIFO subscription at a time on this node: a drain timer rescheduled
        # by a new Publish while it runs fires again, and must not overtake the running one.
        self._drains: dict[str, asyncio.Lock] = {}

    def register(self) -> None:
        self.timers.on(DELIVER_TIMER, self._on_deliver)
        self.timers.on(DRAIN_TIMER, self._on_drain)
        self.timers.on(CONFIRM_TIMER, self._on_confirm)

    # --- scheduling (inside the Publish / Subscribe transaction) ----------------------------

    async def enqueue(self, tx: Tx, topic: Topic, published: Published, endpoint: str) -> None:
        now = self.clock.now_ms()
        for sub in await db.topic_subscriptions(tx, topic.arn):
            if not sub.confirmed or sub.protocol in NOT_DELIVERED or not self.filters.accepts(sub, published):
                continue
            payload = {"sub": sub.arn, "msg": published.to_json(), "endpoint": endpoint}
            if topic.fifo:
                await db.push_backlog(tx, sub.arn, payload)
                await self.timers.schedule(tx, DRAIN_TIMER, sub.arn, now, {"retry": 0})
            else:
                await self.timers.schedule(tx, DELIVER_TIMER, f"{published.message_id}/{sub.arn}", now,
                                           {**payload, "retry": 0})

    async def request_confirmation(self, tx: Tx, sub: Subscription, endpoint: str) -> None:
        """HTTP/S: POST the SubscriptionConfirmation after Subscribe answered. Email: capture it now."""
        assert sub.token is not None
        if sub.protocol in ("http", "https"):
            await self.timers.schedule(tx, CONFIRM_TIMER, sub.arn, self.clock.now_ms(), {"endpoint": endpoint})
            return
        envelope = self.confirmation_envelope(sub, endpoint)
        if sub.protocol == "email":
            body = envelope["Message"] + "\n" + envelope["SubscribeURL"]
        else:
            body = json.dumps(envelope)
        await db.capture(tx, db.Captured(sub.account, sub.region, sub.protocol, sub.endpoint, sub.topic_arn, sub.arn,
                                         "SubscriptionConfirmation", "AWS Notification - Subscription Confirmation",
                                         body), self.clock.now_ms())

    # --- envelopes -------------------------------------------------------------------------

    def _signed(self, envelope: dict[str, Any], endpoint: str, version: str) -> dict[str, Any]:
        key = self._signing_key()
        envelope["SignatureVersion"] = version
        envelope["Signature"] = key.sign(envelope, version)
        envelope["SigningCertURL"] = f"{endpoint}/_stratus/sns/{key.cert_file}"
        return envelope

    def notification(
        self, sub: Subscription, published: Published, endpoint: str, version: str = "1"
    ) -> dict[str, Any]:
        """The JSON envelope SNS delivers when raw delivery is off, in AWS's field order."""
        envelope: dict[str, Any] = {"Type": "Notification", "MessageId": published.message_id}
        if published.sequence is not None:
            envelope["SequenceNumber"] = published.sequence
        envelope["TopicArn"] = published.topic_arn
        if published.subject is not None:
            envelope["Subject"] = published.subject
        envelope["Message"] = published.message_for(sub.protocol)
        envelope["Timestamp"] = published.timestamp
        # FIFO topics deliver their envelopes unsigned (no SignatureVersion, Signature, SigningCertURL).
        signed = envelope if published.sequence is not None else self._signed(envelope, endpoint, version)
        signed["UnsubscribeURL"] = unsubscribe_url(endpoint, sub.arn)
        if published.attributes:
            signed["MessageAttributes"] = {
                name: {"Type": a["DataType"], "Value": a.get("StringValue", a.get("BinaryValue"))}
                for name, a in published.attributes.items()
            }
        return signed

    def confirmation_envelope(self, sub: Subscription, endpoint: str) -> dict[str, Any]:
        assert sub.token is not None
        envelope = {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": sub.token,
            "TopicArn": sub.topic_arn,
            "Message": f"You have chosen to subscribe to the topic {sub.topic_arn}.\n"
                       "To confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": subscribe_url(endpoint, sub.topic_arn, sub.token),
            "Timestamp": iso_timestamp(self.clock.now_ms()),
        }
        return self._signed(envelope, endpoint, "1")

    # --- timer handlers --------------------------------------------------------------------

    async def _load(self, sub_arn: str) -> tuple[Subscription | None, Topic | None]:
        async with self.store.transaction() as tx:
            sub = await db.get_subscription(tx, sub_arn)
            topic = await db.get_topic(tx, sub.topic_arn) if sub else None
        return sub, topic

    async def _on_deliver(self, timer: Timer) -> None:
        sub, topic = await self._load(timer.payload["sub"])
        if sub is None or not sub.confirmed:
            return  # unsubscribed since: SNS stops delivering to it
        published = Published.from_json(timer.payload["msg"])
        endpoint = timer.payload["endpoint"]
        try:
            await self.send(sub, topic, published, endpoint)
        except DeliveryFailed as failure:
            retry = timer.payload["retry"] + 1
            delay = model.retry_delay_s(retry_policy(sub, topic), retry)
            if failure.retryable and delay is not None:
                async with self.store.transaction() as tx:
                    await self.timers.schedule(tx, DELIVER_TIMER, timer.key, self.clock.now_ms() + int(delay * 1000),
                                               {**timer.payload, "retry": retry})
                return
            await self.dead_letter(sub, topic, published, endpoint, failure)

    async def _on_drain(self, timer: Timer) -> None:
        sub_arn = timer.key
        lock = self._drains.setdefault(sub_arn, asyncio.Lock())
        async with lock:
            retry = timer.payload.get("retry", 0)
            while True:
                async with self.store.transaction() as tx:
                    sub = await db.get_subscription(tx, sub_arn)
                    topic = await db.get_topic(tx, sub.topic_arn) if sub else None
                    rows = await db.backlog(tx, sub_arn, _DRAIN_BATCH) if sub else []
                if sub is None or not rows:
                    self._drains.pop(sub_arn, None)
                    return
                for row_id, payload in rows:
                    published = Published.from_json(payload["msg"])
                    try:
                        await self.send(sub, topic, published, payload["endpoint"])
                    except DeliveryFailed as failure:
                        delay = model.retry_delay_s(retry_policy(sub, topic), retry + 1)
                        if failure.retryable and delay is not None:
                            # The group waits: later messages must not overtake this one.
                            async with self.store.transaction() as tx:
                                await self.timers.schedule(tx, DRAIN_TIMER, sub_arn,
                                                           self.clock.now_ms() + int(delay * 1000),
                                                           {"retry": retry + 1})
                            return
                        await self.dead_letter(sub, topic, published, payload["endpoint"], failure)
                    retry = 0
                    async with self.store.transaction() as tx:
                        await db.pop_backlog(tx, row_id)

    async def _on_confirm(self, timer: Timer) -> None:
        sub, _ = await self._load(timer.key)
        if sub is None or sub.confirmed or sub.token is None:
            return
        envelope = self.confirmation_envelope(sub, timer.payload["endpoint"])
        headers = _sns_headers("SubscriptionConfirmation", envelope["MessageId"], sub.topic_arn, None)
        try:
            await _post(sub.endpoint, json.dumps(envelope).encode(), headers)
        except DeliveryFailed:
            if timer.attempts + 1 >= _CONFIRM_ATTEMPTS:
                log.warning("could not deliver the subscription confirmation to %s", sub.endpoint)
                return
            raise  # the timers retry it with their backoff

    # --- sending ---------------------------------------------------------------------------

    def _context(self, topic_arn: str, endpoint: str, trace: str | None) -> RequestContext:
        parts = parse_arn(topic_arn, "sns")
        assert parts is not None
        url = urlsplit(endpoint)
        ctx = RequestContext(account=parts.account, region=parts.region, request_id=str(uuid.uuid4()),
                             host=url.netloc or "localhost:4566", scheme=url.scheme or "http",
                             trace_header=trace, source_arn=topic_arn, internal=True)
        ctx.client = self.node.client(ctx)
        return ctx

    async def send(self, sub: Subscription, topic: Topic | None, published: Published, endpoint: str) -> None:
        """Deliver one message to one subscription once; raise DeliveryFailed when the endpoint refused it."""
        version = (topic.attributes.get("SignatureVersion") if topic else None) or "1"
        if sub.protocol == "sqs":
            ctx = self._context(published.topic_arn, endpoint, published.trace)
            if sub.raw:
                body = published.message_for("sqs")
            else:
                body = json.dumps(self.notification(sub, published, endpoint, version))
            await _send_sqs(ctx, sub.endpoint, body, published, raw_attributes=sub.raw)
        elif sub.protocol == "lambda":
            ctx = self._context(published.topic_arn, endpoint, published.trace)
            await _invoke_lambda(ctx, sub, self.notification(sub, published, endpoint, version))
        elif sub.protocol in ("http", "https"):
            if sub.raw:
                body = published.message_for(sub.protocol).encode()
            else:
                body = json.dumps(self.notification(sub, published, endpoint, version)).encode()
            headers = _sns_headers("Notification", published.message_id, published.topic_arn, sub.arn)
            if sub.raw:
                headers["x-amz-sns-rawdelivery"] = "true"
            if published.trace:
                headers["X-Amzn-Trace-Id"] = published.trace
            await _post(sub.endpoint, body, headers)
        elif sub.protocol in ("email", "email-json", "sms"):
            if sub.protocol == "email-json":
                body = json.dumps(self.notification(sub, published, endpoint, version))
            else:
                body = published.message_for(sub.protocol)
            async with self.store.transaction() as tx:
                await db.capture(tx, db.Captured(sub.account, sub.region, sub.protocol, sub.endpoint, sub.topic_arn,
                                                 sub.arn, "Notification", published.subject, body), self.clock.now_ms())

    async def dead_letter(self, sub: Subscription, topic: Topic | None, published: Published, endpoint: str,
                          failure: DeliveryFailed) -> None:
        raw_policy = sub.attributes.get("RedrivePolicy")
        if not raw_policy:
            log.info("dropped message %s for %s: %s", published.message_id, sub.arn, failure.message)
            return
        dlq_arn = json.loads(raw_policy)["deadLetterTargetArn"]
        ctx = self._context(published.topic_arn, endpoint, published.trace)
        version = (topic.attributes.get("SignatureVersion") if topic else None) or "1"
        if sub.raw or sub.protocol not in ("sqs", "http", "https", "lambda"):
            body = published.message_for(sub.protocol)
        else:
            body = json.dumps(self.notification(sub, published, endpoint, version))
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": ctx.request_id},
            "ErrorCode": {"DataType": "String", "StringValue": failure.code},
            "ErrorMessage": {"DataType": "String", "StringValue": failure.message[:1000] or failure.code},
        }
        try:
            await _send_sqs(ctx, dlq_arn, body, published, extra_attributes=attributes)
        except DeliveryFailed as error:
            if error.retryable:
                raise  # the timers retry the whole step with their backoff
            log.warning("dead-letter queue %s refused message %s: %s", dlq_arn, published.message_id, error.message)


def _sns_headers(kind: str, message_id: str, topic_arn: str, sub_arn: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }
    if sub_arn is not None:
        headers["x-amz-sns-subscription-arn"] = sub_arn
    return headers


def _queue_url(ctx: RequestContext, queue_arn: str) -> str:
    parts = parse_arn(queue_arn, "sqs")
    if parts is None:
        raise DeliveryFailed("InvalidParameter", f"Invalid SQS endpoint ARN {queue_arn}", retryable=False)
    return queue_url(ctx.endpoint, parts.account, parts.resource)


def _failure(error: AwsError) -> DeliveryFailed:
    # Client faults (no such queue, no permission, bad attributes) are not retried; server faults are.
    retryable = not error.sender_fault or error.status == 429 or "Throttl" in error.code
    return DeliveryFailed(error.query_code or error.code, error.message, retryable=retryable)


async def _send_sqs(ctx: RequestContext, queue_arn: str, body: str, published: Published, *,
                    raw_attributes: bool = False, extra_attributes: dict[str, dict[str, Any]] | None = None) -> None:
    request: dict[str, Any] = {"QueueUrl": _queue_url(ctx, queue_arn), "MessageBody": body}
    attributes: dict[str, dict[str, Any]] = {}
    if raw_attributes:
        for name, a in published.attributes.items():
            if "BinaryValue" in a:
                attributes[name] = {"DataType": a["DataType"], "BinaryValue": base64.b64decode(a["BinaryValue"])}
            else:
                attributes[name] = {"DataType": a["DataType"], "StringValue": a["StringValue"]}
    attributes.update(extra_attributes or {})
    if attributes:
        request["MessageAttributes"] = attributes
    if ctx.trace_header:
        request["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": ctx.trace_header}}
    if queue_arn.endswith(".fifo") and published.group_id is not None:
        request["MessageGroupId"] = published.group_id
        if published.dedup_id is not None:
            request["MessageDeduplicationId"] = published.dedup_id
    assert ctx.client is not None
    try:
        await ctx.client.sqs(source_arn=published.topic_arn).send_message(request)
    except AwsError as error:
        raise _failure(error) from None


async def _invoke_lambda(ctx: RequestContext, sub: Subscription, envelope: dict[str, Any]) -> None:
    record = {
        "Type": envelope["Type"],
        "MessageId": envelope["MessageId"],
        "TopicArn": envelope["TopicArn"],
        "Subject": envelope.get("Subject"),
        "Message": envelope["Message"],
        "Timestamp": envelope["Timestamp"],
        "SignatureVersion": envelope.get("SignatureVersion"),
        "Signature": envelope.get("Signature"),
        "SigningCertUrl": envelope.get("SigningCertURL"),
        "UnsubscribeUrl": envelope["UnsubscribeURL"],
        "MessageAttributes": envelope.get("MessageAttributes", {}),
    }
    event = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": sub.arn,
                          "Sns": record}]}
    assert ctx.client is not None
    try:
        client = ctx.client.lambda_(source_arn=sub.topic_arn)
    except AttributeError as missing:  # the service is not part of this stratus: a server-side failure
        raise DeliveryFailed("ServiceUnavailable", str(missing), retryable=True) from None
    try:
        await client.invoke({"FunctionName": sub.endpoint, "InvocationType": "Event",
                             "Payload": json.dumps(event).encode()})
    except AwsError as error:
        raise _failure(error) from None


async def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST to an HTTP/S endpoint; 2xx is delivered, 5xx and network errors are retried, other answers are not."""
    status, reason = await asyncio.to_thread(_blocking_post, url, body, headers)
    if 200 <= status < 300:
        return
    if status == 0:
        raise DeliveryFailed("ConnectionError", reason, retryable=True)
    raise DeliveryFailed(f"HTTP{status}", f"The endpoint answered HTTP {status}: {reason}", retryable=status >= 500)


def _blocking_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 -- the subscriber's URL
            return response.status, response.reason
    except urllib.error.HTTPError as error:
        return error.code, str(error.reason)
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error)
