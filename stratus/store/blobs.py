"""The blob store: large bytes (function code, layers, later S3 objects) kept beside the database.

Two backends behind one small interface, chosen from the node's store:
- ``FileBlobs``: files under the data directory (with SQLite, where one process owns the data);
- ``DatabaseBlobs``: a table in the database (with PostgreSQL, so every node sharing the
  database sees the same bytes).

Keys are relative paths such as ``lambda/code/<sha256>.zip``. A ``put`` is atomic: readers see
the old bytes or the new ones, never a partial file.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from stratus.store.base import Store

_COMPONENT = "stratus.blobs"
_MIGRATIONS = [
    "CREATE TABLE stratus_blobs (key TEXT PRIMARY KEY, data {blob} NOT NULL, size {bigint} NOT NULL);",
]


class BlobNotFound(KeyError):
    """No blob under that key."""


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class Blobs(ABC):
    async def start(self) -> None:
        """Prepare the backend (create its table or directory); called once at node start."""

    @abstractmethod
    async def put(self, key: str, data: bytes | BinaryIO) -> int:
        """Store ``data`` (bytes or a readable binary file) under ``key``; answer its size."""

    @abstractmethod
    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises ``BlobNotFound``."""

    @abstractmethod
    async def open(self, key: str) -> BinaryIO:
        """A readable binary file of the blob (the caller closes it); raises ``BlobNotFound``."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is absent."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...


class FileBlobs(Blobs):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    async def start(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def put(self, key: str, data: bytes | BinaryIO) -> int:
        return await asyncio.to_thread(self._put, self._path(key), data)

    @staticmethod
    def _put(path: Path, data: bytes | BinaryIO) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out)
                size = out.tell()
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return await asyncio.to_thread(open, path, "rb")  # type: ignore[return-value]
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)


class DatabaseBlobs(Blobs):
    """Blobs as rows; each operation is one short transaction of its own (never inside another)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def start(self) -> None:
        await self.store.migrate(_COMPONENT, _MIGRATIONS)

    async def put(self, key: str, data: bytes | BinaryIO) -> int:
        raw = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else data.read()
        async with self.store.transaction() as tx:
            await tx.execute(
                "INSERT INTO stratus_blobs (key, data, size) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET data = excluded.data, size = excluded.size",
                (_check_key(key), raw, len(raw)),
            )
        return len(raw)

    async def get(self, key: str) -> bytes:
        async with self.store.transaction() as tx:
            row = await tx.fetchone("SELECT data FROM stratus_blobs WHERE key = ?", (_check_key(key),))
        if row is None:
            raise BlobNotFound(key)
        return bytes(row[0])

    async def open(self, key: str) -> BinaryIO:
        return io.BytesIO(await self.get(key))

    async def delete(self, key: str) -> None:
        async with self.store.transaction() as tx:
            await tx.execute("DELETE FROM stratus_blobs WHERE key = ?", (_check_key(key),))

    async def exists(self, key: str) -> bool:
        async with self.store.transaction() as tx:
            row = await tx.fetchone("SELECT 1 FROM stratus_blobs WHERE key = ?", (_check_key(key),))
        return row is not None


def open_blobs(store: Store, data_dir: Path) -> Blobs:
    """The blob store that goes with ``store``: shared rows on PostgreSQL, files beside SQLite."""
    if store.dialect == "postgresql":
        return DatabaseBlobs(store)
    return FileBlobs(Path(data_dir) / "blobs")
