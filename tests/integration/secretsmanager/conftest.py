"""Fixtures for the Secrets Manager integration tests: a boto3 client and secrets with unique names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def sm(endpoint: str) -> Any:
    return client_for(endpoint, "secretsmanager")


@pytest.fixture
def make_secret(sm: Any, unique: Callable[[str], str]) -> Callable[..., dict[str, Any]]:
    """Create a secret with a unique name (a string value unless told otherwise); answer CreateSecret's reply."""

    def make(prefix: str = "s", **kwargs: Any) -> dict[str, Any]:
        if "SecretString" not in kwargs and "SecretBinary" not in kwargs and not kwargs.pop("empty", False):
            kwargs["SecretString"] = "v1"
        return sm.create_secret(Name=unique(prefix), **kwargs)

    return make
