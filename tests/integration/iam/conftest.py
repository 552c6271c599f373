"""IAM clients, each in an account of its own on the shared server, so listings start empty."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from tests.conftest import client_for

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def new_account() -> str:
    return "9" + "".join(secrets.choice("0123456789") for _ in range(11))


@pytest.fixture
def account() -> str:
    return new_account()


@pytest.fixture
def iam(endpoint: str, account: str) -> Any:
    return client_for(endpoint, "iam", access_key=account)


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]
