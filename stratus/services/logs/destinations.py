"""Subscription filter destinations: which kinds stratus delivers to, and whether Logs may invoke a function.

PutSubscriptionFilter (API reference) takes a Kinesis data stream, a Firehose stream, a logical
destination (cross-account) or a Lambda function. stratus has neither Kinesis, Firehose nor
logical destinations (PutDestination), so only Lambda is accepted; the others answer
NotImplemented after AWS's own validation. For a Lambda function AWS needs no role: it checks the
function's resource policy lets CloudWatch Logs invoke it, and refuses the filter otherwise
("Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to
execute your function.", InvalidParameterException). The request CloudWatch Logs makes is from
the service principal ``logs.amazonaws.com`` (or the regional ``logs.REGION.amazonaws.com``) with
``aws:SourceArn`` the log group's ARN ending in ``:*`` and ``aws:SourceAccount`` its account,
which is what the conditions AddPermission writes (SourceArn, SourceAccount) are matched against.
"""

from __future__ import annotations

import json
import re
from typing import Any

from stratus.aws.api.logs import InvalidParameterException
from stratus.aws.arns import Arn, parse_arn
from stratus.aws.client import InternalClient
from stratus.aws.errors import AwsError

LAMBDA_PERMISSION_MESSAGE = (
    "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function."
)
INVOKE_ACTION = "lambda:InvokeFunction"
# Destinations AWS supports that stratus cannot deliver to: the vendor as AWS's messages name it.
_UNDELIVERABLE = {"kinesis": "Kinesis data streams", "firehose": "Firehose streams"}


class DeliveryDenied(AwsError):
    """CloudWatch Logs may not invoke the function (any more): a failure AWS does not retry."""

    code = "AccessDeniedException"
    status = 403


def not_implemented(what: str) -> AwsError:
    return AwsError(
        f"stratus cannot deliver subscription filters to {what} yet: only Lambda function destinations are implemented.",
        code="NotImplemented",
        status=501,
        sender_fault=False,
    )


def check_kind(destination: str, role_arn: str | None) -> Arn:
    """The parsed Lambda function ARN, or AWS's error for the destination (NotImplemented for kinds stratus lacks)."""
    parsed = parse_arn(destination)
    if parsed is None:
        raise InvalidParameterException(f"Invalid destinationArn: {destination}")
    vendor = parsed.service
    if vendor == "lambda" and parsed.resource.startswith("function:"):
        return parsed
    if vendor in _UNDELIVERABLE:
        # AWS's own check comes first: streams are written with the role the filter names.
        if not role_arn:
            raise InvalidParameterException(f"destinationArn for vendor {vendor} cannot be used without roleArn")
        raise not_implemented(_UNDELIVERABLE[vendor])
    if vendor == "logs" and parsed.resource.startswith("destination:"):
        raise not_implemented("logical destinations (cross-account delivery)")
    raise InvalidParameterException(f"PutSubscriptionFilter operation cannot work with destinationArn for vendor {vendor}")


async def check_lambda_permission(client: InternalClient, function_arn: str, group_arn: str, account: str, region: str) -> None:
    """Raise ``DeliveryDenied`` unless the function exists and its resource policy lets CloudWatch Logs invoke it."""
    try:
        answer = await client.lambda_.get_policy({"FunctionName": function_arn})
    except AttributeError:
        raise not_implemented("Lambda functions on a node without Lambda") from None
    except AwsError:
        # No function, or a function without any policy: Logs may not invoke it either way.
        raise DeliveryDenied(LAMBDA_PERMISSION_MESSAGE) from None
    policy = json.loads(answer["Policy"])
    if not allows_logs(policy, region, source_arn=group_arn + ":*", source_account=account):
        raise DeliveryDenied(LAMBDA_PERMISSION_MESSAGE)


# --- the resource policy, for CloudWatch Logs' request only ------------------------------------


def allows_logs(policy: dict[str, Any], region: str, *, source_arn: str, source_account: str) -> bool:
    """Whether ``policy`` allows (and does not deny) CloudWatch Logs to invoke the function for this log group."""
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    services = {"logs.amazonaws.com", f"logs.{region}.amazonaws.com"}
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    applying = [s for s in statements if _applies(s, services, context)]
    if any(s.get("Effect") == "Deny" for s in applying):
        return False
    return any(s.get("Effect") == "Allow" for s in applying)


def _applies(statement: dict[str, Any], services: set[str], context: dict[str, str]) -> bool:
    return (
        _principal_matches(statement.get("Principal"), services)
        and any(_glob(action, INVOKE_ACTION, ignore_case=True) for action in _as_list(statement.get("Action")))
        and _conditions_hold(statement.get("Condition") or {}, context)
    )


def _principal_matches(principal: Any, services: set[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS")):
        return True
    return any(service in services for service in _as_list(principal.get("Service")))


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """Every operator and key must hold; a key the request lacks fails (unless ...IfExists), as in IAM."""
    for operator, tests in conditions.items():
        base = operator.removesuffix("IfExists")
        compare = _OPERATORS.get(base)
        if compare is None or not isinstance(tests, dict):
            return False
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                if base == operator:
                    return False
                continue
            if not any(compare(str(value), actual) for value in _as_list(expected)):
                return False
    return True


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own (the last one keeps its colons)."""
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(actual) == 6 and all(_glob(w, a) for w, a in zip(wanted, actual, strict=True))


_OPERATORS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringEqualsIgnoreCase": lambda expected, actual: expected.lower() == actual.lower(),
    "StringLike": _glob,
    # IAM matches both ARN operators alike, wildcards included.
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
