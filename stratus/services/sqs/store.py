"""SQS's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from stratus.services.sqs.model import Queue, parse_queue_arn
from stratus.store.base import Row, Tx

_QUEUE_COLUMNS = "id, account, region, name, fifo, attributes, created_ms, modified_ms, purged_ms, tags"


@lru_cache(maxsize=4096)
def _frozen_map(text: str) -> Mapping[str, str]:
    """A queue's attributes or tags, parsed once per distinct JSON text: every call reads its queue row."""
    return MappingProxyType(json.loads(text))


def _queue(row: Row) -> Queue:
    return Queue(
        id=row[0],
        account=row[1],
        region=row[2],
        name=row[3],
        fifo=bool(row[4]),
        attributes=_frozen_map(row[5]),
        created_ms=row[6],
        modified_ms=row[7],
        purged_ms=row[8],
        tags=_frozen_map(row[9]),
    )


def _dlq_arn(attributes: dict[str, str]) -> str | None:
    raw = attributes.get("RedrivePolicy")
    return json.loads(raw)["deadLetterTargetArn"] if raw else None


# --- queues -------------------------------------------------------------------------------


async def get_queue(tx: Tx, account: str, region: str, name: str, *, lock: bool = False) -> Queue | None:
    """The queue by name; ``lock`` holds its row until commit (PostgreSQL), serializing FIFO receives."""
    suffix = " FOR UPDATE" if lock and tx.dialect == "postgresql" else ""
    row = await tx.fetchone(
        f"SELECT {_QUEUE_COLUMNS} FROM sqs_queues WHERE account = ? AND region = ? AND name = ?{suffix}",
        (account, region, name),
    )
    return _queue(row) if row else None


async def get_queue_by_arn(tx: Tx, arn: str) -> Queue | None:
    parts = parse_queue_arn(arn)
    if parts is None:
        return None
    region, account, name = parts
    return await get_queue(tx, account, region, name)


async def get_queue_by_id(tx: Tx, queue_id: int) -> Queue | None:
    row = await tx.fetchone(f"SELECT {_QUEUE_COLUMNS} FROM sqs_queues WHERE id = ?", (queue_id,))
    return _queue(row) if row else None


async def insert_queue(
    tx: Tx, account: str, region: str, name: str, fifo: bool, attributes: dict[str, str], tags: dict[str, str], now: int
) -> Queue | None:
    """The new queue, or None when a concurrent CreateQueue (another node) made it first."""
    row = await tx.fetchone(
        "INSERT INTO sqs_queues (account, region, name, fifo, attributes, tags, dlq_arn, created_ms, modified_ms,"
        " purged_ms, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)"
        " ON CONFLICT (account, region, name) DO NOTHING RETURNING id",
        (account, region, name, int(fifo), json.dumps(attributes), json.dumps(tags), _dlq_arn(attributes), now, now),
    )
    if row is None:
        return None
    return Queue(row[0], account, region, name, fifo, attributes, now, now, 0, tags)


async def update_attributes(tx: Tx, queue: Queue, attributes: dict[str, str], now: int) -> None:
    await tx.execute(
        "UPDATE sqs_queues SET attributes = ?, dlq_arn = ?, modified_ms = ? WHERE id = ?",
        (json.dumps(attributes), _dlq_arn(attributes), now, queue.id),
    )


async def update_tags(tx: Tx, queue: Queue, tags: dict[str, str]) -> None:
    await tx.execute("UPDATE sqs_queues SET tags = ? WHERE id = ?", (json.dumps(tags), queue.id))


async def mark_purged(tx: Tx, queue: Queue, now: int) -> None:
    await tx.execute("UPDATE sqs_queues SET purged_ms = ? WHERE id = ?", (now, queue.id))


async def delete_queue(tx: Tx, queue: Queue, now: int) -> None:
    for table in ("sqs_messages", "sqs_dedup", "sqs_receive_attempts"):
        await tx.execute(f"DELETE FROM {table} WHERE queue_id = ?", (queue.id,))
    await tx.execute("DELETE FROM sqs_queues WHERE id = ?", (queue.id,))
    await tx.execute(
        "DELETE FROM sqs_deleted_queues WHERE account = ? AND region = ? AND name = ?",
        (queue.account, queue.region, queue.name),
    )
    await tx.execute(
        "INSERT INTO sqs_deleted_queues (account, region, name, deleted_ms) VALUES (?, ?, ?, ?)",
        (queue.account, queue.region, queue.name, now),
    )


async def deleted_at(tx: Tx, account: str, region: str, name: str) -> int | None:
    row = await tx.fetchone(
        "SELECT deleted_ms FROM sqs_deleted_queues WHERE account = ? AND region = ? AND name = ?",
        (account, region, name),
    )
    return row[0] if row else None


async def list_queue_names(tx: Tx, account: str, region: str, prefix: str, after: str) -> list[str]:
    """Names starting with ``prefix`` and after ``after``, in code point order.

    Filtered and sorted here, not in SQL: collations (and LIKE's wildcards, which '_' in a
    queue name would be) differ between the dialects.
    """
    rows = await tx.fetchall("SELECT name FROM sqs_queues WHERE account = ? AND region = ?", (account, region))
    return sorted(name for (name,) in rows if name.startswith(prefix) and name > after)


async def dead_letter_sources(tx: Tx, dlq_arn: str, after: str) -> list[Queue]:
    rows = await tx.fetchall(f"SELECT {_QUEUE_COLUMNS} FROM sqs_queues WHERE dlq_arn = ?", (dlq_arn,))
    return sorted((q for q in map(_queue, rows) if q.name > after), key=lambda q: q.name)


async def next_sequence(tx: Tx, queue: Queue) -> int:
    row = await tx.fetchone("UPDATE sqs_queues SET seq = seq + 1 WHERE id = ? RETURNING seq", (queue.id,))
    assert row is not None
    return int(row[0])


# --- messages -----------------------------------------------------------------------------


@dataclass(slots=True)
class NewMessage:
    message_id: str
    body: str
    attributes: str | None
    system_attributes: str | None
    md5_body: str
    md5_attributes: str | None
    sent_ms: int
    visible_at: int
    group_id: str | None
    dedup_id: str | None
    seq: int | None
    sender_id: str


_INSERT_MESSAGE = (
    "INSERT INTO sqs_messages (queue_id, message_id, body, attributes, system_attributes, md5_body, md5_attributes,"
    " sent_ms, visible_at, receive_count, group_id, dedup_id, seq, sender_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)"
)


def _message_params(queue_id: int, m: NewMessage) -> tuple[Any, ...]:
    return (
        queue_id,
        m.message_id,
        m.body,
        m.attributes,
        m.system_attributes,
        m.md5_body,
        m.md5_attributes,
        m.sent_ms,
        m.visible_at,
        m.group_id,
        m.dedup_id,
        m.seq,
        m.sender_id,
    )


async def insert_message(tx: Tx, queue_id: int, message: NewMessage) -> None:
    await tx.execute(_INSERT_MESSAGE, _message_params(queue_id, message))


async def insert_messages(tx: Tx, queue_id: int, messages: list[NewMessage]) -> None:
    await tx.executemany(_INSERT_MESSAGE, [_message_params(queue_id, m) for m in messages])


async def claim_dedup(
    tx: Tx, queue_id: int, key: str, message_id: str, seq: int, now: int, expires_ms: int
) -> tuple[str, int] | None:
    """Record a deduplication id; answer ``(message id, seq)`` of a live earlier send with it, if any.

    One upsert whose update only happens when the old entry has expired: under concurrent
    sends of the same id on PostgreSQL the second waits on the key and then sees the first.
    """
    changed = await tx.execute(
        "INSERT INTO sqs_dedup (queue_id, dedup_key, message_id, seq, expires_ms) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (queue_id, dedup_key) DO UPDATE SET message_id = excluded.message_id, seq = excluded.seq,"
        " expires_ms = excluded.expires_ms WHERE sqs_dedup.expires_ms <= ?",
        (queue_id, key, message_id, seq, expires_ms, now),
    )
    if changed:
        return None
    row = await tx.fetchone(
        "SELECT message_id, seq FROM sqs_dedup WHERE queue_id = ? AND dedup_key = ?", (queue_id, key)
    )
    assert row is not None
    return row[0], row[1]


@dataclass(slots=True)
class ClaimedMessage:
    row: int
    message_id: str
    body: str
    attributes: str | None
    system_attributes: str | None
    md5_body: str
    md5_attributes: str | None
    sent_ms: int
    receive_count: int
    first_receive_ms: int | None
    group_id: str | None
    dedup_id: str | None
    seq: int | None
    sender_id: str | None
    source_arn: str | None
    nonce: str = ""  # of the receive that handed it out (for its receipt handle)


_CLAIMED_COLUMNS = (
    "id, message_id, body, attributes, system_attributes, md5_body, md5_attributes, sent_ms, receive_count,"
    " first_receive_ms, group_id, dedup_id, seq, sender_id, source_arn"
)


async def claim_messages(
    tx: Tx, queue: Queue, now: int, visible_until: int, nonce: str, limit: int, oldest_sent: int
) -> list[ClaimedMessage]:
    """Hand out up to ``limit`` visible messages: one UPDATE ... RETURNING over the ready index.

    FIFO: only messages of groups with nothing in flight, in sequence order (the caller holds
    the queue row locked so two receivers cannot split a group).
    """
    if queue.fifo:
        pick = (
            "SELECT m.id FROM sqs_messages m WHERE m.queue_id = ? AND m.visible_at <= ? AND m.sent_ms > ?"
            " AND NOT EXISTS (SELECT 1 FROM sqs_messages f WHERE f.queue_id = m.queue_id AND f.group_id = m.group_id"
            " AND f.visible_at > ? AND f.receive_count > 0)"
            " ORDER BY m.seq LIMIT ?"
        )
        pick_params: tuple[Any, ...] = (queue.id, now, oldest_sent, now, limit)
    else:
        pick = (
            "SELECT id FROM sqs_messages WHERE queue_id = ? AND visible_at <= ? AND sent_ms > ?"
            f" ORDER BY visible_at, id LIMIT ?{tx.skip_locked}"
        )
        pick_params = (queue.id, now, oldest_sent, limit)
    rows = await tx.fetchall(
        "UPDATE sqs_messages SET visible_at = ?, receive_count = receive_count + 1,"
        " first_receive_ms = COALESCE(first_receive_ms, ?), received_ms = ?, receipt = ?"
        f" WHERE id IN ({pick}) RETURNING {_CLAIMED_COLUMNS}",
        (visible_until, now, now, nonce, *pick_params),
    )
    claimed = [ClaimedMessage(*row) for row in rows]
    claimed.sort(key=(lambda m: m.seq) if queue.fifo else (lambda m: m.row))
    return claimed


async def messages_by_receipt(tx: Tx, queue_id: int, rows: list[int], nonce: str, visible_until: int) -> list[ClaimedMessage]:
    """The messages of an earlier receive still held under its nonce, their visibility reset."""
    if not rows:
        return []
    marks = ", ".join("?" for _ in rows)
    found = await tx.fetchall(
        f"UPDATE sqs_messages SET visible_at = ? WHERE queue_id = ? AND receipt = ? AND id IN ({marks})"
        f" RETURNING {_CLAIMED_COLUMNS}",
        (visible_until, queue_id, nonce, *rows),
    )
    claimed = [ClaimedMessage(*row) for row in found]
    claimed.sort(key=lambda m: m.seq or 0)
    return claimed


async def move_to_queue(tx: Tx, rows: list[int], target_id: int, source_arn: str | None, visible_at: int) -> None:
    """Move messages to another queue (dead-letter redrive, message move tasks) as fresh, unreceived."""
    if not rows:
        return
    marks = ", ".join("?" for _ in rows)
    await tx.execute(
        "UPDATE sqs_messages SET queue_id = ?, visible_at = ?, receive_count = 0, first_receive_ms = NULL,"
        f" received_ms = NULL, receipt = NULL, source_arn = COALESCE(?, source_arn) WHERE id IN ({marks})",
        (target_id, visible_at, source_arn, *rows),
    )


async def delete_message(tx: Tx, queue_id: int, row: int, nonce: str) -> bool:
    changed = await tx.execute(
        "DELETE FROM sqs_messages WHERE id = ? AND queue_id = ? AND receipt = ?", (row, queue_id, nonce)
    )
    return changed > 0


@dataclass(slots=True)
class ReceiptState:
    """Where the receive a receipt handle names stands."""

    current: bool  # no later receive has handed the message out again
    visible_at: int
    received_ms: int | None  # None for messages received before stratus recorded it


async def receipt_state(tx: Tx, queue_id: int, row: int, nonce: str) -> ReceiptState | None:
    """The state of message ``row`` for a handle with ``nonce``; None when the message is gone."""
    found = await tx.fetchone(
        "SELECT receipt, visible_at, received_ms FROM sqs_messages WHERE id = ? AND queue_id = ?", (row, queue_id)
    )
    if found is None:
        return None
    return ReceiptState(found[0] == nonce, found[1], found[2])


async def set_visible_at(tx: Tx, row: int, visible_at: int) -> None:
    await tx.execute("UPDATE sqs_messages SET visible_at = ? WHERE id = ?", (visible_at, row))


async def in_flight_count(tx: Tx, queue_id: int, now: int, limit: int) -> int:
    """Messages received and not yet visible again, counted up to ``limit``."""
    row = await tx.fetchone(
        "SELECT COUNT(*) FROM (SELECT 1 FROM sqs_messages WHERE queue_id = ? AND visible_at > ? AND receive_count > 0"
        " LIMIT ?) AS in_flight",
        (queue_id, now, limit),
    )
    assert row is not None
    return int(row[0])


async def purge(tx: Tx, queue_id: int) -> None:
    await tx.execute("DELETE FROM sqs_messages WHERE queue_id = ?", (queue_id,))
    await tx.execute("DELETE FROM sqs_receive_attempts WHERE queue_id = ?", (queue_id,))


async def counts(tx: Tx, queue_id: int, now: int, oldest_sent: int) -> tuple[int, int, int]:
    """``(visible, in flight, delayed)`` message counts."""
    row = await tx.fetchone(
        "SELECT COALESCE(SUM(CASE WHEN visible_at <= ? THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN visible_at > ? AND receive_count > 0 THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN visible_at > ? AND receive_count = 0 THEN 1 ELSE 0 END), 0)"
        " FROM sqs_messages WHERE queue_id = ? AND sent_ms > ?",
        (now, now, now, queue_id, oldest_sent),
    )
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def next_visible_at(tx: Tx, queue_id: int, now: int) -> int | None:
    """When the next delayed or in-flight message of the queue becomes visible (a long poll's re-check)."""
    row = await tx.fetchone(
        "SELECT MIN(visible_at) FROM sqs_messages WHERE queue_id = ? AND visible_at > ?", (queue_id, now)
    )
    return row[0] if row and row[0] is not None else None


async def sweep(tx: Tx, queue_id: int, oldest_sent: int, now: int) -> int:
    """Drop messages past the retention period and expired deduplication and receive-attempt records."""
    dropped = await tx.execute("DELETE FROM sqs_messages WHERE queue_id = ? AND sent_ms <= ?", (queue_id, oldest_sent))
    await tx.execute("DELETE FROM sqs_dedup WHERE queue_id = ? AND expires_ms <= ?", (queue_id, now))
    await tx.execute("DELETE FROM sqs_receive_attempts WHERE queue_id = ? AND expires_ms <= ?", (queue_id, now))
    return dropped


async def forget_deleted_names(tx: Tx, before: int) -> None:
    await tx.execute("DELETE FROM sqs_deleted_queues WHERE deleted_ms <= ?", (before,))


# --- FIFO receive attempts ----------------------------------------------------------------


async def get_attempt(tx: Tx, queue_id: int, attempt_id: str, now: int) -> tuple[str, list[int]] | None:
    row = await tx.fetchone(
        "SELECT nonce, message_rows FROM sqs_receive_attempts WHERE queue_id = ? AND attempt_id = ? AND expires_ms > ?",
        (queue_id, attempt_id, now),
    )
    return (row[0], json.loads(row[1])) if row else None


async def put_attempt(tx: Tx, queue_id: int, attempt_id: str, nonce: str, rows: list[int], expires_ms: int) -> None:
    await tx.execute(
        "INSERT INTO sqs_receive_attempts (queue_id, attempt_id, nonce, message_rows, expires_ms) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (queue_id, attempt_id) DO UPDATE SET nonce = excluded.nonce,"
        " message_rows = excluded.message_rows, expires_ms = excluded.expires_ms",
        (queue_id, attempt_id, nonce, json.dumps(rows), expires_ms),
    )


# --- message move tasks -------------------------------------------------------------------


@dataclass(slots=True)
class MoveTask:
    id: str
    source_arn: str
    source_queue_id: int
    destination_arn: str | None
    rate: int | None
    status: str
    moved: int
    to_move: int
    last_row: int
    started_ms: int
    failure: str | None


_TASK_COLUMNS = (
    "id, source_arn, source_queue_id, destination_arn, rate, status, moved, to_move, last_row, started_ms, failure"
)


async def insert_task(tx: Tx, task: MoveTask) -> None:
    await tx.execute(
        f"INSERT INTO sqs_move_tasks ({_TASK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            task.id,
            task.source_arn,
            task.source_queue_id,
            task.destination_arn,
            task.rate,
            task.status,
            task.moved,
            task.to_move,
            task.last_row,
            task.started_ms,
            task.failure,
        ),
    )


async def get_task(tx: Tx, task_id: str, *, lock: bool = False) -> MoveTask | None:
    """The task; ``lock`` holds its row (PostgreSQL) so a tick and a cancel never interleave."""
    suffix = " FOR UPDATE" if lock and tx.dialect == "postgresql" else ""
    row = await tx.fetchone(f"SELECT {_TASK_COLUMNS} FROM sqs_move_tasks WHERE id = ?{suffix}", (task_id,))
    return MoveTask(*row) if row else None


async def tasks_for_source(tx: Tx, source_arn: str, limit: int) -> list[MoveTask]:
    rows = await tx.fetchall(
        f"SELECT {_TASK_COLUMNS} FROM sqs_move_tasks WHERE source_arn = ? ORDER BY started_ms DESC, id LIMIT ?",
        (source_arn, limit),
    )
    return [MoveTask(*row) for row in rows]


async def update_task(tx: Tx, task_id: str, status: str, moved: int, failure: str | None = None) -> None:
    await tx.execute(
        "UPDATE sqs_move_tasks SET status = ?, moved = ?, failure = ? WHERE id = ?", (status, moved, failure, task_id)
    )


async def task_stats(tx: Tx, queue_id: int, last_row: int) -> tuple[int, int]:
    """``(count, highest row)`` of the messages a new move task would move."""
    row = await tx.fetchone(
        "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM sqs_messages WHERE queue_id = ? AND id <= ?", (queue_id, last_row)
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def movable_messages(tx: Tx, queue_id: int, last_row: int, now: int, limit: int) -> list[tuple[int, str | None]]:
    """``(row, dead-letter source ARN)`` of visible messages a move task may move next."""
    rows = await tx.fetchall(
        "SELECT id, source_arn FROM sqs_messages WHERE queue_id = ? AND visible_at <= ? AND id <= ?"
        f" ORDER BY visible_at, id LIMIT ?{tx.skip_locked}",
        (queue_id, now, last_row, limit),
    )
    return [(row[0], row[1]) for row in rows]


async def remaining_to_move(tx: Tx, queue_id: int, last_row: int) -> int:
    row = await tx.fetchone("SELECT COUNT(*) FROM sqs_messages WHERE queue_id = ? AND id <= ?", (queue_id, last_row))
    assert row is not None
    return int(row[0])
