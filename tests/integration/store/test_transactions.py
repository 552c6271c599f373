"""Transactions, claims and wake-ups, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stratus.store import Store, open_store
from stratus.store.postgres import PostgresStore
from stratus.store.sqlite import SqliteStore
from tests.integration.store.conftest import StoreFactory, eventually

pytestmark = pytest.mark.anyio

JOBS = ["CREATE TABLE jobs (id {serial}, name TEXT NOT NULL, owner TEXT)"]


async def test_commit_is_visible_and_an_error_rolls_back(store: Store) -> None:
    await store.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"])
    async with store.transaction() as tx:
        assert await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("a", 1)) == 1
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("b", 2))
            raise RuntimeError("boom")
    with pytest.raises(Exception, match="(?i)unique"):
        async with store.transaction() as tx:
            await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("c", 3))
            await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("a", 4))
    async with store.transaction() as tx:
        assert await tx.fetchall("SELECT k, v FROM kv ORDER BY k") == [("a", 1)]
        assert await tx.fetchone("SELECT v FROM kv WHERE k = ?", ("zz",)) is None


async def test_executemany_rowcount_and_literal_marks(store: Store) -> None:
    await store.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"])
    async with store.transaction() as tx:
        await tx.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", [("a", 1), ("b", 2), ("c", 3)])
        assert await tx.execute("UPDATE kv SET v = v + 10 WHERE v >= ?", (2,)) == 2
        # '?' and '%' inside a string literal are text, not placeholders, on both dialects.
        assert await tx.fetchone("SELECT '50%?' || k FROM kv WHERE k = ?", ("b",)) == ("50%?b",)
        assert await tx.fetchone("SELECT COUNT(*) FROM kv WHERE k LIKE 'b%'") == (1,)
    async with store.transaction() as tx:
        assert await tx.fetchall("SELECT v FROM kv ORDER BY k") == [(1,), (12,), (13,)]


async def test_claims_with_returning_never_overlap(nodes: tuple[Store, Store]) -> None:
    first, second = nodes
    await first.migrate("t", JOBS)
    async with first.transaction() as tx:
        await tx.executemany("INSERT INTO jobs (name) VALUES (?)", [(f"job{i}",) for i in range(40)])

    async def claim(store: Store, owner: str) -> list[str]:
        got: list[str] = []
        while True:
            async with store.transaction() as tx:
                rows = await tx.fetchall(
                    "UPDATE jobs SET owner = ? WHERE id IN ("
                    f"SELECT id FROM jobs WHERE owner IS NULL ORDER BY id LIMIT ?{tx.skip_locked}) RETURNING name",
                    (owner, 3),
                )
                await asyncio.sleep(0)  # let the other claimers run while this one holds its rows
            if not rows:
                return got
            got += [row[0] for row in rows]

    results = await asyncio.gather(*(claim(store, f"w{i}") for i, store in enumerate([first, second] * 2)))
    claimed = [name for names in results for name in names]
    assert sorted(claimed) == sorted(f"job{i}" for i in range(40))


async def test_notify_wakes_a_waiter_only_after_commit(store: Store) -> None:
    assert await store.wait("queue-a", 0.01) is False
    waiter = asyncio.create_task(store.wait("queue-a", 30))
    await asyncio.sleep(0)
    async with store.transaction() as tx:
        tx.notify("queue-a")
        await asyncio.sleep(0.05)
        assert not waiter.done()
    assert await asyncio.wait_for(waiter, 15) is True


async def test_no_wake_up_on_rollback(store: Store) -> None:
    waiter = asyncio.create_task(store.wait("queue-b", 0.3))
    await asyncio.sleep(0)
    with pytest.raises(ValueError):
        async with store.transaction() as tx:
            tx.notify("queue-b")
            raise ValueError("rolled back")
    assert await waiter is False


async def test_a_subscription_keeps_a_wake_up_that_came_while_not_waiting(store: Store) -> None:
    with store.subscribe("queue-c") as subscription:
        async with store.transaction() as tx:
            tx.notify("queue-c")
        assert await subscription.wait(0) is True
        assert await subscription.wait(0.01) is False


async def test_notify_all_wakes_every_channel(store: Store) -> None:
    waiters = [asyncio.create_task(store.wait(channel, 30)) for channel in ("x", "y")]
    await asyncio.sleep(0)
    await store.notify_all()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 15) == [True, True]


async def test_notify_crosses_nodes(backend: str, nodes: tuple[Store, Store]) -> None:
    if backend == "sqlite":
        pytest.skip("one node per SQLite file: wake-ups are in-process")
    here, there = nodes
    waiter = asyncio.create_task(here.wait("queue-d", 30))
    other = asyncio.create_task(here.wait("queue-e", 30))
    await asyncio.sleep(0.05)  # the waiters register; the listener is LISTENing since open()
    async with there.transaction() as tx:
        tx.notify("queue-d")
    assert await asyncio.wait_for(waiter, 15) is True
    assert not other.done()
    await there.notify_all()
    assert await asyncio.wait_for(other, 15) is True


async def test_commits_survive_a_reopen(store: Store, store_factory: StoreFactory) -> None:
    await store.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY, v {blob})"])
    async with store.transaction() as tx:
        await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("a", b"\x00\xffbytes"))
    await store.close()
    reopened = await store_factory()
    async with reopened.transaction() as tx:
        assert await tx.fetchone("SELECT v FROM kv WHERE k = ?", ("a",)) == (b"\x00\xffbytes",)


def test_a_sqlite_commit_survives_sigkill(tmp_path: Path) -> None:
    """synchronous=NORMAL in WAL mode: COMMIT has reached the WAL file when it returns."""
    path = f"{tmp_path}/kill.db"
    program = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from pathlib import Path
        from stratus.store.sqlite import SqliteStore

        async def main():
            store = SqliteStore(Path({path!r}))
            await store.open()
            await store.migrate("t", ["CREATE TABLE kv (k TEXT PRIMARY KEY)"])
            async with store.transaction() as tx:
                await tx.execute("INSERT INTO kv (k) VALUES (?)", ("kept",))
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", program], timeout=60)
    assert result.returncode == -9

    async def read() -> list[tuple[str]]:
        store = SqliteStore(Path(path))
        await store.open()
        try:
            async with store.transaction() as tx:
                return await tx.fetchall("SELECT k FROM kv")
        finally:
            await store.close()

    assert asyncio.run(read()) == [("kept",)]


async def test_the_listener_reconnects_after_losing_its_connection(
    backend: str, nodes: tuple[Store, Store], store_factory: StoreFactory
) -> None:
    if backend == "sqlite":
        pytest.skip("no listener on SQLite")
    here, there = nodes

    async def listener_pids() -> set[int]:
        async with there.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        return {row[0] for row in rows}

    before = await listener_pids()
    assert len(before) == 2
    missed = asyncio.create_task(here.wait("queue-f", 30))
    await asyncio.sleep(0.05)
    async with there.transaction() as tx:
        for pid in before:
            await tx.execute("SELECT pg_terminate_backend(?)", (pid,))
    # Notifications sent while a listener was away are lost, so a reconnect wakes every waiter.
    assert await asyncio.wait_for(missed, 15) is True

    async def both_back() -> bool:
        pids = await listener_pids()
        return len(pids) == 2 and not pids & before

    await eventually(both_back)
    waiter = asyncio.create_task(here.wait("queue-f", 30))
    await asyncio.sleep(0.05)
    async with there.transaction() as tx:
        tx.notify("queue-f")
    assert await asyncio.wait_for(waiter, 15) is True


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store("sqlite", tmp_path), SqliteStore)
    assert open_store("sqlite", tmp_path).path == tmp_path / "stratus.db"  # type: ignore[attr-defined]
    assert open_store(str(tmp_path / "other.db"), tmp_path).path == tmp_path / "other.db"  # type: ignore[attr-defined]
    assert isinstance(open_store("postgresql://u@h:5432/db", tmp_path), PostgresStore)
