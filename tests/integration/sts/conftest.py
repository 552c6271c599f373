"""STS and IAM clients for the STS tests, and clients built from issued credentials."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for
from tests.integration.iam.conftest import account, iam  # noqa: F401 -- fixtures


@pytest.fixture
def sts(endpoint: str, account: str) -> Any:
    return client_for(endpoint, "sts", access_key=account)


def client_with(endpoint: str, service: str, credentials: dict[str, Any]) -> Any:
    """A boto3 client using temporary credentials (session token included) as STS returned them."""
    return client_for(endpoint, service, access_key=credentials["AccessKeyId"],
                      secret_key=credentials["SecretAccessKey"], session_token=credentials["SessionToken"])
