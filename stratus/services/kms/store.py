"""KMS's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass

from stratus.services.kms.model import Key
from stratus.store.base import Row, Tx

_KEY_COLUMNS = "account, region, key_id, state, created_ms, data"


def _key(row: Row) -> Key:
    data = json.loads(row[5])
    return Key(account=row[0], region=row[1], key_id=row[2], state=row[3], created_ms=row[4], **data)


# --- master key ---------------------------------------------------------------------------


async def master_key(tx: Tx, candidate: bytes) -> bytes:
    """The deployment's master key: ``candidate`` when none exists yet (first node to start wins)."""
    await tx.execute("INSERT INTO kms_master (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING", (candidate,))
    row = await tx.fetchone("SELECT secret FROM kms_master WHERE id = 1")
    assert row is not None
    return bytes(row[0])


# --- keys ---------------------------------------------------------------------------------


async def get_key(tx: Tx, account: str, region: str, key_id: str) -> Key | None:
    row = await tx.fetchone(
        f"SELECT {_KEY_COLUMNS} FROM kms_keys WHERE account = ? AND region = ? AND key_id = ?",
        (account, region, key_id),
    )
    return _key(row) if row else None


async def insert_key(tx: Tx, key: Key, wrapped: bytes) -> None:
    await tx.execute(
        f"INSERT INTO kms_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (key.account, key.region, key.key_id, key.state, key.created_ms, json.dumps(key.data())),
    )
    await add_material(tx, key, key.current_material, wrapped, key.created_ms, None)


async def update_key(tx: Tx, key: Key) -> None:
    await tx.execute(
        "UPDATE kms_keys SET state = ?, data = ? WHERE account = ? AND region = ? AND key_id = ?",
        (key.state, json.dumps(key.data()), key.account, key.region, key.key_id),
    )


async def delete_key(tx: Tx, key: Key) -> None:
    """The key, all its material and every alias that points at it."""
    where = "WHERE account = ? AND region = ? AND key_id = ?"
    params = (key.account, key.region, key.key_id)
    for table in ("kms_aliases", "kms_key_materials", "kms_keys"):
        await tx.execute(f"DELETE FROM {table} {where}", params)


async def list_key_ids(tx: Tx, account: str, region: str, after: str, limit: int) -> list[str]:
    """Up to ``limit`` key ids after ``after``, in id order (the order ListKeys pages in)."""
    rows = await tx.fetchall(
        "SELECT key_id FROM kms_keys WHERE account = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?",
        (account, region, after, limit),
    )
    return [r[0] for r in rows]


# --- material -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Material:
    material_id: str
    created_ms: int
    rotation_type: str | None


async def add_material(
    tx: Tx, key: Key, material_id: str, wrapped: bytes, now: int, rotation_type: str | None
) -> None:
    await tx.execute(
        "INSERT INTO kms_key_materials (account, region, key_id, material_id, wrapped, created_ms, rotation_type)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key.account, key.region, key.key_id, material_id, wrapped, now, rotation_type),
    )


async def wrapped_material(tx: Tx, key: Key, material_id: str) -> bytes | None:
    row = await tx.fetchone(
        "SELECT wrapped FROM kms_key_materials WHERE account = ? AND region = ? AND key_id = ? AND material_id = ?",
        (key.account, key.region, key.key_id, material_id),
    )
    return bytes(row[0]) if row else None


async def materials(tx: Tx, key: Key) -> list[Material]:
    """Every material of the key, oldest first."""
    rows = await tx.fetchall(
        "SELECT material_id, created_ms, rotation_type FROM kms_key_materials"
        " WHERE account = ? AND region = ? AND key_id = ? ORDER BY created_ms, material_id",
        (key.account, key.region, key.key_id),
    )
    return [Material(*row) for row in rows]


# --- aliases ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alias:
    account: str
    region: str
    name: str
    key_id: str
    created_ms: int
    updated_ms: int


_ALIAS_COLUMNS = "account, region, name, key_id, created_ms, updated_ms"


async def get_alias(tx: Tx, account: str, region: str, name: str) -> Alias | None:
    row = await tx.fetchone(
        f"SELECT {_ALIAS_COLUMNS} FROM kms_aliases WHERE account = ? AND region = ? AND name = ?",
        (account, region, name),
    )
    return Alias(*row) if row else None


async def insert_alias(tx: Tx, account: str, region: str, name: str, key_id: str, now: int) -> bool:
    """False when the alias exists already (perhaps made just now by another node)."""
    row = await tx.fetchone(
        f"INSERT INTO kms_aliases ({_ALIAS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, name) DO NOTHING RETURNING name",
        (account, region, name, key_id, now, now),
    )
    return row is not None


async def retarget_alias(tx: Tx, alias: Alias, key_id: str, now: int) -> None:
    await tx.execute(
        "UPDATE kms_aliases SET key_id = ?, updated_ms = ? WHERE account = ? AND region = ? AND name = ?",
        (key_id, now, alias.account, alias.region, alias.name),
    )


async def delete_alias(tx: Tx, alias: Alias) -> None:
    await tx.execute(
        "DELETE FROM kms_aliases WHERE account = ? AND region = ? AND name = ?", (alias.account, alias.region, alias.name)
    )


async def list_aliases(tx: Tx, account: str, region: str, key_id: str | None) -> list[Alias]:
    """The aliases of the account and region (of one key when ``key_id`` is set), by name."""
    sql = f"SELECT {_ALIAS_COLUMNS} FROM kms_aliases WHERE account = ? AND region = ?"
    params: tuple[str, ...] = (account, region)
    if key_id is not None:
        sql += " AND key_id = ?"
        params += (key_id,)
    rows = await tx.fetchall(sql, params)
    # Sorted here, not in SQL: collations differ between the dialects.
    return sorted((Alias(*r) for r in rows), key=lambda a: a.name)
