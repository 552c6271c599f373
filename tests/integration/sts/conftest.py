"""STS and IAM clients for the STS tests, and clients built from issued credentials."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for
from tests.integration.iam.conftest import new_account


@pytest.fixture
def account() -> str:
    return new_account()


@pytest.fixture
def sts(endpoint: str, account: str) -> Any:
    return client_for(endpoint, "sts", access_key=account)


@pytest.fixture
def iam(endpoint: str, account: str) -> Any:
    return client_for(endpoint, "iam", access_key=account)


def client_with(endpoint: str, service: str, credentials: dict[str, Any]) -> Any:
    """A boto3 client using temporary credentials (session token included) as STS returned them."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )
