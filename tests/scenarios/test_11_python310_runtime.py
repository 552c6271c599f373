"""A Python 3.10 function: structural pattern matching, parenthesized context managers, ``X | Y``
unions, user-defined type guards and the improved error messages, on Lambda's python3.10 runtime.

From ``aws-blog/11-python-3-10-runtime-now-available-in-aws-lambda``: the function is declared as
the post's SAM template declares ``MyFunction`` (``Handler: lambda_function.lambda_handler``,
``Runtime: python3.10``, ``Description: My Python Lambda Function``) with the ``memorySize: 512``
of its CDK example. The post shows no handler code, so the handler here uses each 3.10 feature
the post lists: it routes what arrives by its shape (``match`` over direct commands and the SNS
event Lambda receives from a real subscription), reads gzip input with parenthesized context
managers (the post's "GzipFile read is faster" point), and checks types with ``int | str`` and a
``TypeGuard``. An existing function moved from python3.9 to python3.10 in its runtime settings
starts working; a package with an unclosed brace fails with 3.10's clearer SyntaxError.

Skipped: the console steps (done with boto3's CreateFunction and UpdateFunctionConfiguration),
``sam init`` and the CDK stacks (stratus has no CloudFormation), and the container images
(``public.ecr.aws/lambda/python:3.10`` and the 3.11 preview): stratus runs .zip packages only.
The post's performance figures are CPython's and not asserted.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from tests.conftest import client_for
from tests.helpers import bodies, receive
from tests.scenarios.support import deploy, log_events, wait_updated

HANDLER = "lambda_function.lambda_handler"

LAMBDA_FUNCTION = '''
import base64
import gzip
import io
import json
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from typing import TypeGuard

import boto3

sqs = boto3.client("sqs")


@dataclass
class Resize:
    width: int
    height: int


def as_int(value: int | str) -> int:
    """PEP 604: the union written as X | Y."""
    return value if isinstance(value, int) else int(value.strip())


def is_str_list(values: list[object]) -> TypeGuard[list[str]]:
    """PEP 647: a user-defined type guard."""
    return all(isinstance(value, str) for value in values)


def line_total(item: dict) -> float:
    match item:
        case {"sku": str(), "qty": int(qty), "unitPrice": int(price) | float(price)} if qty > 0:
            return qty * price
        case {"sku": str(sku), "qty": int()}:
            raise ValueError(f"item {sku} has no valid quantity or price")
        case _:
            raise ValueError(f"not an order line: {item!r}")


def describe(resize: Resize) -> str:
    match resize:
        case Resize(width=w, height=h) if w == h:
            return "square"
        case Resize(width=w, height=h) if w > h:
            return "landscape"
        case Resize():
            return "portrait"


def count_lines(data: bytes) -> dict:
    """Decompress a gzip upload and keep a working copy in /tmp, with both files in one with statement."""
    path = os.path.join(tempfile.gettempdir(), f"{uuid.uuid4()}.log")
    lines = 0
    with (
        gzip.open(io.BytesIO(data), "rt") as source,
        open(path, "w") as copy,
    ):
        for line in source:
            copy.write(line)
            lines += 1
    size = os.path.getsize(path)
    os.remove(path)
    return {"lines": lines, "bytes": size}


def lambda_handler(event, context):
    match event:
        case {"Records": [{"EventSource": "aws:sns", "Sns": {"TopicArn": topic, "Message": str(message)}}]}:
            order = json.loads(message)
            result = {"source": "sns", "topic": topic.rsplit(":", 1)[-1], "orderId": order["orderId"],
                      "total": round(sum(line_total(item) for item in order["items"]), 2)}
            sqs.send_message(QueueUrl=os.environ["RESULTS"], MessageBody=json.dumps(result))
            return result
        case {"action": "resize", "size": [width, height]} if isinstance(width, int | str) and isinstance(height, int | str):
            resize = Resize(as_int(width), as_int(height))
            return {"width": resize.width, "height": resize.height, "shape": describe(resize)}
        case {"action": "tag", "tags": list(tags)} if is_str_list(tags):
            return {"tags": sorted({tag.lower() for tag in tags})}
        case {"action": "tag", "tags": _}:
            raise TypeError("tags must be a list of strings")
        case {"action": "count_lines", "gzip": str(data)}:
            return count_lines(base64.b64decode(data))
        case {"action": "runtime"}:
            return {"python": "%d.%d" % sys.version_info[:2], "executionEnv": os.environ["AWS_EXECUTION_ENV"],
                    "memoryLimitInMB": context.memory_limit_in_mb, "functionName": context.function_name}
        case {"action": str(action)}:
            raise ValueError(f"unknown action {action!r}")
        case _:
            raise ValueError("an event needs an action")
'''

# A package with a typo: the dict literal is never closed.
UNCLOSED_BRACE = '''PRICES = {
    "standard": 10,
    "express": 25,

def lambda_handler(event, context):
    return PRICES
'''


def invoke(lam: Any, name: str, event: Any) -> tuple[dict[str, Any], Any]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    return answer, json.loads(answer["Payload"].read())


def ok(lam: Any, name: str, event: Any) -> Any:
    answer, result = invoke(lam, name, event)
    assert "FunctionError" not in answer, result
    return result


def my_function(lam: Any, unique: Any, runtime: str = "python3.10", source: str = LAMBDA_FUNCTION, **extra: Any) -> str:
    name = unique("MyFunction")
    deploy(lam, name, {"lambda_function.py": source}, runtime=runtime, handler=HANDLER,
           Description="My Python Lambda Function", MemorySize=512, Timeout=30, **extra)
    return name


def test_python310_function_as_the_template_declares_it(lam: Any, unique: Any) -> None:
    name = my_function(lam, unique)
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["Runtime"], config["Handler"], config["Description"], config["MemorySize"]) == (
        "python3.10", HANDLER, "My Python Lambda Function", 512)

    assert ok(lam, name, {"action": "runtime"}) == {
        "python": "3.10", "executionEnv": "AWS_Lambda_python3.10", "memoryLimitInMB": "512", "functionName": name}
    # Structural pattern matching: sequence, OR and class patterns with guards.
    assert ok(lam, name, {"action": "resize", "size": [640, 480]}) == {"width": 640, "height": 480, "shape": "landscape"}
    assert ok(lam, name, {"action": "resize", "size": ["512", " 512 "]}) == {"width": 512, "height": 512, "shape": "square"}
    assert ok(lam, name, {"action": "resize", "size": [300, "900"]})["shape"] == "portrait"
    # The user-defined type guard lets only a list of strings through.
    assert ok(lam, name, {"action": "tag", "tags": ["Python", "lambda", "python"]}) == {"tags": ["lambda", "python"]}
    answer, error = invoke(lam, name, {"action": "tag", "tags": ["python", 310]})
    assert answer["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "tags must be a list of strings")
    answer, error = invoke(lam, name, {"action": "explode"})
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "unknown action 'explode'")
    assert any("lambda_handler" in frame for frame in error["stackTrace"])
    _, error = invoke(lam, name, {"resize": [1, 2]})
    assert error["errorMessage"] == "an event needs an action"


def test_gzip_input_through_parenthesized_context_managers(lam: Any, unique: Any) -> None:
    name = my_function(lam, unique)
    log = "".join(f"2023-04-18T10:{i % 60:02d}:00Z GET /orders/{i} 200\n" for i in range(2500)).encode()
    result = ok(lam, name, {"action": "count_lines", "gzip": base64.b64encode(gzip.compress(log)).decode()})
    assert result == {"lines": 2500, "bytes": len(log)}


def test_an_sns_event_is_routed_by_its_shape(lam: Any, sns: Any, sqs: Any, make_queue: Any, unique: Any) -> None:
    results_url, _ = make_queue("results")
    name = my_function(lam, unique, Environment={"Variables": {"RESULTS": results_url}})
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    topic_arn = sns.create_topic(Name=unique("orders"))["TopicArn"]
    lam.add_permission(FunctionName=name, StatementId="orders", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic_arn)
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=arn)

    sns.publish(TopicArn=topic_arn, Message=json.dumps({"orderId": "ord-310", "items": [
        {"sku": "PY-MUG", "qty": 2, "unitPrice": 12.5}, {"sku": "PY-STICKER", "qty": 10, "unitPrice": 1}]}))
    assert bodies(receive(sqs, results_url, 1)) == [
        {"source": "sns", "topic": topic_arn.rsplit(":", 1)[-1], "orderId": "ord-310", "total": 35.0}]


def syntax_error(lam: Any, name: str) -> dict[str, Any]:
    answer, error = invoke(lam, name, {"action": "runtime"})
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    return error


def test_moving_an_existing_function_to_python310(lam: Any, unique: Any) -> None:
    name = my_function(lam, unique, runtime="python3.9")
    first_match = next(i for i, line in enumerate(LAMBDA_FUNCTION.splitlines(), 1) if line.strip().startswith("match "))
    assert syntax_error(lam, name)["errorMessage"] == (
        f"Syntax error in module 'lambda_function': invalid syntax (lambda_function.py, line {first_match})")

    # "choose Edit in the Runtime settings panel": only the runtime changes.
    updated = lam.update_function_configuration(FunctionName=name, Runtime="python3.10")
    assert updated["Runtime"] == "python3.10"
    wait_updated(lam, name)
    assert ok(lam, name, {"action": "runtime"})["python"] == "3.10"
    assert ok(lam, name, {"action": "resize", "size": [2, 2]})["shape"] == "square"


@pytest.mark.parametrize(("runtime", "message"), [
    ("python3.10", "'{' was never closed (lambda_function.py, line 1)"),  # points at the brace
    ("python3.9", "invalid syntax (lambda_function.py, line 5)"),  # points at where parsing gave up
])
def test_improved_syntax_error_messages(lam: Any, unique: Any, endpoint: str, runtime: str, message: str) -> None:
    name = my_function(lam, unique, runtime=runtime, source=UNCLOSED_BRACE)
    expected = f"Syntax error in module 'lambda_function': {message}"
    assert syntax_error(lam, name)["errorMessage"] == expected
    # Logged by the failed Init phase, and again by its retry inside the invocation (as on AWS).
    logged = log_events(client_for(endpoint, "logs"), f"/aws/lambda/{name}", '"Syntax error in module"', at_least=2)
    assert len(logged) == 2
    assert all(e["message"].startswith(f"[ERROR] Runtime.UserCodeSyntaxError: {expected}") for e in logged)
