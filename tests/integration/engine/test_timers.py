"""Durable timers on both backends: fire, reschedule, cancel, retry, survive restarts, fire once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from stratus.engine import Clock, Timer, Timers
from stratus.store import Store
from tests.integration.store.conftest import StoreFactory, eventually

pytestmark = pytest.mark.anyio

HOUR_MS = 3_600_000


class Node:
    """One node's engine: its store, clock and timers."""

    def __init__(self, store: Store, node_id: str, lease_seconds: float) -> None:
        self.store = store
        self.clock = Clock(store)
        self.timers = Timers(store, self.clock, node_id, lease_seconds=lease_seconds)

    async def start(self) -> Node:
        await self.clock.load()
        await self.timers.start()
        return self

    async def schedule(self, kind: str, key: str, in_ms: int, payload: dict | None = None) -> None:
        async with self.store.transaction() as tx:
            await self.timers.schedule(tx, kind, key, self.clock.now_ms() + in_ms, payload)

    async def pending(self) -> list[tuple]:
        async with self.store.transaction() as tx:
            return await tx.fetchall("SELECT kind, key, attempts FROM stratus_timers ORDER BY kind, key")


@pytest.fixture
async def make_node() -> AsyncIterator[Callable[..., Awaitable[Node]]]:
    started: list[Node] = []

    async def make(store: Store, node_id: str = "node-a", lease_seconds: float = 30.0) -> Node:
        node = Node(store, node_id, lease_seconds)
        await node.clock.load()
        started.append(node)
        return node

    yield make
    for node in started:
        await node.timers.stop(grace_seconds=1)


def recorder(fired: asyncio.Queue[Timer]) -> Callable[[Timer], Awaitable[None]]:
    async def handler(timer: Timer) -> None:
        await fired.put(timer)

    return handler


async def next_fired(fired: asyncio.Queue[Timer]) -> Timer:
    return await asyncio.wait_for(fired.get(), 15)


async def test_a_due_timer_fires_with_its_payload_and_is_deleted(store: Store, make_node) -> None:
    node = await make_node(store)
    fired: asyncio.Queue[Timer] = asyncio.Queue()
    node.timers.on("test.fire", recorder(fired))
    await node.timers.start()
    await node.schedule("test.fire", "k1", 0, {"n": 1})
    timer = await next_fired(fired)
    assert (timer.kind, timer.key, timer.payload, timer.attempts) == ("test.fire", "k1", {"n": 1}, 0)
    await eventually(lambda: _empty(node))


async def _empty(node: Node) -> bool:
    return await node.pending() == []


async def test_reschedule_replaces_due_time_and_payload(store: Store, make_node) -> None:
    node = await make_node(store)
    fired: asyncio.Queue[Timer] = asyncio.Queue()
    node.timers.on("test.move", recorder(fired))
    await node.schedule("test.move", "k", HOUR_MS, {"v": "old"})
    await node.schedule("test.move", "k", 0, {"v": "new"})
    await node.timers.start()
    assert (await next_fired(fired)).payload == {"v": "new"}
    await eventually(lambda: _empty(node))
    assert fired.empty()


async def test_a_handler_that_reschedules_its_own_timer_keeps_it(store: Store, make_node) -> None:
    node = await make_node(store)
    seen: list[int] = []
    done = asyncio.Event()

    async def tick(timer: Timer) -> None:
        seen.append(timer.payload["n"])
        if timer.payload["n"] < 3:
            await node.schedule("test.tick", timer.key, 0, {"n": timer.payload["n"] + 1})
        else:
            done.set()

    node.timers.on("test.tick", tick)
    await node.timers.start()
    await node.schedule("test.tick", "periodic", 0, {"n": 1})
    await asyncio.wait_for(done.wait(), 15)
    await eventually(lambda: _empty(node))
    assert seen == [1, 2, 3]


async def test_a_cancelled_timer_never_fires(store: Store, make_node) -> None:
    node = await make_node(store)
    fired: asyncio.Queue[Timer] = asyncio.Queue()
    node.timers.on("test.cancel", recorder(fired))
    await node.schedule("test.cancel", "dropped", 0)
    await node.schedule("test.cancel", "kept", 0)
    async with store.transaction() as tx:
        await node.timers.cancel(tx, "test.cancel", "dropped")
    await node.timers.start()
    assert (await next_fired(fired)).key == "kept"
    await eventually(lambda: _empty(node))
    assert fired.empty()


async def test_timers_survive_a_restart(store: Store, store_factory: StoreFactory, make_node) -> None:
    before = await make_node(store)
    await before.schedule("test.durable", "k", 0, {"kept": True})
    await store.close()

    after = await make_node(await store_factory())
    fired: asyncio.Queue[Timer] = asyncio.Queue()
    after.timers.on("test.durable", recorder(fired))
    await after.timers.start()
    assert (await next_fired(fired)).payload == {"kept": True}


async def test_advancing_the_clock_fires_a_far_future_timer(store: Store, make_node) -> None:
    node = await make_node(store)
    fired: asyncio.Queue[Timer] = asyncio.Queue()
    node.timers.on("test.far", recorder(fired))
    await node.timers.start()
    await node.schedule("test.far", "tomorrow", 24 * HOUR_MS)
    # A timer due now, scheduled after it: once it fired, the loop has claimed past the far one.
    await node.schedule("test.far", "now", 0)
    assert (await next_fired(fired)).key == "now"
    assert fired.empty()

    async def only_tomorrow_pending() -> bool:
        return await node.pending() == [("test.far", "tomorrow", 0)]

    await eventually(only_tomorrow_pending)
    await node.clock.advance(24 * 3600 + 1)
    assert (await next_fired(fired)).key == "tomorrow"


async def test_a_failing_handler_is_retried_with_attempts_counted(store: Store, make_node) -> None:
    node = await make_node(store)
    attempts: list[int] = []
    done = asyncio.Event()

    async def flaky(timer: Timer) -> None:
        attempts.append(timer.attempts)
        if timer.attempts < 2:
            raise RuntimeError("not yet")
        done.set()

    node.timers.on("test.flaky", flaky)
    await node.timers.start()
    await node.schedule("test.flaky", "k", 0)
    # Backoff is on the stratus clock: move it past each retry instead of waiting.
    async def retried() -> bool:
        if not done.is_set():
            await node.clock.advance(10)
        return done.is_set()

    await eventually(retried)
    assert attempts == [0, 1, 2]
    await eventually(lambda: _empty(node))


async def test_leases_of_dead_nodes_are_taken_over_and_live_ones_kept(backend: str, store: Store, make_node) -> None:
    node = await make_node(store, "node-b")
    fired: asyncio.Queue[Timer] = asyncio.Queue()
    node.timers.on("test.lease", recorder(fired))
    now_real = time.time_ns() // 1_000_000
    async with store.transaction() as tx:
        for key, owner, lease_until in [
            ("crashed", "node-gone", now_real - 1),  # its node died; the lease ran out
            ("busy", "node-live", now_real + HOUR_MS),  # another node holds it
            ("mine", "node-b", now_real + HOUR_MS),  # this node's previous life held it
        ]:
            await tx.execute(
                "INSERT INTO stratus_timers (kind, key, due_ms, lease_owner, lease_until) VALUES (?, ?, ?, ?, ?)",
                ("test.lease", key, node.clock.now_ms(), owner, lease_until),
            )
    await node.timers.start()
    if backend == "sqlite":
        # One process per SQLite file: at start, every lease in it belonged to a dead process.
        expected = {"crashed", "busy", "mine"}
        left = []
    else:
        expected = {"crashed", "mine"}
        left = [("test.lease", "busy", 0)]
    assert {(await next_fired(fired)).key for _ in expected} == expected

    async def only_live_lease_left() -> bool:
        return await node.pending() == left

    await eventually(only_live_lease_left)


async def test_two_nodes_fire_each_timer_exactly_once(
    backend: str, nodes: tuple[Store, Store], make_node
) -> None:
    if backend == "sqlite":
        pytest.skip("one node per SQLite file")
    fired: list[tuple[str, str]] = []
    all_fired = asyncio.Event()
    count = 60

    def handler_for(node_id: str) -> Callable[[Timer], Awaitable[None]]:
        async def handler(timer: Timer) -> None:
            fired.append((node_id, timer.key))
            await asyncio.sleep(0.001)
            if len(fired) >= count:
                all_fired.set()

        return handler

    a = await make_node(nodes[0], "node-a")
    b = await make_node(nodes[1], "node-b")
    a.timers.on("test.once", handler_for("a"))
    b.timers.on("test.once", handler_for("b"))
    await a.timers.start()
    await b.timers.start()
    for i in range(count):
        await (a if i % 2 else b).schedule("test.once", f"k{i:02d}", 0)
    await asyncio.wait_for(all_fired.wait(), 15)
    await eventually(lambda: _empty(a))
    assert sorted(key for _, key in fired) == [f"k{i:02d}" for i in range(count)]


async def test_a_handler_outliving_its_lease_keeps_it_by_renewal(
    backend: str, nodes: tuple[Store, Store], make_node
) -> None:
    if backend == "sqlite":
        pytest.skip("one node per SQLite file")
    runs: list[str] = []
    finished = asyncio.Event()
    lease_ms = 300

    async def lease_until() -> int:
        async with nodes[0].transaction() as tx:
            row = await tx.fetchone("SELECT lease_until FROM stratus_timers WHERE kind = 'test.slow'")
        return row[0] if row and row[0] is not None else 0

    def slow(node_id: str) -> Callable[[Timer], Awaitable[None]]:
        async def handler(timer: Timer) -> None:
            runs.append(node_id)
            claimed_ms = time.time_ns() // 1_000_000
            # Run until the lease was renewed past five leases from the claim: only renewals
            # kept the other node off it that long.
            async def renewed() -> bool:
                return await lease_until() >= claimed_ms + 5 * lease_ms

            await eventually(renewed)
            finished.set()

        return handler

    a = await make_node(nodes[0], "node-a", lease_seconds=lease_ms / 1000)
    b = await make_node(nodes[1], "node-b", lease_seconds=lease_ms / 1000)
    a.timers.on("test.slow", slow("a"))
    b.timers.on("test.slow", slow("b"))
    await a.schedule("test.slow", "k", 0)
    await a.timers.start()
    await b.timers.start()
    await asyncio.wait_for(finished.wait(), 15)
    await eventually(lambda: _empty(a))
    assert len(runs) == 1
