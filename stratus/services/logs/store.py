"""CloudWatch Logs' tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from stratus.services.logs.model import LogGroup, LogStream
from stratus.store.base import Row, Tx

_GROUP_COLUMNS = (
    "id, account, region, name, created_ms, retention_days, kms_key_id, log_group_class, deletion_protection, tags"
)
_STREAM_COLUMNS = (
    "id, group_id, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, upload_seq, stored_bytes"
)
# An event row as the reads use it: (id, ts, ingestion_ms, message, stream_id).
_EVENT_COLUMNS = "id, ts, ingestion_ms, message, stream_id"


def _group(row: Row) -> LogGroup:
    return LogGroup(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), json.loads(row[9]))


def _stream(row: Row) -> LogStream:
    return LogStream(*row)


# --- groups ---------------------------------------------------------------------------------


async def get_group(tx: Tx, account: str, region: str, name: str) -> LogGroup | None:
    row = await tx.fetchone(
        f"SELECT {_GROUP_COLUMNS} FROM logs_groups WHERE account = ? AND region = ? AND name = ?",
        (account, region, name),
    )
    return _group(row) if row else None


async def get_group_by_id(tx: Tx, group_id: int) -> LogGroup | None:
    row = await tx.fetchone(f"SELECT {_GROUP_COLUMNS} FROM logs_groups WHERE id = ?", (group_id,))
    return _group(row) if row else None


async def insert_group(
    tx: Tx,
    account: str,
    region: str,
    name: str,
    now: int,
    kms_key_id: str | None,
    log_group_class: str,
    deletion_protection: bool,
    tags: dict[str, str],
) -> int | None:
    """The new group's id, or None when it exists already (one statement: cheap to repeat)."""
    row = await tx.fetchone(
        "INSERT INTO logs_groups (account, region, name, created_ms, kms_key_id, log_group_class,"
        " deletion_protection, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account, region, name) DO NOTHING RETURNING id",
        (account, region, name, now, kms_key_id, log_group_class, int(deletion_protection), json.dumps(tags)),
    )
    return row[0] if row else None


async def list_groups(tx: Tx, account: str, region: str) -> list[tuple[LogGroup, int, int]]:
    """Every group of the account and region with its stored bytes and metric filter count, by name.

    Sorted here, not in SQL: collations differ between the dialects; AWS orders by code point.
    """
    rows = await tx.fetchall(
        f"SELECT {', '.join('g.' + c.strip() for c in _GROUP_COLUMNS.split(','))},"
        " (SELECT COALESCE(SUM(s.stored_bytes), 0) FROM logs_streams s WHERE s.group_id = g.id),"
        " (SELECT COUNT(*) FROM logs_filters f WHERE f.group_id = g.id AND f.kind = 'metric')"
        " FROM logs_groups g WHERE g.account = ? AND g.region = ?",
        (account, region),
    )
    groups = [(_group(row[:10]), int(row[10]), int(row[11])) for row in rows]
    groups.sort(key=lambda item: item[0].name)
    return groups


async def set_retention(tx: Tx, group_id: int, days: int | None) -> None:
    await tx.execute("UPDATE logs_groups SET retention_days = ? WHERE id = ?", (days, group_id))


async def set_tags(tx: Tx, group_id: int, tags: dict[str, str]) -> None:
    await tx.execute("UPDATE logs_groups SET tags = ? WHERE id = ?", (json.dumps(tags), group_id))


async def delete_group(tx: Tx, group_id: int) -> None:
    for table in ("logs_events", "logs_streams", "logs_filters"):
        await tx.execute(f"DELETE FROM {table} WHERE group_id = ?", (group_id,))
    await tx.execute("DELETE FROM logs_groups WHERE id = ?", (group_id,))


# --- streams --------------------------------------------------------------------------------


async def create_stream_in(tx: Tx, account: str, region: str, group: str, name: str, now: int) -> bool | None:
    """Create a stream by group name in one statement: True made, False exists, None no such group."""
    row = await tx.fetchone(
        "INSERT INTO logs_streams (group_id, name, created_ms, upload_seq, stored_bytes)"
        " SELECT id, ?, ?, 0, 0 FROM logs_groups WHERE account = ? AND region = ? AND name = ?"
        " ON CONFLICT (group_id, name) DO NOTHING RETURNING id",
        (name, now, account, region, group),
    )
    if row is not None:
        return True
    exists = await tx.fetchone(
        "SELECT 1 FROM logs_groups WHERE account = ? AND region = ? AND name = ?", (account, region, group)
    )
    return False if exists else None


async def get_stream(tx: Tx, group_id: int, name: str) -> LogStream | None:
    row = await tx.fetchone(f"SELECT {_STREAM_COLUMNS} FROM logs_streams WHERE group_id = ? AND name = ?", (group_id, name))
    return _stream(row) if row else None


async def stream_for_put(
    tx: Tx, account: str, region: str, group: str, stream: str
) -> tuple[int, int, int | None, bool] | None:
    """(group id, stream id, retention days, has subscription filters) for PutLogEvents, in one indexed read."""
    row = await tx.fetchone(
        "SELECT g.id, s.id, g.retention_days,"
        " EXISTS (SELECT 1 FROM logs_filters f WHERE f.group_id = g.id AND f.kind = 'subscription')"
        " FROM logs_groups g JOIN logs_streams s ON s.group_id = g.id"
        " WHERE g.account = ? AND g.region = ? AND g.name = ? AND s.name = ?",
        (account, region, group, stream),
    )
    return (row[0], row[1], row[2], bool(row[3])) if row else None


async def list_streams(tx: Tx, group_id: int) -> list[LogStream]:
    rows = await tx.fetchall(f"SELECT {_STREAM_COLUMNS} FROM logs_streams WHERE group_id = ?", (group_id,))
    return [_stream(row) for row in rows]


async def delete_stream(tx: Tx, stream_id: int) -> None:
    await tx.execute("DELETE FROM logs_events WHERE stream_id = ?", (stream_id,))
    await tx.execute("DELETE FROM logs_streams WHERE id = ?", (stream_id,))


# --- events ---------------------------------------------------------------------------------

_INSERT_EVENT = "INSERT INTO logs_events (group_id, stream_id, ts, ingestion_ms, bytes, message) VALUES (?, ?, ?, ?, ?, ?)"
_AFTER_PUT = (
    "UPDATE logs_streams SET"
    " first_event_ms = CASE WHEN first_event_ms IS NULL OR first_event_ms > ? THEN ? ELSE first_event_ms END,"
    " last_event_ms = CASE WHEN last_event_ms IS NULL OR last_event_ms < ? THEN ? ELSE last_event_ms END,"
    " last_ingestion_ms = ?, stored_bytes = stored_bytes + ?, upload_seq = upload_seq + 1"
    " WHERE id = ? RETURNING upload_seq"
)


# Rows per multi-row INSERT ... RETURNING: 6 parameters each stays far below SQLite's 32,766.
_RETURNING_CHUNK = 500


async def _insert_returning_ids(tx: Tx, rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert event rows and answer their ids in row order.

    Ids are assigned in row order within one statement on both stores (SQLite's rowid, a
    PostgreSQL identity), while RETURNING's own order is unspecified: so sort them.
    """
    ids: list[int] = []
    for start in range(0, len(rows), _RETURNING_CHUNK):
        chunk = rows[start : start + _RETURNING_CHUNK]
        values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
        sql = _INSERT_EVENT.replace("VALUES (?, ?, ?, ?, ?, ?)", f"VALUES {values}") + " RETURNING id"
        returned = await tx.fetchall(sql, [value for row in chunk for value in row])
        ids.extend(sorted(int(r[0]) for r in returned))
    return ids


async def append_events(
    tx: Tx, group_id: int, stream_id: int, events: list[tuple[int, str, int]], now: int, *, with_ids: bool = False
) -> tuple[int, list[int]]:
    """Store accepted (timestamp, message, bytes) events; answer the stream's new upload count.

    ``with_ids`` also answers the new rows' ids in event order (subscription filters send
    eventIds); otherwise the list is empty and the insert is one ``executemany``.
    """
    ids: list[int] = []
    if events:
        rows = [(group_id, stream_id, ts, now, size, msg) for ts, msg, size in events]
        if with_ids:
            ids = await _insert_returning_ids(tx, rows)
        else:
            await tx.executemany(_INSERT_EVENT, rows)
        first, last = events[0][0], events[-1][0]
        params: tuple[Any, ...] = (first, first, last, last, now, sum(e[2] for e in events), stream_id)
        row = await tx.fetchone(_AFTER_PUT, params)
    else:
        row = await tx.fetchone("UPDATE logs_streams SET upload_seq = upload_seq + 1 WHERE id = ? RETURNING upload_seq", (stream_id,))
    assert row is not None
    return int(row[0]), ids


def _events_in_window(
    owner: str, owner_id: int, start: int, end: int | None, after: tuple[int, int] | None
) -> tuple[str, list[Any]]:
    """The SELECT of the events of a stream or group (``owner``) with start <= ts < end, strictly after a position."""
    sql = f"SELECT {_EVENT_COLUMNS} FROM logs_events WHERE {owner} = ? AND ts >= ?"
    params: list[Any] = [owner_id, start]
    if end is not None:
        sql += " AND ts < ?"
        params.append(end)
    if after is not None:
        sql += " AND (ts > ? OR (ts = ? AND id > ?))"
        params += [after[0], after[0], after[1]]
    return sql, params


async def stream_events(
    tx: Tx, stream_id: int, start: int, end: int | None, after: tuple[int, int] | None, before: tuple[int, int] | None, limit: int, backward: bool
) -> list[Row]:
    """Events of one stream with start <= ts < end, strictly after/before a position, in (ts, id) order.

    ``backward`` takes the last ``limit`` of them (still answered in ascending order).
    """
    sql, params = _events_in_window("stream_id", stream_id, start, end, after)
    if before is not None:
        sql += " AND (ts < ? OR (ts = ? AND id < ?))"
        params += [before[0], before[0], before[1]]
    sql += " ORDER BY ts DESC, id DESC LIMIT ?" if backward else " ORDER BY ts, id LIMIT ?"
    params.append(limit)
    rows = await tx.fetchall(sql, params)
    return rows[::-1] if backward else rows


async def group_events(
    tx: Tx, group_id: int, start: int, end: int | None, after: tuple[int, int] | None, limit: int
) -> list[Row]:
    """A chunk of a group's events (every stream), start <= ts < end, after a position, in (ts, id) order."""
    sql, params = _events_in_window("group_id", group_id, start, end, after)
    sql += " ORDER BY ts, id LIMIT ?"
    params.append(limit)
    return await tx.fetchall(sql, params)


async def expire_events(tx: Tx, group_id: int, before_ms: int) -> int:
    """Delete the group's events older than ``before_ms`` and recount its streams' stored bytes."""
    deleted = await tx.execute("DELETE FROM logs_events WHERE group_id = ? AND ts < ?", (group_id, before_ms))
    if deleted:
        await tx.execute(
            "UPDATE logs_streams SET stored_bytes ="
            " (SELECT COALESCE(SUM(e.bytes), 0) FROM logs_events e WHERE e.stream_id = logs_streams.id)"
            " WHERE group_id = ?",
            (group_id,),
        )
    return deleted


# --- metric and subscription filters ---------------------------------------------------------


async def put_filter(tx: Tx, group_id: int, kind: str, name: str, pattern: str, now: int, data: dict[str, Any]) -> None:
    """Create or replace; a replaced filter keeps its creation time (and a disabled one is enabled again)."""
    await tx.execute(
        "INSERT INTO logs_filters (group_id, kind, name, pattern, created_ms, data) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (group_id, kind, name) DO UPDATE SET pattern = excluded.pattern, data = excluded.data,"
        " disabled_until_ms = NULL",
        (group_id, kind, name, pattern, now, json.dumps(data)),
    )


async def filter_names(tx: Tx, group_id: int, kind: str) -> list[str]:
    rows = await tx.fetchall("SELECT name FROM logs_filters WHERE group_id = ? AND kind = ?", (group_id, kind))
    return [row[0] for row in rows]


async def list_filters(tx: Tx, account: str, region: str, kind: str, group_id: int | None) -> list[tuple[str, str, str, int, dict[str, Any]]]:
    """(group name, filter name, pattern, created_ms, data) of filters, by group then filter name."""
    sql = (
        "SELECT g.name, f.name, f.pattern, f.created_ms, f.data FROM logs_filters f JOIN logs_groups g ON g.id = f.group_id"
        " WHERE g.account = ? AND g.region = ? AND f.kind = ?"
    )
    params: list[Any] = [account, region, kind]
    if group_id is not None:
        sql += " AND f.group_id = ?"
        params.append(group_id)
    rows = await tx.fetchall(sql, params)
    result = [(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]
    result.sort(key=lambda r: (r[0], r[1]))
    return result


async def delete_filter(tx: Tx, group_id: int, kind: str, name: str) -> bool:
    return bool(
        await tx.execute("DELETE FROM logs_filters WHERE group_id = ? AND kind = ? AND name = ?", (group_id, kind, name))
    )


async def subscription_filters(tx: Tx, group_id: int, now: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, pattern, data) of the group's subscription filters not disabled at ``now``."""
    rows = await tx.fetchall(
        "SELECT name, pattern, data FROM logs_filters WHERE group_id = ? AND kind = 'subscription'"
        " AND (disabled_until_ms IS NULL OR disabled_until_ms <= ?)",
        (group_id, now),
    )
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


async def subscription_destination(tx: Tx, account: str, region: str, group: str, name: str) -> str | None:
    """The destination ARN of a subscription filter, None when the filter (or its group) is gone."""
    row = await tx.fetchone(
        "SELECT f.data FROM logs_filters f JOIN logs_groups g ON g.id = f.group_id"
        " WHERE g.account = ? AND g.region = ? AND g.name = ? AND f.kind = 'subscription' AND f.name = ?",
        (account, region, group, name),
    )
    return json.loads(row[0]).get("destinationArn") if row else None


async def disable_subscription(tx: Tx, account: str, region: str, group: str, name: str, until_ms: int) -> None:
    await tx.execute(
        "UPDATE logs_filters SET disabled_until_ms = ? WHERE kind = 'subscription' AND name = ? AND group_id ="
        " (SELECT id FROM logs_groups WHERE account = ? AND region = ? AND name = ?)",
        (until_ms, name, account, region, group),
    )
