"""The store interface: one API over SQLite and PostgreSQL.

SQL is written once, with ``?`` placeholders; the PostgreSQL backend rewrites them.
Timestamps are integer milliseconds on the stratus clock. Rows are tuples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

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

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """``async with store.transaction() as tx``: commit on success, roll back on error."""

    @abstractmethod
    async def wait(self, channel: str, timeout: float) -> bool:
        """Sleep until ``channel`` is notified (answer True) or ``timeout`` seconds pass (False).

        A notification is a hint, never the truth: the caller re-checks its state.
        ``notify_all`` (the clock moving) wakes every waiter.
        """

    @abstractmethod
    async def notify_all(self) -> None:
        """Wake every waiter on every node (used when the clock is advanced)."""

    @abstractmethod
    async def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Apply the not-yet-applied scripts of ``component`` in order, each once, in a transaction.

        A script may use ``{blob}``, ``{bigint}``, ``{serial}`` and ``{float}`` for the
        types whose names differ between the dialects.
        """
