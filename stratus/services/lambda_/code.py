"""The code store: deployment packages and layers, kept in the blob store and extracted per node.

Packages are content-addressed (``lambda/code/<sha256 hex>.zip``): a version that did not
change its code shares it, and a node that never saw a package extracts it from the blob
store the first time an environment needs it (several nodes on PostgreSQL share the blobs,
not the extracted directories).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from stratus.aws.api.lambda_ import InvalidParameterValueException
from stratus.aws.errors import AwsError
from stratus.services.lambda_.model import UNZIPPED_LIMIT, ZIP_UPLOAD_LIMIT
from stratus.store.blobs import Blobs


@dataclass(frozen=True, slots=True)
class CodeInfo:
    hex: str
    sha256: str  # base64, as CodeSha256
    size: int

    def to_json(self) -> dict[str, object]:
        return {"hex": self.hex, "sha256": self.sha256, "size": self.size}


def blob_key(hex_sha: str) -> str:
    return f"lambda/code/{hex_sha}.zip"


def check_zip(data: bytes) -> None:
    """Raise AWS's error for a package that is not a zip, is corrupt or unzips too large."""
    if len(data) > ZIP_UPLOAD_LIMIT:
        raise AwsError(
            f"Zipped size must be smaller than {ZIP_UPLOAD_LIMIT} bytes", code="RequestEntityTooLargeException", status=413
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
            bad = archive.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise InvalidParameterValueException("Could not unzip uploaded file. Please check your file, then try to upload again.") from None
    if bad is not None:
        raise InvalidParameterValueException("Could not unzip uploaded file. Please check your file, then try to upload again.")
    if unzipped > UNZIPPED_LIMIT:
        raise InvalidParameterValueException(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")


class CodeStore:
    def __init__(self, blobs: Blobs, root: Path) -> None:
        self.blobs = blobs
        self.root = Path(root)
        self._extracting: dict[str, asyncio.Lock] = {}

    async def save(self, data: bytes) -> CodeInfo:
        """Check and keep a package; answer what identifies it."""
        check_zip(data)
        digest = hashlib.sha256(data)
        info = CodeInfo(digest.hexdigest(), base64.b64encode(digest.digest()).decode(), len(data))
        if not await self.blobs.exists(blob_key(info.hex)):
            await self.blobs.put(blob_key(info.hex), data)
        return info

    async def read(self, hex_sha: str) -> bytes:
        return await self.blobs.get(blob_key(hex_sha))

    async def delete(self, hex_sha: str) -> None:
        await self.blobs.delete(blob_key(hex_sha))
        await asyncio.to_thread(shutil.rmtree, self.root / hex_sha, True)

    async def extracted(self, hex_sha: str) -> Path:
        """The package's directory on this node, extracted on first use."""
        target = self.root / hex_sha
        if target.is_dir():
            return target
        lock = self._extracting.setdefault(hex_sha, asyncio.Lock())
        async with lock:
            if not target.is_dir():
                data = await self.read(hex_sha)
                await asyncio.to_thread(_extract, data, target)
        return target


def _extract(data: bytes, target: Path) -> None:
    """Unzip into ``target`` atomically, keeping the Unix modes (a ``bootstrap`` must stay executable)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                path = tmp / info.filename
                if not path.resolve().is_relative_to(tmp.resolve()):
                    continue  # an entry escaping the package ("../x") is skipped, as unzip does
                archive.extract(info, tmp)
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(path, mode | 0o400)
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not target.is_dir():
            raise
