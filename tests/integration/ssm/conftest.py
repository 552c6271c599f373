"""Helpers for the Parameter Store integration tests: a client and per-test hierarchies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def ssm(endpoint: str) -> Any:
    return client_for(endpoint, "ssm")


@pytest.fixture
def root(unique: Callable[[str], str]) -> str:
    """A hierarchy of this test's own ("/t-1a2b3c4d5e"), so tests can share one server."""
    return "/" + unique("t")
