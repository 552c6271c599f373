"""Helpers for the Lambda integration tests: zips, functions made active, clients."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
# The trust policy of an execution role (stratus checks that the role exists, not this policy).
LAMBDA_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def ensure_role(endpoint: str, name: str = "lambda-role", account: str = "000000000000") -> str:
    """Create the execution role ``name`` in IAM unless it exists; answer its ARN.

    Lambda refuses a role that does not exist ("The role defined for the function cannot be
    assumed by Lambda.") and runs the function with the role's STS credentials.
    """
    iam = client_for(endpoint, "iam", access_key=account)
    try:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName=name)["Role"]["Arn"]


def make_zip(files: dict[str, str], executable: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def python_zip(body: str) -> bytes:
    return make_zip({"app.py": body})


ECHO = "def handler(event, context):\n    return event\n"


@pytest.fixture
def lam(endpoint: str) -> Any:
    ensure_role(endpoint)  # the execution role ROLE names, for every function a test creates
    return client_for(endpoint, "lambda")


@pytest.fixture
def logs(endpoint: str) -> Any:
    return client_for(endpoint, "logs")


@pytest.fixture
def make_function(lam: Any, unique: Callable[[str], str]) -> Callable[..., str]:
    """Create a function (Python echo by default), wait until it is Active; answer its name."""

    def make(code: bytes | None = None, *, runtime: str = "python3.12", handler: str = "app.handler", wait: bool = True, **extra: Any) -> str:
        name = unique("fn")
        lam.create_function(
            FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
            Code={"ZipFile": code or python_zip(ECHO)}, **extra,
        )
        if wait:
            lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
        return name

    return make


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Code"]
