"""The stratus clock: a shared offset in the store that only moves forward."""

from __future__ import annotations

import asyncio

import pytest

from stratus.engine import Clock
from stratus.store import Store
from tests.integration.store.conftest import StoreFactory

pytestmark = pytest.mark.anyio


async def test_advance_is_shared_and_survives_a_restart(nodes: tuple[Store, Store], store_factory: StoreFactory) -> None:
    here, there = Clock(nodes[0]), Clock(nodes[1])
    await here.load()
    await there.load()
    assert here.offset_ms == 0
    await here.advance(3600)
    await here.advance(0.5)
    assert here.offset_ms == 3_600_500
    async with nodes[1].transaction() as tx:
        await there.refresh(tx)
    assert there.offset_ms == 3_600_500
    for store in nodes:
        await store.close()
    later = Clock(await store_factory())
    await later.load()
    assert later.offset_ms == 3_600_500


async def test_advance_wakes_every_waiter(nodes: tuple[Store, Store]) -> None:
    clock = Clock(nodes[0])
    await clock.load()
    # Subscribed before the clock moves (no sleep to let a waiter register): a wake-up that
    # arrives before the wait begins is kept for it.
    with nodes[1].subscribe("any-channel") as waiter:
        await clock.advance(60)
        assert await waiter.wait(15) is True


async def test_the_clock_never_goes_back(store: Store) -> None:
    clock = Clock(store)
    await clock.load()
    with pytest.raises(ValueError):
        await clock.advance(-1)
    assert clock.offset_ms == 0
