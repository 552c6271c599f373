"""The blob store behind function code: files beside SQLite, rows in PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from stratus.store import open_store
from stratus.store.blobs import BlobNotFound, DatabaseBlobs, FileBlobs, open_blobs


def test_blobs_round_trip(store_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = open_store(store_url, tmp_path)
        await store.open()
        try:
            blobs = open_blobs(store, tmp_path)
            assert isinstance(blobs, DatabaseBlobs if store.dialect == "postgresql" else FileBlobs)
            await blobs.start()
            assert not await blobs.exists("lambda/code/a.zip")
            assert await blobs.put("lambda/code/a.zip", b"one") == 3
            assert await blobs.put("lambda/code/b.zip", io.BytesIO(b"two!")) == 4
            assert await blobs.get("lambda/code/a.zip") == b"one"
            await blobs.put("lambda/code/a.zip", b"replaced")
            with await blobs.open("lambda/code/a.zip") as handle:
                assert handle.read() == b"replaced"
            await blobs.delete("lambda/code/a.zip")
            await blobs.delete("lambda/code/a.zip")  # absent: nothing happens
            with pytest.raises(BlobNotFound):
                await blobs.get("lambda/code/a.zip")
            assert await blobs.exists("lambda/code/b.zip")
            with pytest.raises(ValueError):
                await blobs.put("../escape", b"x")
        finally:
            await store.close()

    asyncio.run(scenario())
