"""A stratus node: the store, the clock, the timers and every service provider, started and stopped together.

Several nodes may share one PostgreSQL database; each has its own id (for timer leases).
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from stratus.aws.client import InternalClient
from stratus.aws.context import RequestContext
from stratus.aws.protocol.base import HttpRequest, HttpResponse
from stratus.aws.dispatch import Dispatcher
from stratus.aws.identity import Identities
from stratus.config import Config
from stratus.engine.clock import Clock
from stratus.engine.timers import Timers
from stratus.services import PROVIDERS
from stratus.services.base import Provider
from stratus.store import open_store
from stratus.store.blobs import open_blobs

log = logging.getLogger("stratus")

InternalRoute = Callable[[HttpRequest], Awaitable[HttpResponse]]


def _load_class(path: str) -> type[Provider]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _node_id(data_dir: Path) -> str:
    """This node's id, kept in its data directory so a restarted node recognises its own timer leases."""
    path = data_dir / "node-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        node_id = uuid.uuid4().hex
        path.write_text(node_id)
        return node_id


class Node:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.id = _node_id(config.data_dir)
        self.store = open_store(config.store, config.data_dir)
        self.blobs = open_blobs(self.store, config.data_dir)
        # Providers' own endpoints under /_stratus/ (path prefix -> handler), e.g. Lambda's code downloads.
        self.internal_routes: dict[str, InternalRoute] = {}
        self.clock = Clock(self.store)
        self.identities = Identities(self.clock)
        self.timers = Timers(self.store, self.clock, self.id)
        self.providers: dict[str, Provider] = {name: _load_class(path)(self) for name, path in PROVIDERS.items()}
        self.dispatcher = Dispatcher(self.providers)
        self.state = "starting"

    async def start(self) -> None:
        await self.store.open()
        await self.blobs.start()
        await self.clock.load()
        for provider in self.providers.values():
            await provider.start()
        await self.timers.start()
        self.state = "running"

    async def stop(self) -> None:
        self.state = "stopping"
        await self.timers.stop()
        for provider in self.providers.values():
            await provider.stop()
        await self.store.close()
        self.state = "stopped"

    def client(self, ctx: RequestContext | None = None) -> InternalClient:
        """An internal client acting in ``ctx`` (default: the default account and region)."""
        return InternalClient(self.dispatcher, ctx or RequestContext(request_id=uuid.uuid4().hex))

    def health(self) -> dict[str, Any]:
        return {
            "status": self.state,
            "node": self.id,
            "store": self.store.dialect,
            "services": {name: provider.health() for name, provider in self.providers.items()},
        }
