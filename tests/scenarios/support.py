"""What the Lambda scenarios share: deploying a package as a user would, and reading the
function's CloudWatch Logs (its REPORT lines in particular) the way an operator reads them.
"""

from __future__ import annotations

import math
import time
from typing import Any

from tests.integration.lambda_.conftest import ROLE, make_zip


def deploy(lam: Any, name: str, files: dict[str, str], *, runtime: str, handler: str, **extra: Any) -> dict[str, Any]:
    """CreateFunction from a package of ``files`` (name -> text) and wait until it is Active."""
    config = lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                                 Code={"ZipFile": make_zip(files, executable=("bootstrap",))}, **extra)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return config


def wait_updated(lam: Any, name: str) -> None:
    """Wait until the last configuration or code update has finished (LastUpdateStatus Successful)."""
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})


def log_events(logs: Any, group: str, pattern: str = "", *, at_least: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
    """FilterLogEvents over every page until ``at_least`` events match ``pattern`` (or ``timeout`` real seconds).

    Lambda writes its logs after the invocation answers, so a reader polls as it would on AWS.
    """
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern=pattern)
            events = [event for page in pages for event in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            events = []  # the group appears with the function's first log line
        if len(events) >= at_least or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def report_fields(line: str) -> dict[str, str]:
    """The fields of a REPORT line: ``REPORT RequestId: x\\tDuration: 1.20 ms\\t...`` -> {"RequestId": "x", ...}."""
    assert line.startswith("REPORT "), line
    parts = [part for part in line[len("REPORT "):].rstrip("\n").split("\t") if part]
    return dict(part.split(": ", 1) for part in parts)


def number(field: str) -> float:
    """The number in a REPORT field such as ``12.34 ms`` or ``128 MB``."""
    return float(field.split()[0])


def reports(logs: Any, group: str, *, at_least: int = 1, timeout: float = 20.0) -> dict[str, dict[str, str]]:
    """The REPORT lines of a function's log group by request id, with the log stream each is in."""
    found = {}
    for event in log_events(logs, group, '"REPORT RequestId"', at_least=at_least, timeout=timeout):
        fields = report_fields(event["message"])
        fields["logStreamName"] = event["logStreamName"]
        found[fields["RequestId"]] = fields
    return found


def billed_as_documented(fields: dict[str, str]) -> bool:
    """Billed Duration is the duration (and, for an on-demand cold start, the init phase) rounded up to the ms.

    The printed durations carry two decimals, so the sum is known to within 0.01 ms either way.
    """
    spent = number(fields["Duration"]) + (number(fields["Init Duration"]) if "Init Duration" in fields else 0.0)
    return math.ceil(spent - 0.01) <= number(fields["Billed Duration"]) <= math.ceil(spent + 0.01)
