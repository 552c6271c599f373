"""Helpers for the CloudWatch Logs integration tests: groups and streams with unique names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def logs(endpoint: str) -> Any:
    return client_for(endpoint, "logs")


@pytest.fixture
def make_group(logs: Any, unique: Callable[[str], str]) -> Callable[..., str]:
    """Create a log group with a unique name; answer the name."""

    def make(prefix: str = "/stratus/test", **kwargs: Any) -> str:
        name = unique(prefix)
        logs.create_log_group(logGroupName=name, **kwargs)
        return name

    return make


@pytest.fixture
def make_stream(logs: Any, make_group: Callable[..., str]) -> Callable[..., tuple[str, str]]:
    """A new group with one stream; answer (group, stream)."""

    def make(stream: str = "s1", **kwargs: Any) -> tuple[str, str]:
        group = make_group(**kwargs)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        return group, stream

    return make
