"""Helpers for the KMS integration tests: a KMS client and keys on the shared server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def kms(endpoint: str) -> Any:
    return client_for(endpoint, "kms")


@pytest.fixture
def make_key(kms: Any) -> Callable[..., str]:
    """Create a key (symmetric by default); answer its key id."""

    def make(**params: Any) -> str:
        return kms.create_key(**params)["KeyMetadata"]["KeyId"]

    return make


@pytest.fixture
def raw_kms(endpoint: str) -> Any:
    """A KMS client that sends out-of-range values, so the server's own validation answers."""
    return client_for(endpoint, "kms", parameter_validation=False)
