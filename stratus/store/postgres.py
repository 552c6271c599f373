"""The PostgreSQL store: several stratus nodes share one database.

Each node keeps a small pool of connections for transactions and one more connection
that LISTENs. Every notification goes over a single channel, ``stratus``, with
``<store token>:<channel>`` as payload: channel names need no quoting, and a node skips its
own notifications (it has already woken its local waiters at commit).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from functools import lru_cache
from types import TracebackType
from typing import Literal

import psycopg
from psycopg.pq import TransactionStatus

from stratus.store.base import Params, Row, Store, Tx
from stratus.store.migrate import apply_migrations

log = logging.getLogger("stratus.store.postgres")

PG_CHANNEL = "stratus"
_ALL = "*"  # the payload channel of notify_all


@lru_cache(maxsize=4096)
def to_pyformat(sql: str) -> str:
    """Rewrite ``?`` placeholders as psycopg's ``%s`` (and ``%`` as ``%%``), outside quotes."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        if char == "%":
            out.append("%%")
            continue
        out.append(char)
    return "".join(out)


class PostgresTx(Tx):
    dialect: Literal["postgresql"] = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn
        self.channels: set[str] = set()

    async def execute(self, sql: str, params: Params = ()) -> int:
        # Without parameters psycopg sends the text as it is (and allows several statements).
        if params:
            cursor = await self._conn.execute(to_pyformat(sql), params)
        else:
            cursor = await self._conn.execute(sql)
        return cursor.rowcount

    async def executemany(self, sql: str, params: Sequence[Params]) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.executemany(to_pyformat(sql), params)  # pipelined by psycopg

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        cursor = await self._conn.execute(to_pyformat(sql) if params else sql, params or None)
        return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        cursor = await self._conn.execute(to_pyformat(sql) if params else sql, params or None)
        return await cursor.fetchall()

    def notify(self, channel: str) -> None:
        self.channels.add(channel)


class _Transaction:
    __slots__ = ("_store", "_conn", "_tx")

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._conn: psycopg.AsyncConnection | None = None
        self._tx: PostgresTx | None = None

    async def __aenter__(self) -> PostgresTx:
        store = self._store
        # An idle pooled connection may have died (server restart): retry once with a new one.
        for attempt in range(2):
            conn = await store._acquire()
            try:
                await conn.execute("BEGIN")
                break
            except psycopg.OperationalError:
                await store._release(conn)
                if attempt:
                    raise
            except BaseException:
                await store._release(conn)
                raise
        self._conn = conn
        self._tx = PostgresTx(conn)
        return self._tx

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store, conn, tx = self._store, self._conn, self._tx
        assert conn is not None and tx is not None
        try:
            if exc_type is None:
                if tx.channels:
                    # Queued by the server and delivered to every listener only if COMMIT succeeds.
                    payloads = [f"{store._token}:{channel}" for channel in tx.channels]
                    await conn.execute(f"SELECT pg_notify('{PG_CHANNEL}', c) FROM unnest(%s::text[]) AS c", [payloads])
                await conn.execute("COMMIT")
            else:
                try:
                    await conn.execute("ROLLBACK")
                except Exception:  # the original error matters more; the connection is dropped below
                    log.debug("rollback failed", exc_info=True)
        finally:
            await store._release(conn)
        if exc_type is None:
            for channel in tx.channels:
                store._wakeups.wake(channel)


class PostgresStore(Store):
    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        super().__init__()
        self.dsn = dsn
        self._token = uuid.uuid4().hex[:12]
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[psycopg.AsyncConnection] = []
        self._listener: asyncio.Task[None] | None = None
        self._closed = False

    async def _connect(self) -> psycopg.AsyncConnection:
        # autocommit: transactions are explicit BEGIN/COMMIT, and pg_notify outside one is sent at once.
        return await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)

    async def open(self) -> None:
        self._closed = False
        conn = await self._connect()  # fails fast on a wrong URL
        await conn.execute(f"LISTEN {PG_CHANNEL}")
        self._listener = asyncio.create_task(self._listen(conn), name="stratus-pg-listener")

    async def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
            self._listener = None
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()

    async def _acquire(self) -> psycopg.AsyncConnection:
        if self._closed:
            raise RuntimeError("the PostgreSQL store is closed")
        await self._slots.acquire()
        try:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
            return await self._connect()
        except BaseException:
            self._slots.release()
            raise

    async def _release(self, conn: psycopg.AsyncConnection) -> None:
        try:
            if self._closed or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.close()
            else:
                self._idle.append(conn)
        finally:
            self._slots.release()

    async def _listen(self, conn: psycopg.AsyncConnection | None) -> None:
        delay = 0.1
        while True:
            try:
                if conn is None:
                    conn = await self._connect()
                    await conn.execute(f"LISTEN {PG_CHANNEL}")
                    # Notifications sent while we were away are lost: let every waiter re-check.
                    self._wakeups.wake_all()
                    log.info("reconnected the PostgreSQL listener")
                delay = 0.1
                async for note in conn.notifies():
                    token, _, channel = note.payload.partition(":")
                    if token == self._token:
                        continue
                    if channel == _ALL:
                        self._wakeups.wake_all()
                    else:
                        self._wakeups.wake(channel)
                raise psycopg.OperationalError("the listener connection ended")
            except asyncio.CancelledError:
                if conn is not None:
                    await conn.close()
                raise
            except Exception as exc:
                log.warning("PostgreSQL listener lost (%s); reconnecting in %.1fs", exc, delay)
                if conn is not None:
                    await conn.close()
                conn = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    async def notify_all(self) -> None:
        self._wakeups.wake_all()
        conn = await self._acquire()
        try:
            await conn.execute(f"SELECT pg_notify('{PG_CHANNEL}', %s)", [f"{self._token}:{_ALL}"])
        finally:
            await self._release(conn)

    async def migrate(self, component: str, migrations: Sequence[str]) -> None:
        await apply_migrations(self, component, migrations)
