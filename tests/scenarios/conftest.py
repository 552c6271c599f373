"""Scenarios reuse the cross-service fixtures: clients, queues, functions built from source."""

from __future__ import annotations

from tests.integration.wiring.conftest import events, lam, make_function, make_queue, sns  # noqa: F401 -- fixtures
