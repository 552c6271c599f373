"""Lambda's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stratus.services.lambda_.model import LATEST, Alias, Function, Version
from stratus.store.base import Row, Tx

_FUNCTION_COLUMNS = "id, account, region, name, tags, policies, reserved, last_version, created_ms"


def _function(row: Row) -> Function:
    return Function(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), row[6], row[7], row[8])


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- functions ----------------------------------------------------------------------------


async def get_function(tx: Tx, account: str, region: str, name: str, *, lock: bool = False) -> Function | None:
    suffix = " FOR UPDATE" if lock and tx.dialect == "postgresql" else ""
    row = await tx.fetchone(
        f"SELECT {_FUNCTION_COLUMNS} FROM lambda_functions WHERE account = ? AND region = ? AND name = ?{suffix}",
        (account, region, name),
    )
    return _function(row) if row else None


async def insert_function(tx: Tx, account: str, region: str, name: str, tags: dict[str, str], now: int) -> Function | None:
    """The new function, or None when it exists already (maybe made by another node just now)."""
    row = await tx.fetchone(
        "INSERT INTO lambda_functions (account, region, name, tags, policies, reserved, last_version, created_ms)"
        " VALUES (?, ?, ?, ?, '{}', NULL, 0, ?) ON CONFLICT (account, region, name) DO NOTHING RETURNING id",
        (account, region, name, _dumps(tags), now),
    )
    return Function(row[0], account, region, name, tags, {}, None, 0, now) if row else None


async def update_function(tx: Tx, function: Function) -> None:
    await tx.execute(
        "UPDATE lambda_functions SET tags = ?, policies = ?, reserved = ?, last_version = ? WHERE id = ?",
        (_dumps(function.tags), _dumps(function.policies), function.reserved, function.last_version, function.id),
    )


async def delete_function(tx: Tx, function: Function) -> None:
    for table in ("lambda_versions", "lambda_aliases", "lambda_qualifier_settings"):
        await tx.execute(f"DELETE FROM {table} WHERE function_id = ?", (function.id,))
    await tx.execute(
        "DELETE FROM lambda_async_events WHERE account = ? AND region = ? AND function_name = ?",
        (function.account, function.region, function.name),
    )
    await tx.execute("DELETE FROM lambda_functions WHERE id = ?", (function.id,))


async def list_functions(tx: Tx, account: str, region: str) -> list[Function]:
    rows = await tx.fetchall(f"SELECT {_FUNCTION_COLUMNS} FROM lambda_functions WHERE account = ? AND region = ?", (account, region))
    return sorted(map(_function, rows), key=lambda f: f.name)


async def reserved_total(tx: Tx, account: str, region: str, excluding: int | None = None) -> int:
    row = await tx.fetchone(
        "SELECT COALESCE(SUM(reserved), 0) FROM lambda_functions WHERE account = ? AND region = ? AND id <> ?",
        (account, region, -1 if excluding is None else excluding),
    )
    return int(row[0]) if row else 0


# --- versions -----------------------------------------------------------------------------


async def get_version(tx: Tx, function: Function, version: str) -> Version | None:
    row = await tx.fetchone("SELECT config, code FROM lambda_versions WHERE function_id = ? AND version = ?", (function.id, version))
    return Version(function, version, json.loads(row[0]), json.loads(row[1])) if row else None


async def put_version(tx: Tx, version: Version) -> None:
    seq = 0 if version.version == LATEST else int(version.version)
    await tx.execute(
        "INSERT INTO lambda_versions (function_id, version, seq, config, code) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (function_id, version) DO UPDATE SET config = excluded.config, code = excluded.code",
        (version.function.id, version.version, seq, _dumps(version.config), _dumps(version.code)),
    )


async def delete_version(tx: Tx, function: Function, version: str) -> None:
    await tx.execute("DELETE FROM lambda_versions WHERE function_id = ? AND version = ?", (function.id, version))
    await tx.execute("DELETE FROM lambda_qualifier_settings WHERE function_id = ? AND qualifier = ?", (function.id, version))


async def list_versions(tx: Tx, function: Function) -> list[Version]:
    rows = await tx.fetchall("SELECT version, config, code FROM lambda_versions WHERE function_id = ? ORDER BY seq", (function.id,))
    return [Version(function, r[0], json.loads(r[1]), json.loads(r[2])) for r in rows]


async def code_in_use(tx: Tx, hex_sha: str) -> bool:
    """Whether any version still names this code (content-addressed, so functions share it)."""
    row = await tx.fetchone("SELECT 1 FROM lambda_versions WHERE code LIKE ? LIMIT 1", (f'%"hex":"{hex_sha}"%',))
    return row is not None


# --- aliases ------------------------------------------------------------------------------


async def get_alias(tx: Tx, function: Function, name: str) -> Alias | None:
    row = await tx.fetchone("SELECT data FROM lambda_aliases WHERE function_id = ? AND name = ?", (function.id, name))
    return Alias.from_json(name, row[0]) if row else None


async def insert_alias(tx: Tx, function: Function, alias: Alias) -> bool:
    changed = await tx.execute(
        "INSERT INTO lambda_aliases (function_id, name, data) VALUES (?, ?, ?) ON CONFLICT (function_id, name) DO NOTHING",
        (function.id, alias.name, alias.to_json()),
    )
    return changed > 0


async def update_alias(tx: Tx, function: Function, alias: Alias) -> None:
    await tx.execute("UPDATE lambda_aliases SET data = ? WHERE function_id = ? AND name = ?", (alias.to_json(), function.id, alias.name))


async def delete_alias(tx: Tx, function: Function, name: str) -> None:
    await tx.execute("DELETE FROM lambda_aliases WHERE function_id = ? AND name = ?", (function.id, name))
    await tx.execute("DELETE FROM lambda_qualifier_settings WHERE function_id = ? AND qualifier = ?", (function.id, name))


async def list_aliases(tx: Tx, function: Function) -> list[Alias]:
    rows = await tx.fetchall("SELECT name, data FROM lambda_aliases WHERE function_id = ?", (function.id,))
    return sorted((Alias.from_json(r[0], r[1]) for r in rows), key=lambda a: a.name)


# --- per-qualifier settings (event invoke configs, provisioned concurrency) ------------------


async def get_setting(tx: Tx, function: Function, kind: str, qualifier: str) -> dict[str, Any] | None:
    row = await tx.fetchone(
        "SELECT data FROM lambda_qualifier_settings WHERE function_id = ? AND kind = ? AND qualifier = ?",
        (function.id, kind, qualifier),
    )
    return json.loads(row[0]) if row else None


async def put_setting(tx: Tx, function: Function, kind: str, qualifier: str, data: dict[str, Any]) -> None:
    await tx.execute(
        "INSERT INTO lambda_qualifier_settings (function_id, kind, qualifier, data) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (function_id, kind, qualifier) DO UPDATE SET data = excluded.data",
        (function.id, kind, qualifier, _dumps(data)),
    )


async def delete_setting(tx: Tx, function: Function, kind: str, qualifier: str) -> int:
    return await tx.execute(
        "DELETE FROM lambda_qualifier_settings WHERE function_id = ? AND kind = ? AND qualifier = ?",
        (function.id, kind, qualifier),
    )


async def list_settings(tx: Tx, function: Function, kind: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await tx.fetchall(
        "SELECT qualifier, data FROM lambda_qualifier_settings WHERE function_id = ? AND kind = ? ORDER BY qualifier",
        (function.id, kind),
    )
    return [(r[0], json.loads(r[1])) for r in rows]


# --- layers -------------------------------------------------------------------------------


async def next_layer_version(tx: Tx, account: str, region: str, name: str) -> int:
    await tx.execute(
        "INSERT INTO lambda_layer_names (account, region, name, last_version) VALUES (?, ?, ?, 0)"
        " ON CONFLICT (account, region, name) DO NOTHING",
        (account, region, name),
    )
    row = await tx.fetchone(
        "UPDATE lambda_layer_names SET last_version = last_version + 1 WHERE account = ? AND region = ? AND name = ?"
        " RETURNING last_version",
        (account, region, name),
    )
    assert row is not None
    return int(row[0])


async def insert_layer_version(tx: Tx, account: str, region: str, name: str, version: int, data: dict[str, Any], revision: str) -> None:
    await tx.execute(
        "INSERT INTO lambda_layer_versions (account, region, name, version, data, policy, revision) VALUES (?, ?, ?, ?, ?, '[]', ?)",
        (account, region, name, version, _dumps(data), revision),
    )


async def get_layer_version(
    tx: Tx, account: str, region: str, name: str, version: int, *, deleted: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]], str] | None:
    """A layer version; one deleted since is found only with ``deleted`` (for the functions using it)."""
    row = await tx.fetchone(
        "SELECT data, policy, revision FROM lambda_layer_versions WHERE account = ? AND region = ? AND name = ? AND version = ?",
        (account, region, name, version),
    )
    if row is None:
        return None
    data = json.loads(row[0])
    if data.get("deleted") and not deleted:
        return None
    return data, json.loads(row[1]), row[2]


async def set_layer_policy(tx: Tx, account: str, region: str, name: str, version: int, policy: list[dict[str, Any]], revision: str) -> None:
    await tx.execute(
        "UPDATE lambda_layer_versions SET policy = ?, revision = ? WHERE account = ? AND region = ? AND name = ? AND version = ?",
        (_dumps(policy), revision, account, region, name, version),
    )


async def delete_layer_version(tx: Tx, account: str, region: str, name: str, version: int) -> None:
    """Hide a layer version from the API. Its row stays, marked deleted: functions that use it
    keep running with it, as AWS keeps a copy for them."""
    found = await get_layer_version(tx, account, region, name, version)
    if found is not None:
        await tx.execute(
            "UPDATE lambda_layer_versions SET data = ?, policy = '[]' WHERE account = ? AND region = ? AND name = ? AND version = ?",
            (_dumps({**found[0], "deleted": True}), account, region, name, version),
        )


async def list_layer_versions(tx: Tx, account: str, region: str, name: str | None = None) -> list[tuple[str, int, dict[str, Any]]]:
    sql = "SELECT name, version, data FROM lambda_layer_versions WHERE account = ? AND region = ?"
    params: list[Any] = [account, region]
    if name is not None:
        sql += " AND name = ?"
        params.append(name)
    rows = await tx.fetchall(sql + " ORDER BY name, version DESC", params)
    listed = [(r[0], r[1], json.loads(r[2])) for r in rows]
    return [(n, v, data) for n, v, data in listed if not data.get("deleted")]


# --- async invocations --------------------------------------------------------------------


async def insert_event(
    tx: Tx, event_id: str, account: str, region: str, name: str, qualifier: str, payload: bytes, now: int, trace: str | None
) -> None:
    await tx.execute(
        "INSERT INTO lambda_async_events (id, account, region, function_name, qualifier, payload, created_ms,"
        " invoke_count, error_retries, trace_header) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
        (event_id, account, region, name, qualifier, payload, now, trace),
    )


async def get_event(tx: Tx, event_id: str) -> dict[str, Any] | None:
    row = await tx.fetchone(
        "SELECT account, region, function_name, qualifier, payload, created_ms, invoke_count, error_retries, trace_header"
        " FROM lambda_async_events WHERE id = ?",
        (event_id,),
    )
    if row is None:
        return None
    keys = ("account", "region", "function_name", "qualifier", "payload", "created_ms", "invoke_count", "error_retries", "trace_header")
    event = dict(zip(keys, row))
    event["payload"] = bytes(event["payload"])
    event["id"] = event_id
    return event


async def update_event(tx: Tx, event_id: str, invoke_count: int, error_retries: int) -> None:
    await tx.execute(
        "UPDATE lambda_async_events SET invoke_count = ?, error_retries = ? WHERE id = ?",
        (invoke_count, error_retries, event_id),
    )


async def delete_event(tx: Tx, event_id: str) -> None:
    await tx.execute("DELETE FROM lambda_async_events WHERE id = ?", (event_id,))


# --- counters -----------------------------------------------------------------------------


async def add_metrics(tx: Tx, rows: list[tuple[str, str, str, int, int, int, int, float, int]]) -> None:
    await tx.executemany(
        "INSERT INTO lambda_metrics (account, region, function_name, minute, invocations, errors, throttles, duration_ms,"
        " async_dropped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, function_name, minute) DO UPDATE SET"
        " invocations = lambda_metrics.invocations + excluded.invocations, errors = lambda_metrics.errors + excluded.errors,"
        " throttles = lambda_metrics.throttles + excluded.throttles,"
        " duration_ms = lambda_metrics.duration_ms + excluded.duration_ms,"
        " async_dropped = lambda_metrics.async_dropped + excluded.async_dropped",
        rows,
    )


# --- event source mappings ----------------------------------------------------------------

_MAPPING_COLUMNS = (
    "uuid, account, region, function_name, qualifier, function_arn, source_arn, config, enabled, state,"
    " state_reason, last_result, modified_ms, generation, lease_owner"
)


@dataclass(slots=True)
class Mapping:
    """One row of lambda_event_source_mappings (``config`` holds the members AWS shows as given)."""

    uuid: str
    account: str
    region: str
    function_name: str
    qualifier: str | None
    function_arn: str
    source_arn: str
    config: dict[str, Any]
    enabled: bool
    state: str
    state_reason: str
    last_result: str | None
    modified_ms: int
    generation: int
    lease_owner: str | None = None


def _mapping(row: Row) -> Mapping:
    return Mapping(
        uuid=row[0], account=row[1], region=row[2], function_name=row[3], qualifier=row[4], function_arn=row[5],
        source_arn=row[6], config=json.loads(row[7]), enabled=bool(row[8]), state=row[9], state_reason=row[10],
        last_result=row[11], modified_ms=row[12], generation=row[13], lease_owner=row[14],
    )


async def insert_mapping(tx: Tx, m: Mapping) -> bool:
    """Insert ``m``; False when a mapping of the same function and source exists (``mapping_of`` names it)."""
    row = await tx.fetchone(
        f"INSERT INTO lambda_event_source_mappings ({_MAPPING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
        " ON CONFLICT (function_arn, source_arn) DO NOTHING RETURNING uuid",
        (m.uuid, m.account, m.region, m.function_name, m.qualifier, m.function_arn, m.source_arn, _dumps(m.config),
         int(m.enabled), m.state, m.state_reason, m.last_result, m.modified_ms, m.generation),
    )
    return row is not None


async def mapping_of(tx: Tx, function_arn: str, source_arn: str) -> str | None:
    row = await tx.fetchone(
        "SELECT uuid FROM lambda_event_source_mappings WHERE function_arn = ? AND source_arn = ?", (function_arn, source_arn)
    )
    return row[0] if row else None


async def get_mapping(tx: Tx, uuid: str, *, lock: bool = False) -> Mapping | None:
    suffix = " FOR UPDATE" if lock and tx.dialect == "postgresql" else ""
    row = await tx.fetchone(f"SELECT {_MAPPING_COLUMNS} FROM lambda_event_source_mappings WHERE uuid = ?{suffix}", (uuid,))
    return _mapping(row) if row else None


async def list_mappings(tx: Tx, account: str, region: str) -> list[Mapping]:
    rows = await tx.fetchall(
        f"SELECT {_MAPPING_COLUMNS} FROM lambda_event_source_mappings WHERE account = ? AND region = ? ORDER BY uuid",
        (account, region),
    )
    return [_mapping(r) for r in rows]


async def update_mapping(tx: Tx, m: Mapping) -> None:
    """Write an API change: everything the user controls, the new state, a new generation."""
    m.generation += 1
    await tx.execute(
        "UPDATE lambda_event_source_mappings SET function_name = ?, qualifier = ?, function_arn = ?, config = ?, enabled = ?,"
        " state = ?, state_reason = ?, modified_ms = ?, generation = ? WHERE uuid = ?",
        (m.function_name, m.qualifier, m.function_arn, _dumps(m.config), int(m.enabled), m.state, m.state_reason,
         m.modified_ms, m.generation, m.uuid),
    )


async def settle_mapping(tx: Tx, uuid: str, generation: int, state: str, *, release: bool) -> bool:
    """A poller's state step (Creating to Enabled, Disabling to Disabled, ...), unless the mapping
    changed since it was read; ``release`` also hands the lease back (no poller runs any more)."""
    lease = ", lease_owner = NULL, lease_until = NULL" if release else ""
    changed = await tx.execute(
        f"UPDATE lambda_event_source_mappings SET state = ?{lease} WHERE uuid = ? AND generation = ?", (state, uuid, generation)
    )
    return changed > 0


async def delete_mapping(tx: Tx, uuid: str, generation: int) -> bool:
    changed = await tx.execute("DELETE FROM lambda_event_source_mappings WHERE uuid = ? AND generation = ?", (uuid, generation))
    return changed > 0


async def set_mapping_result(tx: Tx, uuid: str, result: str) -> None:
    await tx.execute("UPDATE lambda_event_source_mappings SET last_result = ? WHERE uuid = ?", (result, uuid))


async def claim_mappings(tx: Tx, owner: str, real_ms: int, lease_ms: int, limit: int) -> list[Mapping]:
    """Renew this node's leases, take the mappings whose poller nobody runs, answer every mapping
    this node holds. A Disabled mapping needs no poller, so nobody takes it."""
    await tx.execute(
        "UPDATE lambda_event_source_mappings SET lease_until = ? WHERE lease_owner = ?", (real_ms + lease_ms, owner)
    )
    await tx.execute(
        "UPDATE lambda_event_source_mappings SET lease_owner = ?, lease_until = ? WHERE uuid IN ("
        "SELECT uuid FROM lambda_event_source_mappings WHERE state <> 'Disabled'"
        f" AND (lease_owner IS NULL OR lease_until < ?) ORDER BY uuid LIMIT ?{tx.skip_locked})",
        (owner, real_ms + lease_ms, real_ms, limit),
    )
    rows = await tx.fetchall(
        f"SELECT {_MAPPING_COLUMNS} FROM lambda_event_source_mappings WHERE lease_owner = ?", (owner,)
    )
    return [_mapping(r) for r in rows]


async def release_mappings(tx: Tx, owner: str | None) -> None:
    """Hand back the leases of ``owner`` (None: every lease, for SQLite's single process at start)."""
    if owner is None:
        await tx.execute(
            "UPDATE lambda_event_source_mappings SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL"
        )
    else:
        await tx.execute(
            "UPDATE lambda_event_source_mappings SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", (owner,)
        )
