"""Invoking a schedule's target once, and its dead-letter queue.

Templated targets (SQS, SNS, Lambda, Step Functions, an EventBridge bus) go through the
shared ``send_to_target``. Universal targets (``arn:aws:scheduler:::aws-sdk:<service>:<apiAction>``)
call that operation through the internal client with the target's Input as the request,
so any operation stratus implements works, and one it does not fails like any target.
"""

from __future__ import annotations

import json
from functools import cache

from botocore.exceptions import UnknownServiceError

from stratus.aws.arns import parse_arn_strict
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.aws.models import service_model
from stratus.services.events.targets import TargetOptions, send_to_dead_letter_queue, send_to_target
from stratus.services.scheduler.model import Invocation, universal_operation


class TargetFailure(AwsError):
    """A universal target stratus cannot call: no such service or operation in stratus."""

    code = "NotImplemented"
    status = 501
    sender_fault = False


@cache
def _operation_names(service: str) -> dict[str, str]:
    """apiAction as the SDKs spell it (camelCase) -> the model's operation name."""
    return {name.lower(): name for name in service_model(service).operation_names}


def _operation(service: str, action: str) -> str:
    try:
        names = _operation_names(service)
    except UnknownServiceError:
        raise TargetFailure(f"stratus does not implement the service {service!r}") from None
    operation = names.get(action.lower())
    if operation is None:
        raise TargetFailure(f"{service} has no operation {action!r}")
    return operation


async def invoke_target(ctx: RequestContext, invocation: Invocation) -> None:
    """Call the target once with this attempt's payload; raise ``AwsError`` when it failed."""
    target = invocation.target
    payload = invocation.payload()
    universal = universal_operation(target["Arn"])
    if universal is not None:
        service, action = universal
        operation = _operation(service, action)
        assert ctx.client is not None
        try:
            client = getattr(ctx.client, service)
        except AttributeError as exc:
            raise TargetFailure(str(exc)) from None
        request = json.loads(payload)
        if not isinstance(request, dict):
            raise AwsError("The Input of a universal target must be a JSON object.", code="ValidationException")
        await client.call(operation, request)
        return
    sqs = target.get("SqsParameters") or {}
    bus = target.get("EventBridgeParameters") or {}
    options = TargetOptions(
        message_group_id=sqs.get("MessageGroupId"),
        event_source=bus.get("Source"),
        event_detail_type=bus.get("DetailType"),
        role_arn=target.get("RoleArn"),
        source_arn=invocation.schedule_arn,
    )
    await send_to_target(ctx, target["Arn"], payload, options)


async def dead_letter(ctx: RequestContext, invocation: Invocation, error: AwsError, condition: str) -> None:
    """Send the dead-letter event (the payload the target did not take) to the target's DLQ."""
    queue_arn = (invocation.target.get("DeadLetterConfig") or {}).get("Arn")
    if not queue_arn:
        return
    # The code as the target's own clients read it: SQS's legacy query code
    # (AWS.SimpleQueueService.NonExistentQueue), as SNS reports a failed delivery too.
    attributes = invocation.dead_letter_attributes(error.query_code or error.code, error.message, condition)
    await send_to_dead_letter_queue(ctx, parse_arn_strict(queue_arn), invocation.payload(), attributes,
                                    invocation.schedule_arn)
