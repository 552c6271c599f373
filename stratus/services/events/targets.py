"""Sending one payload to one target ARN: shared by EventBridge rules and EventBridge Scheduler.

``await send_to_target(ctx, arn, payload, options)`` delivers ``payload`` (the text the
target receives: the event, or what ``Input``/``InputPath``/``InputTransformer`` made of it)
to the resource ``arn`` names, through the internal client, in the account and region of
that ARN. It returns when the target accepted the payload and raises ``AwsError`` when it
did not -- the error the target service answered, or a ``TargetError`` for targets stratus
cannot reach -- so the caller applies its own retry policy and dead-letter queue
(``is_retryable(error)`` tells which failures AWS retries).

Targets, by the ARN's service:
- ``sqs``: SendMessage with ``payload`` as the body; FIFO queues get
  ``options.message_group_id`` and ``options.deduplication_id`` (EventBridge uses the event id).
- ``sns``: Publish with ``payload`` as the message (FIFO topics: group and deduplication ids too).
- ``events`` (an event bus, also in another account): PutEvents on that bus. With
  ``options.event_source``/``event_detail_type`` set (Scheduler's EventBridgeParameters)
  ``payload`` is the Detail; otherwise ``payload`` is a whole event (a rule forwarding it),
  re-put with its source, detail-type, detail, resources and time.
- ``lambda``: Invoke with InvocationType Event. ``states``: StartExecution with ``payload`` as
  the input. ``logs`` (a log group): PutLogEvents into the stream ``options.log_stream``
  (created if missing) at ``options.timestamp_ms`` (callers set both). These go through the internal client, so they work the moment
  those services exist; until then the call fails and follows the caller's retry policy.
- ``events`` API destinations and other services: ``TargetError`` (not supported yet).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratus.aws.arns import Arn, parse_arn, queue_url
from stratus.aws.client import ServiceClient
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.aws.protocol.timestamps import parse_timestamp


@dataclass(frozen=True, slots=True)
class TargetOptions:
    """How to deliver to a target, beyond its ARN (the subset of target parameters that applies)."""

    # SQS / SNS FIFO: SqsParameters.MessageGroupId; the deduplication id EventBridge sets is the event id.
    message_group_id: str | None = None
    deduplication_id: str | None = None
    # An EventBridge bus target from Scheduler (EventBridgeParameters): payload becomes the Detail.
    event_source: str | None = None
    event_detail_type: str | None = None
    # API destinations (HttpParameters): path parameters, header and query string parameters.
    http_parameters: Mapping[str, Any] | None = None
    # The role the target is called with (RoleArn); kept for when IAM enforcement checks it.
    role_arn: str | None = None
    # The rule or schedule ARN the call is made on behalf of (the callee sees it as the source).
    source_arn: str | None = None
    # CloudWatch Logs targets: the stream and the log event's timestamp (the event's time).
    log_stream: str | None = None
    timestamp_ms: int | None = None


class TargetError(AwsError):
    """A target stratus cannot deliver to (a malformed ARN, an unsupported kind of target)."""

    code = "TargetNotSupported"
    status = 400


def parse_target_arn(arn: str) -> Arn:
    parsed = parse_arn(arn)
    if parsed is None:
        raise TargetError(f"Target ARN {arn!r} is not a valid ARN.", code="ValidationException")
    return parsed


async def send_to_dead_letter_queue(ctx: RequestContext, queue: Arn, body: str, attributes: dict[str, Any],
                                    source_arn: str) -> None:
    """Send what a target did not take to the SQS queue ``queue``, in that queue's account and region."""
    assert ctx.client is not None, "send_to_dead_letter_queue needs a context with an internal client"
    await ctx.client.sqs(account=queue.account, region=queue.region, source_arn=source_arn).send_message(
        {"QueueUrl": queue_url(ctx.endpoint, queue.account, queue.resource), "MessageBody": body,
         "MessageAttributes": attributes})


# Failures that AWS does not retry: the target is gone or the caller may not use it
# (EventBridge user guide, "Event retry policy and using dead-letter queues").
_NOT_RETRIED = frozenset({
    "ResourceNotFoundException", "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
    "NotFound", "NotFoundException", "AccessDenied", "AccessDeniedException", "AuthorizationError",
    "KMSAccessDeniedException", "StateMachineDoesNotExist", "InvalidArn", "TargetNotSupported",
    "ValidationException", "InvalidParameter", "InvalidParameterValue", "InvalidRequestContentException",
    "RequestEntityTooLargeException", "InvalidMessageContents", "StateMachineDeleting",
})


def is_retryable(error: AwsError) -> bool:
    """Whether AWS retries a delivery that failed with ``error`` (throttling, server faults) or dead-letters it at once."""
    return error.code not in _NOT_RETRIED


def _client(ctx: RequestContext, service: str, target: Arn, options: TargetOptions) -> ServiceClient:
    assert ctx.client is not None, "send_to_target needs a context with an internal client"
    try:
        base: ServiceClient = getattr(ctx.client, service)
    except AttributeError as exc:
        # The service is not part of stratus yet: a server-side failure, retried like any other.
        raise AwsError(str(exc), code="NotImplemented", status=501, sender_fault=False) from None
    return base(account=target.account or None, region=target.region or None, source_arn=options.source_arn)


async def send_to_target(ctx: RequestContext, arn: str, payload: str, options: TargetOptions) -> None:
    """Deliver ``payload`` to the target ``arn`` once; raise ``AwsError`` if the target refused it."""
    target = parse_target_arn(arn)
    sender = _SENDERS.get(target.service)
    if sender is None:
        raise TargetError(f"Targets of service {target.service!r} are not supported by stratus yet ({arn}).")
    await sender(ctx, target, arn, payload, options)


def _with_fifo_ids(request: dict[str, Any], target: Arn, options: TargetOptions) -> dict[str, Any]:
    """SQS and SNS name the FIFO group and deduplication ids alike; standard queues and topics take neither."""
    if target.resource.endswith(".fifo"):
        if options.message_group_id:
            request["MessageGroupId"] = options.message_group_id
        if options.deduplication_id:
            request["MessageDeduplicationId"] = options.deduplication_id
    return request


async def _to_sqs(ctx: RequestContext, target: Arn, arn: str, payload: str, options: TargetOptions) -> None:
    request = {"QueueUrl": queue_url(ctx.endpoint, target.account, target.resource), "MessageBody": payload}
    await _client(ctx, "sqs", target, options).send_message(_with_fifo_ids(request, target, options))


async def _to_sns(ctx: RequestContext, target: Arn, arn: str, payload: str, options: TargetOptions) -> None:
    request = {"TopicArn": arn, "Message": payload}
    await _client(ctx, "sns", target, options).publish(_with_fifo_ids(request, target, options))


async def _to_events(ctx: RequestContext, target: Arn, arn: str, payload: str, options: TargetOptions) -> None:
    if target.resource.startswith("api-destination/"):
        raise TargetError("API destination targets are not supported by stratus yet.")
    if not target.resource.startswith("event-bus/"):
        raise TargetError(f"Target ARN {arn!r} is not an event bus.")
    if options.event_source or options.event_detail_type:
        entry: dict[str, Any] = {"Source": options.event_source or "", "DetailType": options.event_detail_type or "",
                                 "Detail": payload}
    else:
        entry = _entry_of_event(payload)
    entry["EventBusName"] = arn
    result = await _client(ctx, "events", target, options).put_events({"Entries": [entry]})
    if result.get("FailedEntryCount"):
        failed = result["Entries"][0]
        raise AwsError(failed.get("ErrorMessage", ""), code=failed.get("ErrorCode", "InternalException"))


def _entry_of_event(payload: str) -> dict[str, Any]:
    """The PutEvents entry that re-puts a whole event on another bus."""
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise TargetError("An event bus target needs the whole event as its input.", code="ValidationException")
    entry: dict[str, Any] = {
        "Source": str(event.get("source", "")),
        "DetailType": str(event.get("detail-type", "")),
        "Detail": json.dumps(event.get("detail", {}), separators=(",", ":")),
    }
    if isinstance(event.get("resources"), list) and event["resources"]:
        entry["Resources"] = [str(r) for r in event["resources"]]
    if isinstance(event.get("time"), str):
        try:
            entry["Time"] = parse_timestamp(event["time"])
        except ValueError:
            pass  # PutEvents stamps it with the time it receives it
    return entry


async def _to_lambda(ctx: RequestContext, target: Arn, arn: str, payload: str, options: TargetOptions) -> None:
    await _client(ctx, "lambda_", target, options).invoke(
        {"FunctionName": arn, "InvocationType": "Event", "Payload": payload.encode()})


async def _to_states(ctx: RequestContext, target: Arn, arn: str, payload: str, options: TargetOptions) -> None:
    await _client(ctx, "stepfunctions", target, options).start_execution({"stateMachineArn": arn, "input": payload})


async def _to_logs(ctx: RequestContext, target: Arn, arn: str, payload: str, options: TargetOptions) -> None:
    # arn:aws:logs:region:account:log-group:NAME[:*]
    kind, _, rest = target.resource.partition(":")
    if kind != "log-group" or not rest:
        raise TargetError(f"Target ARN {arn!r} is not a log group.", code="ValidationException")
    group = rest.removesuffix(":*")
    stream = options.log_stream or options.deduplication_id or "events"
    client = _client(ctx, "logs", target, options)
    try:
        await client.create_log_stream({"logGroupName": group, "logStreamName": stream})
    except AwsError as exc:
        if exc.code != "ResourceAlreadyExistsException":
            raise
    await client.put_log_events({"logGroupName": group, "logStreamName": stream,
                                 "logEvents": [{"timestamp": options.timestamp_ms or 0, "message": payload}]})


_SENDERS = {
    "sqs": _to_sqs,
    "sns": _to_sns,
    "events": _to_events,
    "lambda": _to_lambda,
    "states": _to_states,
    "logs": _to_logs,
}
