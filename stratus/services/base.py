"""What every service provider is: the node's store, clock and timers, and a life cycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratus.node import Node


class Provider:
    """Base of every provider (through its generated ``<Service>Api`` class).

    A provider has one ``async def <snake_case_operation>(self, ctx, request) -> dict``
    per implemented operation. It never sees HTTP; it reads and writes its own tables
    through ``self.store`` and calls other services only through ``ctx.client``.
    """

    service: str = ""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.store = node.store
        self.clock = node.clock
        self.timers = node.timers

    async def start(self) -> None:
        """Apply this service's migrations and register its timer handlers."""

    async def stop(self) -> None:
        """Stop background work this provider started."""

    def health(self) -> dict[str, Any]:
        return {"state": "running"}
