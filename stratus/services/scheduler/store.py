"""EventBridge Scheduler's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json

from stratus.services.scheduler.model import DEFAULT_GROUP, Group, Schedule
from stratus.store.base import Row, Tx

_GROUP_COLUMNS = "account, region, name, state, tags, client_token, created_ms, modified_ms"
_SCHEDULE_COLUMNS = (
    "account, region, group_name, name, state, data, anchor_ms, client_token, version, created_ms, modified_ms"
)


def _group(row: Row) -> Group:
    return Group(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7])


def _schedule(row: Row) -> Schedule:
    return Schedule(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7], row[8], row[9], row[10])


# --- groups -------------------------------------------------------------------------------


async def ensure_default_group(tx: Tx, account: str, region: str, now: int) -> None:
    """Every account and Region has the group ``default``; its row is made on first use."""
    await tx.execute(
        "INSERT INTO scheduler_groups (account, region, name, state, tags, client_token, created_ms, modified_ms)"
        " VALUES (?, ?, ?, 'ACTIVE', '{}', NULL, ?, ?) ON CONFLICT (account, region, name) DO NOTHING",
        (account, region, DEFAULT_GROUP, now, now),
    )


async def get_group(tx: Tx, account: str, region: str, name: str) -> Group | None:
    row = await tx.fetchone(
        f"SELECT {_GROUP_COLUMNS} FROM scheduler_groups WHERE account = ? AND region = ? AND name = ?",
        (account, region, name),
    )
    return _group(row) if row else None


async def insert_group(tx: Tx, group: Group) -> bool:
    """False when the name is taken (also by a concurrent create on another node)."""
    row = await tx.fetchone(
        f"INSERT INTO scheduler_groups ({_GROUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, name) DO NOTHING RETURNING name",
        (
            group.account,
            group.region,
            group.name,
            group.state,
            json.dumps(group.tags),
            group.client_token,
            group.created_ms,
            group.modified_ms,
        ),
    )
    return row is not None


async def list_groups(tx: Tx, account: str, region: str) -> list[Group]:
    rows = await tx.fetchall(
        f"SELECT {_GROUP_COLUMNS} FROM scheduler_groups WHERE account = ? AND region = ?", (account, region)
    )
    # Sorted here: collations differ between the dialects.
    return sorted(map(_group, rows), key=lambda g: g.name)


async def set_group_state(tx: Tx, group: Group, state: str, now: int) -> None:
    await tx.execute(
        "UPDATE scheduler_groups SET state = ?, modified_ms = ? WHERE account = ? AND region = ? AND name = ?",
        (state, now, group.account, group.region, group.name),
    )


async def set_group_tags(tx: Tx, group: Group, tags: dict[str, str]) -> None:
    await tx.execute(
        "UPDATE scheduler_groups SET tags = ? WHERE account = ? AND region = ? AND name = ?",
        (json.dumps(tags), group.account, group.region, group.name),
    )


async def delete_group(tx: Tx, account: str, region: str, name: str) -> None:
    key = (account, region, name)
    await tx.execute("DELETE FROM scheduler_schedules WHERE account = ? AND region = ? AND group_name = ?", key)
    await tx.execute("DELETE FROM scheduler_groups WHERE account = ? AND region = ? AND name = ?", key)


# --- schedules ----------------------------------------------------------------------------


async def get_schedule(tx: Tx, account: str, region: str, group: str, name: str) -> Schedule | None:
    row = await tx.fetchone(
        f"SELECT {_SCHEDULE_COLUMNS} FROM scheduler_schedules"
        " WHERE account = ? AND region = ? AND group_name = ? AND name = ?",
        (account, region, group, name),
    )
    return _schedule(row) if row else None


async def insert_schedule(tx: Tx, schedule: Schedule) -> bool:
    """False when the name is taken in its group."""
    row = await tx.fetchone(
        f"INSERT INTO scheduler_schedules ({_SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, group_name, name) DO NOTHING RETURNING name",
        (
            schedule.account,
            schedule.region,
            schedule.group,
            schedule.name,
            schedule.state,
            json.dumps(schedule.config),
            schedule.anchor_ms,
            schedule.client_token,
            schedule.version,
            schedule.created_ms,
            schedule.modified_ms,
        ),
    )
    return row is not None


async def replace_schedule(tx: Tx, schedule: Schedule) -> int:
    """Write ``schedule``'s new state and config; answer its new version."""
    row = await tx.fetchone(
        "UPDATE scheduler_schedules SET state = ?, data = ?, anchor_ms = ?, client_token = ?, modified_ms = ?,"
        " version = version + 1 WHERE account = ? AND region = ? AND group_name = ? AND name = ? RETURNING version",
        (
            schedule.state,
            json.dumps(schedule.config),
            schedule.anchor_ms,
            schedule.client_token,
            schedule.modified_ms,
            schedule.account,
            schedule.region,
            schedule.group,
            schedule.name,
        ),
    )
    assert row is not None
    return int(row[0])


async def delete_schedule(tx: Tx, schedule: Schedule) -> None:
    await tx.execute(
        "DELETE FROM scheduler_schedules WHERE account = ? AND region = ? AND group_name = ? AND name = ?",
        (schedule.account, schedule.region, schedule.group, schedule.name),
    )


async def list_schedules(
    tx: Tx, account: str, region: str, group: str | None, state: str | None, prefix: str
) -> list[Schedule]:
    sql = f"SELECT {_SCHEDULE_COLUMNS} FROM scheduler_schedules WHERE account = ? AND region = ?"
    params: list[object] = [account, region]
    if group is not None:
        sql += " AND group_name = ?"
        params.append(group)
    if state is not None:
        sql += " AND state = ?"
        params.append(state)
    rows = await tx.fetchall(sql, params)
    # Prefix and order here, not in SQL: LIKE treats '_' (valid in names) as a wildcard.
    schedules = [s for s in map(_schedule, rows) if s.name.startswith(prefix)]
    return sorted(schedules, key=lambda s: (s.group, s.name))


async def schedule_names(tx: Tx, account: str, region: str, group: str) -> list[str]:
    rows = await tx.fetchall(
        "SELECT name FROM scheduler_schedules WHERE account = ? AND region = ? AND group_name = ?",
        (account, region, group),
    )
    return [name for (name,) in rows]
