"""The store interface: one API over SQLite and PostgreSQL.

SQL is written once, with ``?`` placeholders; the PostgreSQL backend rewrites them.
Timestamps are integer milliseconds on the stratus clock. Rows are tuples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

from stratus.store.wakeups import Subscription, Wakeups

Row = tuple[Any, ...]
Params = Sequence[Any]


class Tx(ABC):
    """An open transaction. Commits when its ``async with`` block exits cleanly."""

    dialect: Literal["sqlite", "postgresql"]
    # Appended to a SELECT that claims rows: " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite.
    skip_locked: str

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; answer the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, params: Sequence[Params]) -> None: ...

    @abstractmethod
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    @abstractmethod
    def notify(self, channel: str) -> None:
        """Wake waiters on ``channel`` (on every node) once this transaction commits."""


class Store(ABC):
    dialect: Literal["sqlite", "postgresql"]

    def __init__(self) -> None:
        self._wakeups = Wakeups()

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """``async with store.transaction() as tx``: commit on success, roll back on error.

        A transaction may await other things, but never another transaction of the same
        store: SQLite runs one transaction at a time, so that would wait forever.
        """

    def subscribe(self, channel: str) -> Subscription:
        """``with store.subscribe(ch) as sub``: for loops that check state, then ``await sub.wait(t)``.

        A notification that arrives while the loop is checking is kept for its next wait.
        """
        return self._wakeups.subscribe(channel)

    async def wait(self, channel: str, timeout: float) -> bool:
        """Sleep until ``channel`` is notified (answer True) or ``timeout`` seconds pass (False).

        A notification is a hint, never the truth: the caller re-checks its state.
        ``notify_all`` (the clock moving) wakes every waiter.
        """
        with self._wakeups.subscribe(channel) as subscription:
            return await subscription.wait(timeout)

    @abstractmethod
    async def notify_all(self) -> None:
        """Wake every waiter on every node (used when the clock is advanced)."""

    @abstractmethod
    async def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Apply the not-yet-applied scripts of ``component`` in order, each once, in a transaction.

        Script N (1-based) is version N, so scripts are only ever appended. A script may use
        ``{blob}``, ``{bigint}``, ``{serial}`` (an auto-incrementing integer primary key) and
        ``{float}`` for the types whose names differ between the dialects.
        """
