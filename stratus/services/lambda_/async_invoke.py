"""Asynchronous invocation: a durable queue of events per function, retries, destinations, DLQs.

Invoke (Event) writes the event row and its timer in one transaction and answers 202 after
commit. The timer runs the event (any node may claim it); what happens next follows the
developer guide ("Error handling and automatic retries" / "Capturing records of asynchronous
invocations"):
- a function error is retried ``MaximumRetryAttempts`` times (default 2), about one minute and
  then two minutes later;
- a throttle or a system error goes back to the queue with exponential backoff (1 s doubling
  to 5 minutes) for as long as the event is younger than ``MaximumEventAgeInSeconds`` (6 h);
- then the invocation record goes to the OnSuccess / OnFailure destination, or a failed event
  to the function's dead-letter queue (SQS or SNS) with RequestID, ErrorCode, ErrorMessage.
Every delay is a timer on the stratus clock, so an event survives a restart between retries.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from stratus.aws.arns import parse_arn_strict
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.engine.timers import Timer
from stratus.services.lambda_ import model
from stratus.services.lambda_ import store as db
from stratus.services.lambda_.invoke import Throttled
from stratus.services.lambda_.model import Version
from stratus.services.lambda_.runtime.spec import InvokeResult

if TYPE_CHECKING:
    from stratus.services.lambda_.provider import LambdaProvider

log = logging.getLogger("stratus.lambda.async")

ASYNC_TIMER = "lambda.async"
_MAX_BACKOFF_MS = 300_000


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


class AsyncInvocations:
    def __init__(self, provider: LambdaProvider) -> None:
        self.p = provider

    def start(self) -> None:
        self.p.timers.on(ASYNC_TIMER, self._on_event)

    async def enqueue(self, ctx: RequestContext, version: Version, qualifier: str, payload: bytes) -> str:
        # Internal callers (EventBridge, SNS) may invoke several functions under one request id.
        event_id = str(uuid.uuid4()) if ctx.internal or not ctx.request_id else ctx.request_id
        f = version.function
        now = self.p.clock.now_ms()
        async with self.p.store.transaction() as tx:
            await db.insert_event(tx, event_id, f.account, f.region, f.name, qualifier, payload, now, ctx.trace_header)
            await self.p.timers.schedule(tx, ASYNC_TIMER, event_id, now, {"backoff": 0})
        return event_id

    async def _settings(self, version: Version, qualifier: str) -> dict[str, Any]:
        async with self.p.store.transaction() as tx:
            return await db.get_setting(tx, version.function, "event-invoke", qualifier) or {}

    async def _on_event(self, timer: Timer) -> None:
        async with self.p.store.transaction() as tx:
            event = await db.get_event(tx, timer.key)
        if event is None:
            return  # done, or its function was deleted
        ref = model.FunctionRef(event["account"], event["region"], event["function_name"], event["qualifier"])
        ctx = RequestContext(account=ref.account, region=ref.region, request_id=event["id"], trace_header=event["trace_header"])
        ctx.client = self.p.node.client(ctx)
        try:
            version = await self.p.resolve_for_invoke(ref)
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                await self._forget(event["id"])
                return
            await self._retry_later(event, timer, None, exc)
            return
        settings = await self._settings(version, ref.qualifier or model.LATEST)
        max_age_ms = settings.get("MaximumEventAgeInSeconds", model.DEFAULT_EVENT_AGE_S) * 1000
        max_retries = settings.get("MaximumRetryAttempts", model.DEFAULT_RETRIES)
        if self.p.clock.now_ms() - event["created_ms"] > max_age_ms:
            await self._finish(ctx, event, version, settings, None, "EventAgeExceeded")
            return
        try:
            result = await self.p.run(ctx, version, event["payload"], request_id=event["id"])
        except (Throttled, AwsError, OSError) as exc:
            await self._retry_later(event, timer, settings, exc)
            return
        event["invoke_count"] += 1
        if not result.function_error:
            await self._finish(ctx, event, version, settings, result, "Success")
            return
        retries = event["error_retries"]
        if retries < max_retries:
            due = self.p.clock.now_ms() + model.FUNCTION_ERROR_DELAYS_MS[min(retries, len(model.FUNCTION_ERROR_DELAYS_MS) - 1)]
            if due - event["created_ms"] <= max_age_ms:
                async with self.p.store.transaction() as tx:
                    await db.update_event(tx, event["id"], event["invoke_count"], retries + 1)
                    await self.p.timers.schedule(tx, ASYNC_TIMER, event["id"], due, {"backoff": 0})
                return
            await self._finish(ctx, event, version, settings, result, "EventAgeExceeded")
            return
        await self._finish(ctx, event, version, settings, result, "RetriesExhausted")

    async def _retry_later(self, event: dict[str, Any], timer: Timer, settings: dict[str, Any] | None, exc: Exception) -> None:
        """Throttles and system errors: back to the queue with exponential backoff, within the event's age."""
        backoff = int(timer.payload.get("backoff", 0))
        due = self.p.clock.now_ms() + min(1000 * 2**backoff, _MAX_BACKOFF_MS)
        max_age_ms = (settings or {}).get("MaximumEventAgeInSeconds", model.DEFAULT_EVENT_AGE_S) * 1000
        log.info("async event %s not run (%s); retrying", event["id"], exc)
        async with self.p.store.transaction() as tx:
            if due - event["created_ms"] > max_age_ms:
                # Too old by its next try: one last attempt at its deadline finds it expired and reports it.
                due = event["created_ms"] + max_age_ms + 1
            await self.p.timers.schedule(tx, ASYNC_TIMER, event["id"], due, {"backoff": backoff + 1})

    async def _forget(self, event_id: str) -> None:
        async with self.p.store.transaction() as tx:
            await db.delete_event(tx, event_id)

    def record(self, event: dict[str, Any], version: Version, result: InvokeResult | None, condition: str) -> dict[str, Any]:
        """The invocation record AWS sends to destinations."""
        out: dict[str, Any] = {
            "version": "1.0",
            "timestamp": model.iso_utc(self.p.clock.now_ms()),
            "requestContext": {
                "requestId": event["id"],
                "functionArn": version.arn,
                "condition": condition,
                "approximateInvokeCount": event["invoke_count"],
            },
            "requestPayload": _json_or_text(event["payload"]),
        }
        if result is not None:
            response: dict[str, Any] = {"statusCode": 200, "executedVersion": version.version}
            if result.function_error:
                response["functionError"] = result.function_error
            out["responseContext"] = response
            out["responsePayload"] = _json_or_text(result.payload)
        return out

    async def _finish(
        self, ctx: RequestContext, event: dict[str, Any], version: Version, settings: dict[str, Any],
        result: InvokeResult | None, condition: str,
    ) -> None:
        success = condition == "Success"
        destination = (settings.get("destinations", {}).get("OnSuccess" if success else "OnFailure") or {}).get("Destination")
        try:
            if destination:
                body = json.dumps(self.record(event, version, result, condition), separators=(",", ":"))
                await self._deliver(ctx, destination, body, version, success)
            elif not success and version.config.get("DeadLetterConfig", {}).get("TargetArn"):
                await self._dead_letter(ctx, version.config["DeadLetterConfig"]["TargetArn"], event, result)
        except AwsError as exc:
            # DestinationDeliveryFailures / DeadLetterErrors on AWS: the event is dropped, not retried.
            log.warning("async event %s of %s: delivery to %s failed: %s", event["id"], version.arn, destination, exc)
        if not success:
            self.p.count(version, async_dropped=1)
        await self._forget(event["id"])

    async def _deliver(self, ctx: RequestContext, arn: str, body: str, version: Version, success: bool) -> None:
        # Destinations were checked when they were configured.
        service = parse_arn_strict(arn).service
        client = self.p.node.client(ctx)
        if service == "sqs":
            await self._send_sqs(client, arn, body, None)
        elif service == "sns":
            await client.sns.publish({"TopicArn": arn, "Message": body})
        elif service == "lambda":
            await client.lambda_.invoke({"FunctionName": arn, "InvocationType": "Event", "Payload": body.encode()})
        elif service == "events":
            outcome = "Success" if success else "Failure"
            await client.events.put_events({"Entries": [{
                "Source": "lambda", "DetailType": f"Lambda Function Invocation Result - {outcome}", "Detail": body,
                "EventBusName": arn, "Resources": [version.arn],
            }]})

    @staticmethod
    async def _send_sqs(client: Any, arn: str, body: str, attributes: dict[str, Any] | None) -> None:
        queue = parse_arn_strict(arn, "sqs")
        sqs = client.sqs(account=queue.account, region=queue.region)
        url = (await sqs.get_queue_url({"QueueName": queue.resource, "QueueOwnerAWSAccountId": queue.account}))["QueueUrl"]
        request: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
        if attributes:
            request["MessageAttributes"] = attributes
        await sqs.send_message(request)

    async def _dead_letter(self, ctx: RequestContext, arn: str, event: dict[str, Any], result: InvokeResult | None) -> None:
        message = "Event age exceeded" if result is None else ""
        if result is not None and result.function_error:
            error = _json_or_text(result.payload)
            message = str(error.get("errorMessage", "")) if isinstance(error, dict) else str(error)
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event["id"]},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": message[:1024] or "Unknown"},
        }
        body = event["payload"].decode(errors="replace")
        client = self.p.node.client(ctx)
        if parse_arn_strict(arn).service == "sqs":
            await self._send_sqs(client, arn, body, attributes)
        else:
            await client.sns.publish({"TopicArn": arn, "Message": body, "MessageAttributes": attributes})
