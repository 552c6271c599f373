"""A store on each backend, opened for one test (``store_url`` comes from tests/conftest.py).

``store_factory`` opens more stores on the same data: a reopen after close (durability), or
on PostgreSQL a second node. Two stores on one SQLite file in one process are not two
nodes (wake-ups are in-process per store), so multi-node tests use ``nodes``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from stratus.store import Store, open_store

StoreFactory = Callable[[], Awaitable[Store]]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store_factory(store_url: str, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    opened: list[Store] = []

    async def make() -> Store:
        store = open_store(store_url, tmp_path)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def store(store_factory: StoreFactory) -> Store:
    return await store_factory()


@pytest.fixture
async def nodes(backend: str, store: Store, store_factory: StoreFactory) -> tuple[Store, Store]:
    """Two nodes sharing state: two stores on PostgreSQL, the one store twice on SQLite."""
    if backend == "sqlite":
        return store, store
    return store, await store_factory()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait until ``check()`` holds; the timeout only guards against a hang."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.01)
