"""The PostgreSQL store's pipelined sessions: errors, lost connections, cancellation, big batches.

The store drives libpq itself (BEGIN sent with the first statement, statements prepared per
connection), so these check what psycopg used to handle: that a connection is reused only
when it is clean, and that prepared statements stay right across failures.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from stratus.store import Store
from tests.integration.store.conftest import StoreFactory

pytestmark = pytest.mark.anyio


@pytest.fixture
def pg(backend: str, store: Store) -> Store:
    if backend != "postgresql":
        pytest.skip("PostgreSQL sessions only")
    return store


async def backend_pid(store: Store) -> int:
    async with store.transaction() as tx:
        row = await tx.fetchone("SELECT pg_backend_pid() + ?", (0,))
    assert row is not None
    return int(row[0])


async def test_a_failed_statement_rolls_back_and_the_connection_is_reused(pg: Store) -> None:
    await pg.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY, v {bigint})"])
    pid = await backend_pid(pg)
    with pytest.raises(psycopg.errors.UniqueViolation):
        async with pg.transaction() as tx:
            await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("a", 1))
            await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("a", 2))
    # The first statement of a transaction (sent with BEGIN) failing leaves nothing behind either.
    with pytest.raises(psycopg.errors.UndefinedTable):
        async with pg.transaction() as tx:
            await tx.execute("INSERT INTO nowhere (k) VALUES (?)", ("a",))
    assert await backend_pid(pg) == pid
    async with pg.transaction() as tx:
        assert await tx.fetchall("SELECT k FROM kv") == []


async def test_a_statement_that_fails_to_prepare_fails_again_and_others_still_run(pg: Store) -> None:
    await pg.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY, v {bigint})"])
    for _ in range(2):
        with pytest.raises(psycopg.errors.UndefinedColumn):
            async with pg.transaction() as tx:
                await tx.fetchone("SELECT missing FROM kv WHERE k = ?", ("a",))
    # The same statement, once its table has the column, prepares and runs.
    async with pg.transaction() as tx:
        await tx.execute("ALTER TABLE kv ADD COLUMN missing TEXT")
        await tx.execute("INSERT INTO kv (k, v, missing) VALUES (?, ?, ?)", ("a", 1, "here"))
    async with pg.transaction() as tx:
        assert await tx.fetchone("SELECT missing FROM kv WHERE k = ?", ("a",)) == ("here",)


async def test_commit_after_a_swallowed_error_raises_and_keeps_nothing(pg: Store) -> None:
    await pg.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY, v {bigint})"])
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        async with pg.transaction() as tx:
            await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("a", 1))
            with pytest.raises(psycopg.errors.UniqueViolation):
                await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("a", 2))
    async with pg.transaction() as tx:
        assert await tx.fetchall("SELECT k FROM kv") == []


async def test_same_statement_with_other_parameter_types(pg: Store) -> None:
    await pg.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY, v {bigint}, note TEXT, data {blob})"])
    sql = "INSERT INTO kv (k, v, note, data) VALUES (?, ?, ?, ?)"
    async with pg.transaction() as tx:
        # A small int, a large one, None and text, bytes and None: each its own prepared statement.
        await tx.execute(sql, ("a", 1, None, b"\x00\x01"))
        await tx.execute(sql, ("b", 2**40, "note", None))
        await tx.executemany(sql, [("c", 3, "x", b""), ("d", 2**62, None, b"\xff")])
    async with pg.transaction() as tx:
        assert await tx.fetchall("SELECT k, v, note, data FROM kv ORDER BY k") == [
            ("a", 1, None, b"\x00\x01"),
            ("b", 2**40, "note", None),
            ("c", 3, "x", b""),
            ("d", 2**62, None, b"\xff"),
        ]


async def test_a_large_batch_goes_through(pg: Store) -> None:
    """Many megabytes in one pipeline: more than the socket buffers, in both directions."""
    await pg.migrate("t", ["CREATE TABLE blobs (id {bigint} PRIMARY KEY, data {blob})"])
    payload = bytes(range(256)) * 16  # 4 KiB
    async with pg.transaction() as tx:
        await tx.executemany("INSERT INTO blobs (id, data) VALUES (?, ?)", [(i, payload) for i in range(3000)])
        rows = await tx.fetchall("SELECT id, data FROM blobs WHERE id >= ? ORDER BY id", (0,))
    assert len(rows) == 3000
    assert all(data == payload for _, data in rows)


async def test_a_killed_idle_connection_is_replaced_transparently(pg: Store, store_factory: StoreFactory) -> None:
    pid = await backend_pid(pg)
    other = await store_factory()
    async with other.transaction() as tx:
        assert await tx.fetchone("SELECT pg_terminate_backend(?)", (pid,)) == (True,)
    await asyncio.sleep(0.1)  # the backend exits
    assert await backend_pid(pg) != pid


async def test_a_cancelled_statement_does_not_leave_its_connection_in_the_pool(pg: Store) -> None:
    pid = await backend_pid(pg)

    async def slow() -> None:
        async with pg.transaction() as tx:
            await tx.execute("SELECT pg_sleep(?)", (0.5,))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The cancelled session had a result in flight: it was closed, and a new one answers.
    assert await backend_pid(pg) != pid
    async with pg.transaction() as tx:
        assert await tx.fetchone("SELECT ? || ?", ("a", "b")) == ("ab",)
