"""Parameter Store's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from stratus.store.base import Row, Tx


@dataclass(slots=True)
class Version:
    """One version of a parameter. ``value`` of a SecureString is its ciphertext (base64)."""

    name: str
    version: int
    value: str
    type: str
    key_id: str | None
    tier: str
    data_type: str
    description: str | None
    allowed_pattern: str | None
    policies: list[dict[str, str]]
    modified_ms: int
    user: str
    labels: list[str] = field(default_factory=list)

    def data(self) -> str:
        return json.dumps(
            {
                "type": self.type,
                "key_id": self.key_id,
                "tier": self.tier,
                "data_type": self.data_type,
                "description": self.description,
                "allowed_pattern": self.allowed_pattern,
                "policies": self.policies,
                "user": self.user,
            }
        )


@dataclass(slots=True)
class Head:
    """A parameter's row: which version is current, and what filters and tags look at."""

    name: str
    version: int
    type: str
    tier: str
    data_type: str
    key_id: str | None
    expires_ms: int | None
    tags: dict[str, str]


_HEAD = "name, version, type, tier, data_type, key_id, expires_ms, tags"
_VERSION = "v.name, v.version, v.value, v.data, v.modified_ms"
_KEY = "account = ? AND region = ? AND name = ?"


def _head(row: Row) -> Head:
    return Head(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]))


def _version(row: Row) -> Version:
    data: dict[str, Any] = json.loads(row[3])
    return Version(
        name=row[0],
        version=row[1],
        value=row[2],
        type=data["type"],
        key_id=data["key_id"],
        tier=data["tier"],
        data_type=data["data_type"],
        description=data["description"],
        allowed_pattern=data["allowed_pattern"],
        policies=data["policies"],
        modified_ms=row[4],
        user=data["user"],
    )


# --- parameters ---------------------------------------------------------------------------


async def get_head(tx: Tx, account: str, region: str, name: str, *, lock: bool = False) -> Head | None:
    """The parameter's row; ``lock`` holds it until commit (PostgreSQL), serializing writers."""
    suffix = " FOR UPDATE" if lock and tx.dialect == "postgresql" else ""
    row = await tx.fetchone(f"SELECT {_HEAD} FROM ssm_parameters WHERE {_KEY}{suffix}", (account, region, name))
    return _head(row) if row else None


async def insert_head(tx: Tx, account: str, region: str, head: Head) -> bool:
    """Create the parameter's row; False when another writer created it first."""
    row = await tx.fetchone(
        "INSERT INTO ssm_parameters (account, region, name, version, type, tier, data_type, key_id, expires_ms, tags)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO NOTHING RETURNING version",
        (account, region, head.name, head.version, head.type, head.tier, head.data_type, head.key_id,
         head.expires_ms, json.dumps(head.tags)),
    )
    return row is not None


async def update_head(tx: Tx, account: str, region: str, head: Head) -> None:
    await tx.execute(
        "UPDATE ssm_parameters SET version = ?, type = ?, tier = ?, data_type = ?, key_id = ?, expires_ms = ?,"
        f" tags = ? WHERE {_KEY}",
        (head.version, head.type, head.tier, head.data_type, head.key_id, head.expires_ms, json.dumps(head.tags),
         account, region, head.name),
    )


async def update_tags(tx: Tx, account: str, region: str, name: str, tags: dict[str, str]) -> None:
    await tx.execute(f"UPDATE ssm_parameters SET tags = ? WHERE {_KEY}", (json.dumps(tags), account, region, name))


async def delete_parameter(tx: Tx, account: str, region: str, name: str) -> bool:
    """Delete the parameter with its versions and labels; False when there was none."""
    deleted = await tx.execute(f"DELETE FROM ssm_parameters WHERE {_KEY}", (account, region, name))
    await tx.execute(f"DELETE FROM ssm_parameter_versions WHERE {_KEY}", (account, region, name))
    await tx.execute(f"DELETE FROM ssm_labels WHERE {_KEY}", (account, region, name))
    return deleted > 0


async def list_current(tx: Tx, account: str, region: str, prefix: str = "") -> list[tuple[Head, Version]]:
    """Every parameter whose name starts with ``prefix``, with its current version, by name.

    ``substr`` compares bytes-for-characters the same way on both dialects, where LIKE would
    treat '_' in names as a wildcard; sorting happens here because collations differ.
    """
    sql = (
        f"SELECT p.name, p.version, p.type, p.tier, p.data_type, p.key_id, p.expires_ms, p.tags, {_VERSION}"
        " FROM ssm_parameters p JOIN ssm_parameter_versions v ON v.account = p.account AND v.region = p.region"
        " AND v.name = p.name AND v.version = p.version WHERE p.account = ? AND p.region = ?"
    )
    params: list[Any] = [account, region]
    if prefix:
        sql += " AND substr(p.name, 1, ?) = ?"
        params += [len(prefix), prefix]
    rows = await tx.fetchall(sql, params)
    result = [(_head(row[:8]), _version(row[8:])) for row in rows]
    result.sort(key=lambda pair: pair[0].name)
    return result


# --- versions -----------------------------------------------------------------------------


async def get_version(tx: Tx, account: str, region: str, name: str, version: int) -> Version | None:
    row = await tx.fetchone(
        f"SELECT {_VERSION} FROM ssm_parameter_versions v WHERE {_KEY} AND version = ?",
        (account, region, name, version),
    )
    return _version(row) if row else None


async def insert_version(tx: Tx, account: str, region: str, version: Version) -> None:
    await tx.execute(
        "INSERT INTO ssm_parameter_versions (account, region, name, version, value, data, modified_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account, region, version.name, version.version, version.value, version.data(), version.modified_ms),
    )


async def versions(tx: Tx, account: str, region: str, name: str, after: int, limit: int) -> list[Version]:
    """Versions newer than ``after``, oldest first, at most ``limit`` (each with its labels)."""
    rows = await tx.fetchall(
        f"SELECT {_VERSION} FROM ssm_parameter_versions v WHERE {_KEY} AND version > ? ORDER BY version LIMIT ?",
        (account, region, name, after, limit),
    )
    found = [_version(row) for row in rows]
    labels = await labels_by_version(tx, account, region, name)
    for version in found:
        version.labels = labels.get(version.version, [])
    return found


async def version_count(tx: Tx, account: str, region: str, name: str) -> tuple[int, int]:
    """(number of versions kept, oldest version kept)."""
    row = await tx.fetchone(
        f"SELECT COUNT(*), MIN(version) FROM ssm_parameter_versions WHERE {_KEY}", (account, region, name)
    )
    assert row is not None
    return int(row[0]), int(row[1] or 0)


async def delete_version(tx: Tx, account: str, region: str, name: str, version: int) -> None:
    await tx.execute(
        f"DELETE FROM ssm_parameter_versions WHERE {_KEY} AND version = ?", (account, region, name, version)
    )


# --- labels -------------------------------------------------------------------------------


async def labels_by_version(tx: Tx, account: str, region: str, name: str) -> dict[int, list[str]]:
    rows = await tx.fetchall(
        f"SELECT version, label FROM ssm_labels WHERE {_KEY} ORDER BY label", (account, region, name)
    )
    result: dict[int, list[str]] = {}
    for version, label in rows:
        result.setdefault(int(version), []).append(label)
    return result


async def labelled_versions(tx: Tx, account: str, region: str) -> dict[str, dict[str, int]]:
    """Every label of every parameter in the region: name -> label -> version."""
    rows = await tx.fetchall("SELECT name, label, version FROM ssm_labels WHERE account = ? AND region = ?", (account, region))
    result: dict[str, dict[str, int]] = {}
    for name, label, version in rows:
        result.setdefault(name, {})[label] = int(version)
    return result


async def version_of_label(tx: Tx, account: str, region: str, name: str, label: str) -> int | None:
    row = await tx.fetchone(f"SELECT version FROM ssm_labels WHERE {_KEY} AND label = ?", (account, region, name, label))
    return int(row[0]) if row else None


async def set_label(tx: Tx, account: str, region: str, name: str, label: str, version: int) -> None:
    """Attach ``label`` to ``version``, moving it from any other version of the parameter."""
    await tx.execute(
        "INSERT INTO ssm_labels (account, region, name, label, version) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, name, label) DO UPDATE SET version = excluded.version",
        (account, region, name, label, version),
    )


async def remove_label(tx: Tx, account: str, region: str, name: str, label: str, version: int) -> bool:
    removed = await tx.execute(
        f"DELETE FROM ssm_labels WHERE {_KEY} AND label = ? AND version = ?", (account, region, name, label, version)
    )
    return removed > 0


# --- service settings ---------------------------------------------------------------------


async def get_setting(tx: Tx, account: str, region: str, setting_id: str) -> tuple[str, int, str] | None:
    """(value, modified_ms, modified_user) of a customized setting, or None when it has its default."""
    row = await tx.fetchone(
        "SELECT value, modified_ms, modified_user FROM ssm_service_settings"
        " WHERE account = ? AND region = ? AND setting_id = ?",
        (account, region, setting_id),
    )
    return (row[0], int(row[1]), row[2]) if row else None


async def put_setting(tx: Tx, account: str, region: str, setting_id: str, value: str, now: int, user: str) -> None:
    await tx.execute(
        "INSERT INTO ssm_service_settings (account, region, setting_id, value, modified_ms, modified_user)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, setting_id) DO UPDATE SET value = excluded.value,"
        " modified_ms = excluded.modified_ms, modified_user = excluded.modified_user",
        (account, region, setting_id, value, now, user),
    )


async def delete_setting(tx: Tx, account: str, region: str, setting_id: str) -> None:
    await tx.execute(
        "DELETE FROM ssm_service_settings WHERE account = ? AND region = ? AND setting_id = ?",
        (account, region, setting_id),
    )
