"""The stratus clock: the only "now" in stratus.

Real time plus an offset that tests move forward (``POST /_stratus/clock``), so a workflow
that waits an hour finishes in milliseconds. The offset lives in the store, shared by
every node: ``advance`` wakes every waiter on every node (``notify_all``), and the timers
loop re-reads the offset whenever it wakes, so each node follows within one wake-up.
"""

from __future__ import annotations

import time

from stratus.store.base import Store, Tx
from stratus.store.migrate import load_migrations

ENGINE_COMPONENT = "stratus.engine"


class Clock:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._offset_ms = 0

    @property
    def offset_ms(self) -> int:
        return self._offset_ms

    def now_ms(self) -> int:
        """Milliseconds since the epoch on the stratus clock."""
        return time.time_ns() // 1_000_000 + self._offset_ms

    def now(self) -> float:
        """Seconds since the epoch on the stratus clock."""
        return time.time() + self._offset_ms / 1000

    async def load(self) -> None:
        """Create the engine's tables if needed and read the shared offset (at node start)."""
        await self._store.migrate(ENGINE_COMPONENT, load_migrations("stratus.engine"))
        async with self._store.transaction() as tx:
            await self.refresh(tx)

    async def refresh(self, tx: Tx) -> None:
        """Re-read the offset another node may have moved."""
        row = await tx.fetchone("SELECT offset_ms FROM stratus_clock WHERE id = 1")
        self._offset_ms = row[0] if row else 0

    async def advance(self, seconds: float) -> int:
        """Move the clock forward on every node; answer the new ``now_ms``."""
        if seconds < 0:
            raise ValueError("the stratus clock only moves forward")
        async with self._store.transaction() as tx:
            # Adding in SQL (not writing our value) keeps two nodes advancing at once additive.
            row = await tx.fetchone(
                "UPDATE stratus_clock SET offset_ms = offset_ms + ? WHERE id = 1 RETURNING offset_ms",
                (round(seconds * 1000),),
            )
        if row is None:
            raise RuntimeError("the clock table is empty: call Clock.load() at start")
        self._offset_ms = row[0]
        await self._store.notify_all()
        return self.now_ms()
