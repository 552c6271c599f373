"""IAM's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from stratus.store.base import Row, Tx

_ENTITY_COLUMNS = "account, kind, name, id, path, arn, created_ms, data"


@dataclass(slots=True)
class Entity:
    """A user, role, group, managed policy or instance profile (``kind``)."""

    account: str
    kind: str
    name: str
    id: str
    path: str
    arn: str
    created_ms: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def tags(self) -> list[dict[str, str]]:
        return self.data.get("tags", [])


def _entity(row: Row) -> Entity:
    return Entity(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]))


@dataclass(slots=True, frozen=True)
class AccessKey:
    key_id: str
    user_id: str
    secret: str
    status: str
    created_ms: int


@dataclass(slots=True, frozen=True)
class KeyOwner:
    """What the identity lookup needs about an access key."""

    status: str
    account: str
    user_arn: str
    user_id: str


# --- entities ----------------------------------------------------------------------------


async def get_entity(tx: Tx, account: str, kind: str, name: str) -> Entity | None:
    row = await tx.fetchone(
        f"SELECT {_ENTITY_COLUMNS} FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?",
        (account, kind, name.lower()),
    )
    return _entity(row) if row else None


async def get_entities_by_id(tx: Tx, ids: list[str]) -> list[Entity]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = await tx.fetchall(f"SELECT {_ENTITY_COLUMNS} FROM iam_entities WHERE id IN ({marks})", ids)
    return [_entity(row) for row in rows]


async def list_entities(tx: Tx, account: str, kind: str) -> list[Entity]:
    rows = await tx.fetchall(
        f"SELECT {_ENTITY_COLUMNS} FROM iam_entities WHERE account = ? AND kind = ?", (account, kind)
    )
    return [_entity(row) for row in rows]


async def count_entities(tx: Tx, account: str) -> dict[str, int]:
    rows = await tx.fetchall("SELECT kind, COUNT(*) FROM iam_entities WHERE account = ? GROUP BY kind", (account,))
    return {kind: int(count) for kind, count in rows}


async def insert_entity(tx: Tx, entity: Entity) -> bool:
    """False when an entity of that kind and name (ignoring case) exists already."""
    row = await tx.fetchone(
        "INSERT INTO iam_entities (account, kind, name_key, name, id, path, arn, created_ms, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, kind, name_key) DO NOTHING RETURNING id",
        (
            entity.account,
            entity.kind,
            entity.name.lower(),
            entity.name,
            entity.id,
            entity.path,
            entity.arn,
            entity.created_ms,
            json.dumps(entity.data),
        ),
    )
    return row is not None


async def update_entity(tx: Tx, entity: Entity) -> None:
    """Write back name, path, ARN and data (the id never changes)."""
    await tx.execute(
        "UPDATE iam_entities SET name_key = ?, name = ?, path = ?, arn = ?, data = ? WHERE id = ?",
        (entity.name.lower(), entity.name, entity.path, entity.arn, json.dumps(entity.data), entity.id),
    )


async def delete_entity(tx: Tx, entity: Entity) -> None:
    await tx.execute("DELETE FROM iam_entities WHERE id = ?", (entity.id,))


# --- managed policy versions ---------------------------------------------------------------


async def insert_version(tx: Tx, policy_id: str, version: int, document: str, now: int) -> None:
    await tx.execute(
        "INSERT INTO iam_policy_versions (policy_id, version, document, created_ms) VALUES (?, ?, ?, ?)",
        (policy_id, version, document, now),
    )


async def list_versions(tx: Tx, policy_id: str) -> list[tuple[int, str, int]]:
    """(version, document, created_ms), newest first (as ListPolicyVersions answers)."""
    rows = await tx.fetchall(
        "SELECT version, document, created_ms FROM iam_policy_versions WHERE policy_id = ? ORDER BY version DESC",
        (policy_id,),
    )
    return [(int(v), d, int(c)) for v, d, c in rows]


async def delete_version(tx: Tx, policy_id: str, version: int) -> bool:
    return (
        await tx.execute("DELETE FROM iam_policy_versions WHERE policy_id = ? AND version = ?", (policy_id, version))
        > 0
    )


async def delete_versions(tx: Tx, policy_id: str) -> None:
    await tx.execute("DELETE FROM iam_policy_versions WHERE policy_id = ?", (policy_id,))


# --- attached managed policies -------------------------------------------------------------


async def attach(tx: Tx, account: str, entity_id: str, policy_arn: str, policy_name: str) -> None:
    await tx.execute(
        "INSERT INTO iam_attachments (account, entity_id, policy_arn, policy_name) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (entity_id, policy_arn) DO NOTHING",
        (account, entity_id, policy_arn, policy_name),
    )


async def detach(tx: Tx, entity_id: str, policy_arn: str) -> bool:
    changed = await tx.execute(
        "DELETE FROM iam_attachments WHERE entity_id = ? AND policy_arn = ?", (entity_id, policy_arn)
    )
    return changed > 0


async def attached_to(tx: Tx, entity_id: str) -> list[tuple[str, str]]:
    """(policy_arn, policy_name) of the managed policies attached to an entity."""
    rows = await tx.fetchall("SELECT policy_arn, policy_name FROM iam_attachments WHERE entity_id = ?", (entity_id,))
    return [(a, n) for a, n in rows]


async def attachment_counts(tx: Tx, account: str) -> dict[str, int]:
    rows = await tx.fetchall(
        "SELECT policy_arn, COUNT(*) FROM iam_attachments WHERE account = ? GROUP BY policy_arn", (account,)
    )
    return {a: int(c) for a, c in rows}


async def entities_with(tx: Tx, account: str, policy_arn: str) -> list[str]:
    rows = await tx.fetchall(
        "SELECT entity_id FROM iam_attachments WHERE account = ? AND policy_arn = ?", (account, policy_arn)
    )
    return [r[0] for r in rows]


# --- inline policies -----------------------------------------------------------------------


async def put_inline(tx: Tx, entity_id: str, name: str, document: str) -> None:
    await tx.execute(
        "INSERT INTO iam_inline_policies (entity_id, name, document) VALUES (?, ?, ?)"
        " ON CONFLICT (entity_id, name) DO UPDATE SET document = excluded.document",
        (entity_id, name, document),
    )


async def get_inline(tx: Tx, entity_id: str, name: str) -> str | None:
    row = await tx.fetchone(
        "SELECT document FROM iam_inline_policies WHERE entity_id = ? AND name = ?", (entity_id, name)
    )
    return row[0] if row else None


async def inline_names(tx: Tx, entity_id: str) -> list[str]:
    rows = await tx.fetchall("SELECT name FROM iam_inline_policies WHERE entity_id = ?", (entity_id,))
    return [r[0] for r in rows]


async def inline_documents(tx: Tx, entity_id: str) -> dict[str, str]:
    rows = await tx.fetchall("SELECT name, document FROM iam_inline_policies WHERE entity_id = ?", (entity_id,))
    return {name: document for name, document in rows}


async def boundary_counts(tx: Tx, account: str) -> dict[str, int]:
    """How many users and roles of the account use each policy as their permissions boundary."""
    rows = await tx.fetchall(
        "SELECT data FROM iam_entities WHERE account = ? AND kind IN ('user', 'role')", (account,)
    )
    counts: dict[str, int] = {}
    for (data,) in rows:
        boundary = json.loads(data).get("boundary")
        if boundary:
            counts[boundary] = counts.get(boundary, 0) + 1
    return counts


async def bounded_by(tx: Tx, account: str, policy_arn: str) -> list[Entity]:
    """The users and roles of the account whose permissions boundary is ``policy_arn``.

    The boundary lives in the JSON data, which the two dialects query differently: decoded
    here, as ``boundary_counts`` does.
    """
    rows = await tx.fetchall(
        f"SELECT {_ENTITY_COLUMNS} FROM iam_entities WHERE account = ? AND kind IN ('user', 'role')", (account,)
    )
    return [e for e in map(_entity, rows) if e.data.get("boundary") == policy_arn]


async def delete_inline(tx: Tx, entity_id: str, name: str) -> bool:
    changed = await tx.execute("DELETE FROM iam_inline_policies WHERE entity_id = ? AND name = ?", (entity_id, name))
    return changed > 0


# --- group membership ----------------------------------------------------------------------


async def add_member(tx: Tx, group_id: str, user_id: str) -> None:
    await tx.execute(
        "INSERT INTO iam_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT (group_id, user_id) DO NOTHING",
        (group_id, user_id),
    )


async def remove_member(tx: Tx, group_id: str, user_id: str) -> bool:
    changed = await tx.execute(
        "DELETE FROM iam_group_members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
    )
    return changed > 0


async def groups_of(tx: Tx, user_id: str) -> list[str]:
    rows = await tx.fetchall("SELECT group_id FROM iam_group_members WHERE user_id = ?", (user_id,))
    return [r[0] for r in rows]


async def members_of(tx: Tx, group_id: str) -> list[str]:
    rows = await tx.fetchall("SELECT user_id FROM iam_group_members WHERE group_id = ?", (group_id,))
    return [r[0] for r in rows]


# --- access keys ---------------------------------------------------------------------------


async def insert_key(tx: Tx, key: AccessKey) -> None:
    await tx.execute(
        "INSERT INTO iam_access_keys (key_id, user_id, secret, status, created_ms) VALUES (?, ?, ?, ?, ?)",
        (key.key_id, key.user_id, key.secret, key.status, key.created_ms),
    )


async def keys_of(tx: Tx, user_id: str) -> list[AccessKey]:
    rows = await tx.fetchall(
        "SELECT key_id, user_id, secret, status, created_ms FROM iam_access_keys WHERE user_id = ?"
        " ORDER BY created_ms, key_id",
        (user_id,),
    )
    return [AccessKey(*row) for row in rows]


async def get_key(tx: Tx, key_id: str) -> AccessKey | None:
    row = await tx.fetchone(
        "SELECT key_id, user_id, secret, status, created_ms FROM iam_access_keys WHERE key_id = ?", (key_id,)
    )
    return AccessKey(*row) if row else None


async def set_key_status(tx: Tx, key_id: str, status: str) -> None:
    await tx.execute("UPDATE iam_access_keys SET status = ? WHERE key_id = ?", (status, key_id))


async def delete_key(tx: Tx, key_id: str) -> None:
    await tx.execute("DELETE FROM iam_access_keys WHERE key_id = ?", (key_id,))


async def key_owner(tx: Tx, key_id: str) -> KeyOwner | None:
    row = await tx.fetchone(
        "SELECT k.status, e.account, e.arn, e.id FROM iam_access_keys k JOIN iam_entities e ON e.id = k.user_id"
        " WHERE k.key_id = ?",
        (key_id,),
    )
    return KeyOwner(*row) if row else None
