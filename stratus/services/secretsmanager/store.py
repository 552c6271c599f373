"""Secrets Manager's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json

from stratus.services.secretsmanager.model import Secret, Version
from stratus.store.base import Row, Tx

_SECRET_COLUMNS = (
    "id, account, region, name, arn, data, created_ms, changed_ms, accessed_ms, deleted_ms, delete_at_ms,"
    " rotated_ms, next_rotation_ms"
)
_VERSION_COLUMNS = "secret_id, version_id, stages, created_ms, accessed_ms, kind, ciphertext, data_key, kms_key_arn"


def _secret(row: Row) -> Secret:
    data = json.loads(row[5])
    return Secret(
        id=row[0],
        account=row[1],
        region=row[2],
        name=row[3],
        arn=row[4],
        created_ms=row[6],
        changed_ms=row[7],
        accessed_ms=row[8],
        deleted_ms=row[9],
        delete_at_ms=row[10],
        rotated_ms=row[11],
        next_rotation_ms=row[12],
        description=data.get("description"),
        kms_key_id=data.get("kms_key_id"),
        tags=data.get("tags") or [],
        policy=data.get("policy"),
        type=data.get("type"),
        rotation=data.get("rotation") or {},
    )


def _version(row: Row) -> Version:
    return Version(
        secret_id=row[0],
        version_id=row[1],
        stages=json.loads(row[2]),
        created_ms=row[3],
        accessed_ms=row[4],
        kind=row[5],
        ciphertext=bytes(row[6]) if row[6] is not None else None,
        data_key=bytes(row[7]) if row[7] is not None else None,
        kms_key_arn=row[8],
    )


# --- secrets ------------------------------------------------------------------------------


async def find_secret(tx: Tx, account: str, region: str, name: str, arn: str | None) -> Secret | None:
    """The secret whose full ARN is ``arn``, else the one named ``name``."""
    if arn is not None and (found := await secret_by_arn(tx, arn)) is not None:
        return found
    row = await tx.fetchone(
        f"SELECT {_SECRET_COLUMNS} FROM secretsmanager_secrets WHERE account = ? AND region = ? AND name = ?",
        (account, region, name),
    )
    return _secret(row) if row else None


async def secret_by_arn(tx: Tx, arn: str) -> Secret | None:
    row = await tx.fetchone(f"SELECT {_SECRET_COLUMNS} FROM secretsmanager_secrets WHERE arn = ?", (arn,))
    return _secret(row) if row else None


async def insert_secret(tx: Tx, secret: Secret) -> bool:
    """False when a secret of that name exists (a concurrent CreateSecret made it first)."""
    row = await tx.fetchone(
        "INSERT INTO secretsmanager_secrets (account, region, name, arn, data, created_ms, changed_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO NOTHING RETURNING id",
        (
            secret.account,
            secret.region,
            secret.name,
            secret.arn,
            json.dumps(secret.data()),
            secret.created_ms,
            secret.changed_ms,
        ),
    )
    if row is None:
        return False
    secret.id = row[0]
    return True


async def update_secret(tx: Tx, secret: Secret) -> None:
    await tx.execute(
        "UPDATE secretsmanager_secrets SET data = ?, changed_ms = ?, accessed_ms = ?, deleted_ms = ?,"
        " delete_at_ms = ?, rotated_ms = ?, next_rotation_ms = ? WHERE id = ?",
        (
            json.dumps(secret.data()),
            secret.changed_ms,
            secret.accessed_ms,
            secret.deleted_ms,
            secret.delete_at_ms,
            secret.rotated_ms,
            secret.next_rotation_ms,
            secret.id,
        ),
    )


async def touch_accessed(tx: Tx, secret_id: int, version_id: str, day_ms: int) -> None:
    await tx.execute(
        "UPDATE secretsmanager_secrets SET accessed_ms = ? WHERE id = ? AND (accessed_ms IS NULL OR accessed_ms < ?)",
        (day_ms, secret_id, day_ms),
    )
    await tx.execute(
        "UPDATE secretsmanager_versions SET accessed_ms = ? WHERE secret_id = ? AND version_id = ?"
        " AND (accessed_ms IS NULL OR accessed_ms < ?)",
        (day_ms, secret_id, version_id, day_ms),
    )


async def delete_secret(tx: Tx, secret_id: int) -> None:
    await tx.execute("DELETE FROM secretsmanager_versions WHERE secret_id = ?", (secret_id,))
    await tx.execute("DELETE FROM secretsmanager_secrets WHERE id = ?", (secret_id,))


async def list_secrets(tx: Tx, account: str, region: str) -> list[Secret]:
    """Every secret of the account and region; ListSecrets filters and sorts them in Python.

    Filters are prefix, word and negation matches over names, descriptions and tags that
    SQL would express differently per dialect (collations, LIKE wildcards in names).
    """
    rows = await tx.fetchall(
        f"SELECT {_SECRET_COLUMNS} FROM secretsmanager_secrets WHERE account = ? AND region = ?", (account, region)
    )
    return [_secret(row) for row in rows]


# --- versions ----------------------------------------------------------------------------


async def versions(tx: Tx, secret_id: int) -> list[Version]:
    rows = await tx.fetchall(
        f"SELECT {_VERSION_COLUMNS} FROM secretsmanager_versions WHERE secret_id = ? ORDER BY created_ms DESC, version_id",
        (secret_id,),
    )
    return [_version(row) for row in rows]


async def versions_of(tx: Tx, secret_ids: list[int]) -> dict[int, list[Version]]:
    """The versions of several secrets in one query (ListSecrets, BatchGetSecretValue)."""
    out: dict[int, list[Version]] = {i: [] for i in secret_ids}
    if not secret_ids:
        return out
    marks = ", ".join("?" * len(secret_ids))
    rows = await tx.fetchall(
        f"SELECT {_VERSION_COLUMNS} FROM secretsmanager_versions WHERE secret_id IN ({marks})"
        " ORDER BY created_ms DESC, version_id",
        secret_ids,
    )
    for row in rows:
        out[row[0]].append(_version(row))
    return out


async def insert_version(tx: Tx, version: Version) -> None:
    await tx.execute(
        f"INSERT INTO secretsmanager_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            version.secret_id,
            version.version_id,
            json.dumps(version.stages),
            version.created_ms,
            version.accessed_ms,
            version.kind,
            version.ciphertext,
            version.data_key,
            version.kms_key_arn,
        ),
    )


async def save_stages(tx: Tx, versions: list[Version]) -> None:
    await tx.executemany(
        "UPDATE secretsmanager_versions SET stages = ? WHERE secret_id = ? AND version_id = ?",
        [(json.dumps(v.stages), v.secret_id, v.version_id) for v in versions],
    )


async def save_value(tx: Tx, version: Version) -> None:
    """Store a re-encrypted (or, for rotation's AWSPENDING, first) value of an existing version."""
    await tx.execute(
        "UPDATE secretsmanager_versions SET kind = ?, ciphertext = ?, data_key = ?, kms_key_arn = ?"
        " WHERE secret_id = ? AND version_id = ?",
        (version.kind, version.ciphertext, version.data_key, version.kms_key_arn, version.secret_id, version.version_id),
    )


async def delete_versions(tx: Tx, secret_id: int, version_ids: list[str]) -> None:
    await tx.executemany(
        "DELETE FROM secretsmanager_versions WHERE secret_id = ? AND version_id = ?",
        [(secret_id, v) for v in version_ids],
    )
