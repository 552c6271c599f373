"""The EventBridge client for the EventBridge integration tests (queues and receiving: tests/conftest.py, tests/helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def events(endpoint: str) -> Any:
    return client_for(endpoint, "events")
