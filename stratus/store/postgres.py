"""The PostgreSQL store: several stratus nodes share one database.

Each node keeps a small pool of connections for transactions and one more connection
that LISTENs. Every notification goes over a single channel, ``stratus``, with
``<store token>:<channel>`` as payload: channel names need no quoting, and a node skips its
own notifications (it has already woken its local waiters at commit).

Transactions drive libpq directly (psycopg's ``pq`` layer and its C adapters), in pipeline
mode, because round trips are what a transaction costs here: each one is a send, a wake-up
of the server and a loop turn. ``BEGIN`` travels with the transaction's first statement,
and the ``pg_notify`` calls with ``COMMIT``, so a select-then-insert transaction takes three
round trips, not five. Every statement is a fixed string, so each is prepared on a
connection the first time it runs there.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any, Literal

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

from stratus.store.base import Params, Row, Store, Tx
from stratus.store.migrate import apply_migrations

log = logging.getLogger("stratus.store.postgres")

PG_CHANNEL = "stratus"
_ALL = "*"  # the payload channel of notify_all
_NOTIFY = f"SELECT pg_notify('{PG_CHANNEL}', ?)"
# Beyond this many prepared statements a connection runs new ones unnamed: the cache stays bounded.
_MAX_PREPARED = 512

_IDLE = pq.TransactionStatus.IDLE
_BAD = pq.ConnStatus.BAD
_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_PIPELINE_SYNC = pq.ExecStatus.PIPELINE_SYNC
_PIPELINE_ABORTED = pq.ExecStatus.PIPELINE_ABORTED
_TUPLES_OK = pq.ExecStatus.TUPLES_OK


@lru_cache(maxsize=4096)
def to_numbered(sql: str) -> str:
    """Rewrite ``?`` placeholders as PostgreSQL's ``$1``, ``$2``, ... outside quotes."""
    out: list[str] = []
    quote = ""
    n = 0
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(char)
    return "".join(out)


@lru_cache(maxsize=64)
def _auto_formats(n: int) -> list[PyFormat]:
    return [PyFormat.AUTO] * n


class _Session:
    """One pooled connection, driven through libpq in pipeline mode.

    ``clean`` is False while a request is in flight: a session left that way (cancelled
    mid-wait, connection lost) holds results nobody will read, so it is closed, not reused.
    """

    __slots__ = ("conn", "pgconn", "fileno", "encoding", "adapt", "prepared", "names", "clean")

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self.conn = conn
        self.pgconn = conn.pgconn
        self.fileno = self.pgconn.socket
        self.encoding = conn.info.encoding
        self.adapt = Transformer(conn)  # C-accelerated dumpers and loaders, as psycopg's cursors use
        # (SQL, parameter types) -> statement name, for the statements prepared on this connection.
        self.prepared: dict[tuple[str, tuple[int, ...]], bytes] = {}
        self.names = 0  # statement names are never reused, so a failed Parse cannot collide
        self.clean = True

    def reusable(self) -> bool:
        pgconn = self.pgconn
        return self.clean and pgconn.status != _BAD and pgconn.transaction_status == _IDLE

    async def pipeline(self, statements: Sequence[tuple[str, Params]]) -> list[pq.abc.PGresult]:
        """Run ``statements`` in one round trip; answer their results, or raise the first error.

        A failed statement makes the server skip the rest up to the sync point; a failure
        inside a transaction block leaves the block aborted (the caller rolls back).
        """
        pgconn = self.pgconn
        adapt = self.adapt
        prepared = self.prepared
        # Per queued query: None for a statement, or the key of a Parse to forget if it fails.
        queued: list[tuple[str, tuple[int, ...]] | None] = []
        self.clean = False
        pgconn.enter_pipeline_mode()
        for sql, params in statements:
            if params:
                text = to_numbered(sql)
                values = adapt.dump_sequence(params, _auto_formats(len(params)))
                types, formats = adapt.types, adapt.formats
            else:
                text, values, types, formats = sql, None, (), None
            key = (text, types)
            name = prepared.get(key)
            if name is None:
                if len(prepared) >= _MAX_PREPARED:
                    pgconn.send_query_params(text.encode(self.encoding), values, types, formats)
                    queued.append(None)
                    continue
                self.names += 1
                name = prepared[key] = b"s%d" % self.names
                pgconn.send_prepare(name, text.encode(self.encoding), types)
                queued.append(key)
            pgconn.send_query_prepared(name, values, formats)
            queued.append(None)
        pgconn.pipeline_sync()
        await self._flush()
        results = await self._read_pipeline()
        pgconn.exit_pipeline_mode()
        self.clean = True
        error = None
        out = []
        for pending, result in zip(queued, results, strict=True):
            status = result.status
            if pending is not None:
                if status == _FATAL_ERROR or status == _PIPELINE_ABORTED:
                    del prepared[pending]
            else:
                out.append(result)
            if status == _FATAL_ERROR and error is None:
                error = result
        if error is not None:
            raise errors.error_from_result(error, encoding=self.encoding)
        return out

    async def simple(self, sql: str) -> pq.abc.PGresult:
        """Run ``sql`` (possibly several statements) with the simple protocol; answer the last result."""
        pgconn = self.pgconn
        self.clean = False
        pgconn.send_query(sql.encode(self.encoding))
        await self._flush()
        results = []
        while True:
            result = await self._next_result()
            if result is None:
                break
            results.append(result)
        self.clean = True
        for result in results:
            if result.status == _FATAL_ERROR:
                raise errors.error_from_result(result, encoding=self.encoding)
        return results[-1]

    async def _flush(self) -> None:
        pgconn = self.pgconn
        while pgconn.flush():
            # The output did not fit the socket: read meanwhile, or a server blocked on
            # sending us results would never read the rest.
            await self._wait(writable=True)
            pgconn.consume_input()

    async def _read_pipeline(self) -> list[pq.abc.PGresult]:
        """One result per queued query, up to the sync point (libpq separates them with None)."""
        results = []
        while True:
            result = await self._next_result()
            if result is None:
                continue
            if result.status == _PIPELINE_SYNC:
                return results
            results.append(result)

    async def _next_result(self) -> pq.abc.PGresult | None:
        pgconn = self.pgconn
        while pgconn.is_busy():
            await self._wait()
            pgconn.consume_input()  # raises OperationalError when the connection is lost
        result = pgconn.get_result()
        if result is None and pgconn.status == _BAD:
            raise psycopg.OperationalError(pgconn.get_error_message())
        return result

    async def _wait(self, *, writable: bool = False) -> None:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        fileno = self.fileno
        loop.add_reader(fileno, wake)
        if writable:
            loop.add_writer(fileno, wake)
        try:
            await ready
        finally:
            loop.remove_reader(fileno)
            if writable:
                loop.remove_writer(fileno)


class PostgresTx(Tx):
    """A transaction, and its own ``async with`` (``store.transaction()`` answers one)."""

    __slots__ = ("_store", "_session", "_begun", "channels")

    dialect: Literal["postgresql"] = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._session: _Session | None = None
        self._begun = False
        self.channels: set[str] = set()

    async def _run(self, sql: str, params: Params) -> pq.abc.PGresult:
        if params:
            return (await self._pipeline([(sql, params)]))[-1]
        session = self._session
        assert session is not None, "use the transaction inside its async with block"
        if self._begun:
            return await session.simple(sql)
        result = await self._first(lambda s: s.simple(f"BEGIN; {sql}"))
        return result

    async def _pipeline(self, statements: list[tuple[str, Params]]) -> list[pq.abc.PGresult]:
        session = self._session
        assert session is not None, "use the transaction inside its async with block"
        if self._begun:
            return await session.pipeline(statements)
        results = await self._first(lambda s: s.pipeline([("BEGIN", ()), *statements]))
        return results[1:]

    async def _first(self, run: Any) -> Any:
        """The first round trip, which opens the transaction block.

        An idle pooled connection may have died (a server restart): nothing ran on it, so
        the round trip is retried once on a new connection.
        """
        session = self._session
        assert session is not None
        try:
            try:
                return await run(session)
            except psycopg.OperationalError:
                if session.pgconn.status != _BAD:
                    raise
            self._session = None
            await self._store._release(session)
            session = self._session = await self._store._acquire()
            return await run(session)
        finally:
            # Opened, or failed with the block perhaps open: __aexit__ reads the connection's state.
            self._begun = True

    async def execute(self, sql: str, params: Params = ()) -> int:
        tuples = (await self._run(sql, params)).command_tuples
        return -1 if tuples is None else tuples

    async def executemany(self, sql: str, params: Sequence[Params]) -> None:
        if params:
            await self._pipeline([(sql, p) for p in params])

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        result = await self._run(sql, params)
        if result.status != _TUPLES_OK or not result.ntuples:
            return None
        adapt = self._session.adapt  # type: ignore[union-attr]
        adapt.set_pgresult(result)
        row: Row = adapt.load_row(0, tuple)
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        result = await self._run(sql, params)
        if result.status != _TUPLES_OK:
            return []
        adapt = self._session.adapt  # type: ignore[union-attr]
        adapt.set_pgresult(result)
        rows: list[Row] = adapt.load_rows(0, result.ntuples, tuple)
        return rows

    def notify(self, channel: str) -> None:
        self.channels.add(channel)

    async def __aenter__(self) -> PostgresTx:
        self._session = await self._store._acquire()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store, session = self._store, self._session
        assert session is not None
        self._session = None
        try:
            if exc_type is None:
                # pg_notify is queued by the server and delivered to every listener only if
                # COMMIT succeeds; outside a block (nothing ran) it commits on its own.
                in_block = session.pgconn.transaction_status != _IDLE
                token = store._token
                batch: list[tuple[str, Params]] = [(_NOTIFY, (f"{token}:{channel}",)) for channel in self.channels]
                if in_block:
                    batch.append(("COMMIT", ()))
                if batch:
                    results = await session.pipeline(batch)
                    if in_block and results[-1].command_status != b"COMMIT":
                        # A statement failed and the caller carried on: the server rolled back.
                        raise errors.InFailedSqlTransaction("the transaction was rolled back: a statement in it failed")
        finally:
            # An error, or a commit that failed: end the block so the connection can be reused.
            if session.clean and session.pgconn.status != _BAD and session.pgconn.transaction_status != _IDLE:
                try:
                    await session.pipeline([("ROLLBACK", ())])
                except Exception:  # the original error matters more; the connection is dropped below
                    log.debug("rollback failed", exc_info=True)
            await store._release(session)
        if exc_type is None:
            for channel in self.channels:
                store._wakeups.wake(channel)


class PostgresStore(Store):
    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        super().__init__()
        self.dsn = dsn
        self._token = uuid.uuid4().hex[:12]
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[_Session] = []
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
        for session in idle:
            await session.conn.close()

    async def _acquire(self) -> _Session:
        if self._closed:
            raise RuntimeError("the PostgreSQL store is closed")
        await self._slots.acquire()
        try:
            while self._idle:
                session = self._idle.pop()
                if session.pgconn.status != _BAD:
                    return session
                await session.conn.close()
            return _Session(await self._connect())
        except BaseException:
            self._slots.release()
            raise

    async def _release(self, session: _Session) -> None:
        try:
            if self._closed or not session.reusable():
                await session.conn.close()
            else:
                self._idle.append(session)
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

    def transaction(self) -> PostgresTx:
        return PostgresTx(self)

    async def notify_all(self) -> None:
        self._wakeups.wake_all()
        session = await self._acquire()
        try:
            await session.pipeline([(_NOTIFY, (f"{self._token}:{_ALL}",))])
        finally:
            await self._release(session)

    async def migrate(self, component: str, migrations: Sequence[str]) -> None:
        await apply_migrations(self, component, migrations)
