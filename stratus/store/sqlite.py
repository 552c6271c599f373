"""The SQLite store: one file, one connection, one transaction at a time.

Statements run synchronously on the event loop. They take microseconds, so handing them
to a thread would cost more than it saves; an ``asyncio.Lock`` serializes transactions
instead, and a transaction may await other things while it holds the lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from stratus.store.base import Params, Row, Store, Tx
from stratus.store.migrate import apply_migrations


class SqliteTx(Tx):
    __slots__ = ("_conn", "channels")

    dialect: Literal["sqlite"] = "sqlite"
    skip_locked = ""  # BEGIN IMMEDIATE already makes every transaction the only writer

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.channels: list[str] = []

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    async def executemany(self, sql: str, params: Sequence[Params]) -> None:
        self._conn.executemany(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        cursor = self._conn.execute(sql, params)
        row = cursor.fetchone()
        # Closing resets the statement, so an unfinished SELECT cannot hold up COMMIT.
        cursor.close()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def notify(self, channel: str) -> None:
        self.channels.append(channel)


class _Transaction:
    """The ``async with`` of one SQLite transaction (a class: cheaper than a generator)."""

    __slots__ = ("_store", "_tx")

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._tx: SqliteTx | None = None

    async def __aenter__(self) -> SqliteTx:
        store = self._store
        await store._lock.acquire()
        try:
            conn = store._connection()
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            store._lock.release()
            raise
        self._tx = SqliteTx(conn)
        return self._tx

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store, tx = self._store, self._tx
        assert tx is not None
        conn = tx._conn
        try:
            if exc_type is None:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            store._lock.release()
        if exc_type is None:
            for channel in tx.channels:
                store._wakeups.wake(channel)


class SqliteStore(Store):
    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__()
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. The statement cache is large
        # because every query of every service is a fixed string that runs again and again.
        conn = sqlite3.connect(self.path, isolation_level=None, cached_statements=2048)
        # One process owns the file (several nodes share PostgreSQL, never SQLite). Holding the
        # lock for good spares two file-lock calls per transaction and the WAL's shared-memory
        # index, and makes a second stratus on the same data directory fail at once.
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, NORMAL writes each commit to the WAL file before COMMIT returns, so a
        # commit survives the process being killed (SIGKILL); only an OS crash or power loss
        # can lose the last commits. FULL would fsync on every commit for that last bit.
        conn.execute("PRAGMA synchronous=NORMAL")
        # Only another process (a second stratus on the same file) makes this wait; it then
        # blocks the event loop up to this long, which is acceptable for that rare case.
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the SQLite store is not open")
        return self._conn

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    async def notify_all(self) -> None:
        self._wakeups.wake_all()

    async def migrate(self, component: str, migrations: Sequence[str]) -> None:
        await apply_migrations(self, component, migrations)
