"""The execution path driven through a live server with boto3: credentials, specs per revision."""

from __future__ import annotations

import json
import random
from typing import Any

from tests.conftest import client_for
from tests.integration.lambda_.conftest import ensure_role, python_zip

WHO_AM_I = """
import os
import boto3

def handler(event, context):
    return {
        "name": context.function_name,
        "env_name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "arn": boto3.client("sts").get_caller_identity()["Arn"],
        "setting": os.environ.get("SETTING"),
    }
"""


def own_account() -> str:
    """An account of the test's own (an access key of twelve digits selects it), so names can repeat."""
    return str(random.randrange(10**11, 10**12))


def wait_active(lam: Any, name: str) -> None:
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})


def call(lam: Any, name: str, **extra: Any) -> dict[str, Any]:
    answer = lam.invoke(FunctionName=name, Payload=b"{}", **extra)
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def test_a_one_character_function_runs_under_its_role(endpoint: str) -> None:
    # Function names may be one character; STS role session names take two at least. The session
    # Lambda opens for the function is named after it, padded: assumed-role/<role>/f_.
    account = own_account()
    role = ensure_role(endpoint, account=account)
    lam = client_for(endpoint, "lambda", access_key=account)
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": python_zip(WHO_AM_I)})
    lam.get_waiter("function_active_v2").wait(FunctionName="f", WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    body = call(lam, "f")
    assert body["name"] == body["env_name"] == "f"
    assert body["arn"] == f"arn:aws:sts::{account}:assumed-role/lambda-role/f_"


def test_each_revision_runs_its_own_configuration_and_code(endpoint: str) -> None:
    account = own_account()
    role = ensure_role(endpoint, account=account)
    lam = client_for(endpoint, "lambda", access_key=account)
    lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": python_zip(WHO_AM_I)}, Environment={"Variables": {"SETTING": "one"}})
    lam.get_waiter("function_active_v2").wait(FunctionName="fn", WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    assert call(lam, "fn")["setting"] == "one"
    published = lam.publish_version(FunctionName="fn")["Version"]

    lam.update_function_configuration(FunctionName="fn", Environment={"Variables": {"SETTING": "two"}})
    wait_active(lam, "fn")
    assert call(lam, "fn")["setting"] == "two"
    assert call(lam, "fn", Qualifier=published)["setting"] == "one"

    lam.update_function_code(FunctionName="fn", ZipFile=python_zip("def handler(event, context):\n    return {'setting': 'new code'}\n"))
    wait_active(lam, "fn")
    assert call(lam, "fn")["setting"] == "new code"
    assert call(lam, "fn", Qualifier=published)["setting"] == "one"
