"""EventBridge's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stratus.services.events.model import DEFAULT_BUS
from stratus.store.base import Row, Tx


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


@dataclass(slots=True)
class Bus:
    account: str
    region: str
    name: str
    data: dict[str, Any]
    version: int
    created_ms: int
    modified_ms: int


@dataclass(slots=True)
class Rule:
    account: str
    region: str
    bus: str
    name: str
    data: dict[str, Any]
    created_ms: int


@dataclass(slots=True)
class Archive:
    account: str
    region: str
    name: str
    bus: str
    data: dict[str, Any]
    created_ms: int


@dataclass(slots=True)
class Replay:
    account: str
    region: str
    name: str
    state: str
    data: dict[str, Any]
    created_ms: int


# --- buses ---------------------------------------------------------------------------------

_BUS = "SELECT account, region, name, data, version, created_ms, modified_ms FROM events_buses"


def _bus(row: Row) -> Bus:
    return Bus(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])


async def get_bus(tx: Tx, account: str, region: str, name: str) -> Bus | None:
    row = await tx.fetchone(f"{_BUS} WHERE account = ? AND region = ? AND name = ?", (account, region, name))
    if row is None and name == DEFAULT_BUS:
        # The default bus exists in every account and region without being created.
        return Bus(account, region, DEFAULT_BUS, {}, 0, 0, 0)
    return _bus(row) if row else None


async def ensure_default_bus(tx: Tx, account: str, region: str, now: int) -> None:
    await tx.execute(
        "INSERT INTO events_buses (account, region, name, data, version, created_ms, modified_ms)"
        " VALUES (?, ?, ?, '{}', 0, ?, ?) ON CONFLICT (account, region, name) DO NOTHING",
        (account, region, DEFAULT_BUS, now, now),
    )


async def insert_bus(tx: Tx, account: str, region: str, name: str, data: dict[str, Any], now: int) -> bool:
    row = await tx.fetchone(
        "INSERT INTO events_buses (account, region, name, data, version, created_ms, modified_ms)"
        " VALUES (?, ?, ?, ?, 0, ?, ?) ON CONFLICT (account, region, name) DO NOTHING RETURNING name",
        (account, region, name, _dump(data), now, now),
    )
    return row is not None


async def update_bus(tx: Tx, bus: Bus, now: int) -> None:
    if bus.created_ms == 0:
        await ensure_default_bus(tx, bus.account, bus.region, now)
    await tx.execute(
        "UPDATE events_buses SET data = ?, modified_ms = ? WHERE account = ? AND region = ? AND name = ?",
        (_dump(bus.data), now, bus.account, bus.region, bus.name),
    )


async def delete_bus(tx: Tx, account: str, region: str, name: str) -> None:
    for table in ("events_targets", "events_rules"):
        await tx.execute(f"DELETE FROM {table} WHERE account = ? AND region = ? AND bus = ?", (account, region, name))
    await tx.execute("DELETE FROM events_buses WHERE account = ? AND region = ? AND name = ?", (account, region, name))


async def list_buses(tx: Tx, account: str, region: str, prefix: str) -> list[Bus]:
    rows = await tx.fetchall(f"{_BUS} WHERE account = ? AND region = ? ORDER BY name", (account, region))
    return [_bus(r) for r in rows if r[2].startswith(prefix)]


async def bus_version(tx: Tx, account: str, region: str, name: str) -> int | None:
    row = await tx.fetchone(
        "SELECT version FROM events_buses WHERE account = ? AND region = ? AND name = ?", (account, region, name))
    return row[0] if row else None


async def bump_bus(tx: Tx, account: str, region: str, name: str, now: int) -> None:
    """Tell every node's matcher for this bus to rebuild (rules, targets or archives changed)."""
    if name == DEFAULT_BUS:
        await ensure_default_bus(tx, account, region, now)
    await tx.execute(
        "UPDATE events_buses SET version = version + 1 WHERE account = ? AND region = ? AND name = ?",
        (account, region, name),
    )


# --- rules ---------------------------------------------------------------------------------

_RULE = "SELECT account, region, bus, name, data, created_ms FROM events_rules"


def _rule(row: Row) -> Rule:
    return Rule(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])


async def get_rule(tx: Tx, account: str, region: str, bus: str, name: str) -> Rule | None:
    row = await tx.fetchone(f"{_RULE} WHERE account = ? AND region = ? AND bus = ? AND name = ?",
                            (account, region, bus, name))
    return _rule(row) if row else None


async def put_rule(tx: Tx, rule: Rule) -> None:
    await tx.execute(
        "INSERT INTO events_rules (account, region, bus, name, data, created_ms) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, bus, name) DO UPDATE SET data = excluded.data",
        (rule.account, rule.region, rule.bus, rule.name, _dump(rule.data), rule.created_ms),
    )


async def delete_rule(tx: Tx, account: str, region: str, bus: str, name: str) -> None:
    await tx.execute("DELETE FROM events_rules WHERE account = ? AND region = ? AND bus = ? AND name = ?",
                     (account, region, bus, name))


async def list_rules(tx: Tx, account: str, region: str, bus: str) -> list[Rule]:
    rows = await tx.fetchall(f"{_RULE} WHERE account = ? AND region = ? AND bus = ? ORDER BY name", (account, region, bus))
    return [_rule(r) for r in rows]


async def count_rules(tx: Tx, account: str, region: str, bus: str) -> int:
    row = await tx.fetchone("SELECT COUNT(*) FROM events_rules WHERE account = ? AND region = ? AND bus = ?",
                            (account, region, bus))
    return int(row[0]) if row else 0


# --- targets -------------------------------------------------------------------------------


async def list_targets(tx: Tx, account: str, region: str, bus: str, rule: str) -> list[dict[str, Any]]:
    rows = await tx.fetchall(
        "SELECT data FROM events_targets WHERE account = ? AND region = ? AND bus = ? AND rule = ? ORDER BY target_id",
        (account, region, bus, rule))
    return [json.loads(r[0]) for r in rows]


async def targets_of_bus(tx: Tx, account: str, region: str, bus: str) -> dict[str, list[dict[str, Any]]]:
    rows = await tx.fetchall(
        "SELECT rule, data FROM events_targets WHERE account = ? AND region = ? AND bus = ? ORDER BY rule, target_id",
        (account, region, bus))
    out: dict[str, list[dict[str, Any]]] = {}
    for rule, data in rows:
        out.setdefault(rule, []).append(json.loads(data))
    return out


async def put_target(tx: Tx, account: str, region: str, bus: str, rule: str, target: dict[str, Any]) -> None:
    await tx.execute(
        "INSERT INTO events_targets (account, region, bus, rule, target_id, arn, data) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, bus, rule, target_id) DO UPDATE SET arn = excluded.arn, data = excluded.data",
        (account, region, bus, rule, target["Id"], target["Arn"], _dump(target)),
    )


async def delete_target(tx: Tx, account: str, region: str, bus: str, rule: str, target_id: str) -> int:
    return await tx.execute(
        "DELETE FROM events_targets WHERE account = ? AND region = ? AND bus = ? AND rule = ? AND target_id = ?",
        (account, region, bus, rule, target_id))


async def rules_by_target(tx: Tx, account: str, region: str, bus: str, arn: str) -> list[str]:
    rows = await tx.fetchall(
        "SELECT DISTINCT rule FROM events_targets WHERE account = ? AND region = ? AND arn = ? AND bus = ? ORDER BY rule",
        (account, region, arn, bus))
    return [r[0] for r in rows]


# --- tags ----------------------------------------------------------------------------------


async def get_tags(tx: Tx, arn: str) -> dict[str, str]:
    rows = await tx.fetchall("SELECT key, value FROM events_tags WHERE arn = ? ORDER BY key", (arn,))
    return {k: v for k, v in rows}


async def put_tags(tx: Tx, arn: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        await tx.execute(
            "INSERT INTO events_tags (arn, key, value) VALUES (?, ?, ?) ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
            (arn, key, value))


async def delete_tags(tx: Tx, arn: str, keys: list[str] | None = None) -> None:
    if keys is None:
        await tx.execute("DELETE FROM events_tags WHERE arn = ?", (arn,))
        return
    for key in keys:
        await tx.execute("DELETE FROM events_tags WHERE arn = ? AND key = ?", (arn, key))


# --- archives ------------------------------------------------------------------------------

_ARCHIVE = "SELECT account, region, name, bus, data, created_ms FROM events_archives"


def _archive(row: Row) -> Archive:
    return Archive(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])


async def get_archive(tx: Tx, account: str, region: str, name: str) -> Archive | None:
    row = await tx.fetchone(f"{_ARCHIVE} WHERE account = ? AND region = ? AND name = ?", (account, region, name))
    return _archive(row) if row else None


async def put_archive(tx: Tx, archive: Archive) -> bool:
    """Insert or update; answers False when inserting found the name taken."""
    count = await tx.execute(
        "UPDATE events_archives SET data = ? WHERE account = ? AND region = ? AND name = ?",
        (_dump(archive.data), archive.account, archive.region, archive.name))
    if count:
        return True
    row = await tx.fetchone(
        "INSERT INTO events_archives (account, region, name, bus, data, created_ms) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, name) DO NOTHING RETURNING name",
        (archive.account, archive.region, archive.name, archive.bus, _dump(archive.data), archive.created_ms))
    return row is not None


async def delete_archive(tx: Tx, account: str, region: str, name: str) -> None:
    await tx.execute("DELETE FROM events_archived WHERE account = ? AND region = ? AND archive = ?", (account, region, name))
    await tx.execute("DELETE FROM events_archives WHERE account = ? AND region = ? AND name = ?", (account, region, name))


async def list_archives(tx: Tx, account: str, region: str) -> list[Archive]:
    rows = await tx.fetchall(f"{_ARCHIVE} WHERE account = ? AND region = ? ORDER BY name", (account, region))
    return [_archive(r) for r in rows]


async def archives_of_bus(tx: Tx, account: str, region: str, bus: str) -> list[Archive]:
    rows = await tx.fetchall(f"{_ARCHIVE} WHERE account = ? AND region = ? AND bus = ? ORDER BY name", (account, region, bus))
    return [_archive(r) for r in rows]


async def archive_event(tx: Tx, account: str, region: str, archive: str, time_ms: int, event: str,
                        *, size: int = 0) -> None:
    """Archive one event; ``size`` is the plain event's size when ``event`` is stored sealed."""
    await tx.execute(
        "INSERT INTO events_archived (account, region, archive, time_ms, size, event) VALUES (?, ?, ?, ?, ?, ?)",
        (account, region, archive, time_ms, size or len(event.encode()), event))


async def archive_stats(tx: Tx, account: str, region: str, archive: str) -> tuple[int, int]:
    row = await tx.fetchone(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM events_archived WHERE account = ? AND region = ? AND archive = ?",
        (account, region, archive))
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def archived_events(tx: Tx, account: str, region: str, archive: str, start_ms: int, end_ms: int,
                          after_id: int, limit: int) -> list[tuple[int, int, str]]:
    """``(id, time_ms, event)`` of archived events in ``[start_ms, end_ms)`` after ``after_id``, by id."""
    rows = await tx.fetchall(
        "SELECT id, time_ms, event FROM events_archived WHERE account = ? AND region = ? AND archive = ?"
        " AND time_ms >= ? AND time_ms < ? AND id > ? ORDER BY id LIMIT ?",
        (account, region, archive, start_ms, end_ms, after_id, limit))
    return [(r[0], r[1], r[2]) for r in rows]


async def expire_archived(tx: Tx, account: str, region: str, archive: str, before_ms: int) -> None:
    await tx.execute("DELETE FROM events_archived WHERE account = ? AND region = ? AND archive = ? AND time_ms < ?",
                     (account, region, archive, before_ms))


# --- replays -------------------------------------------------------------------------------

_REPLAY = "SELECT account, region, name, state, data, created_ms FROM events_replays"


def _replay(row: Row) -> Replay:
    return Replay(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])


async def get_replay(tx: Tx, account: str, region: str, name: str) -> Replay | None:
    row = await tx.fetchone(f"{_REPLAY} WHERE account = ? AND region = ? AND name = ?", (account, region, name))
    return _replay(row) if row else None


async def insert_replay(tx: Tx, replay: Replay) -> bool:
    row = await tx.fetchone(
        "INSERT INTO events_replays (account, region, name, state, data, created_ms) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, name) DO NOTHING RETURNING name",
        (replay.account, replay.region, replay.name, replay.state, _dump(replay.data), replay.created_ms))
    return row is not None


async def update_replay(tx: Tx, replay: Replay) -> None:
    await tx.execute("UPDATE events_replays SET state = ?, data = ? WHERE account = ? AND region = ? AND name = ?",
                     (replay.state, _dump(replay.data), replay.account, replay.region, replay.name))


async def list_replays(tx: Tx, account: str, region: str) -> list[Replay]:
    rows = await tx.fetchall(f"{_REPLAY} WHERE account = ? AND region = ? ORDER BY name", (account, region))
    return [_replay(r) for r in rows]
