"""SNS's tables and all their SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stratus.services.sns.model import DEDUP_WINDOW_MS
from stratus.store.base import Row, Tx


@dataclass(slots=True)
class Topic:
    arn: str
    account: str
    region: str
    name: str
    fifo: bool
    attributes: dict[str, str]
    tags: dict[str, str]
    subscriptions_deleted: int


@dataclass(slots=True)
class Subscription:
    arn: str
    topic_arn: str
    account: str
    region: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]
    confirmed: bool
    token: str | None

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false") == "true"


_TOPIC = "arn, account, region, name, fifo, attributes, tags, subscriptions_deleted"
_SUB = "arn, topic_arn, account, region, protocol, endpoint, attributes, confirmed, token"


def _topic(row: Row) -> Topic:
    return Topic(row[0], row[1], row[2], row[3], bool(row[4]), json.loads(row[5]), json.loads(row[6]), row[7])


def _subscription(row: Row) -> Subscription:
    return Subscription(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]), bool(row[7]), row[8])


# --- topics --------------------------------------------------------------------------------


async def get_topic(tx: Tx, arn: str) -> Topic | None:
    row = await tx.fetchone(f"SELECT {_TOPIC} FROM sns_topics WHERE arn = ?", (arn,))
    return _topic(row) if row else None


async def insert_topic(tx: Tx, topic: Topic, now: int) -> bool:
    """False when the topic exists already (a concurrent CreateTopic made it)."""
    row = await tx.fetchone(
        "INSERT INTO sns_topics (arn, account, region, name, fifo, attributes, tags, seq, subscriptions_deleted,"
        " created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?) ON CONFLICT (arn) DO NOTHING RETURNING arn",
        (topic.arn, topic.account, topic.region, topic.name, int(topic.fifo), json.dumps(topic.attributes),
         json.dumps(topic.tags), now),
    )
    return row is not None


async def update_topic(tx: Tx, topic: Topic) -> None:
    await tx.execute(
        "UPDATE sns_topics SET attributes = ?, tags = ? WHERE arn = ?",
        (json.dumps(topic.attributes), json.dumps(topic.tags), topic.arn),
    )


async def delete_topic(tx: Tx, arn: str) -> list[str]:
    """Delete the topic and its subscriptions; answer the deleted subscriptions' ARNs."""
    rows = await tx.fetchall("SELECT arn FROM sns_subscriptions WHERE topic_arn = ?", (arn,))
    await tx.executemany("DELETE FROM sns_fifo_backlog WHERE subscription_arn = ?", [(r[0],) for r in rows])
    await tx.execute("DELETE FROM sns_subscriptions WHERE topic_arn = ?", (arn,))
    await tx.execute("DELETE FROM sns_dedup WHERE topic_arn = ?", (arn,))
    await tx.execute("DELETE FROM sns_topics WHERE arn = ?", (arn,))
    return [r[0] for r in rows]


async def list_topic_arns(tx: Tx, account: str, region: str, after: str, limit: int) -> list[str]:
    rows = await tx.fetchall(
        "SELECT arn FROM sns_topics WHERE account = ? AND region = ? AND arn > ? ORDER BY arn LIMIT ?",
        (account, region, after, limit),
    )
    return [r[0] for r in rows]


async def next_sequence(tx: Tx, topic_arn: str) -> int:
    row = await tx.fetchone("UPDATE sns_topics SET seq = seq + 1 WHERE arn = ? RETURNING seq", (topic_arn,))
    assert row is not None
    return int(row[0])


async def subscription_counts(tx: Tx, topic_arn: str) -> tuple[int, int]:
    """(confirmed, pending) subscriptions of a topic."""
    rows = await tx.fetchall(
        "SELECT confirmed, COUNT(*) FROM sns_subscriptions WHERE topic_arn = ? GROUP BY confirmed", (topic_arn,)
    )
    counts = {bool(c): n for c, n in rows}
    return counts.get(True, 0), counts.get(False, 0)


# --- subscriptions -------------------------------------------------------------------------


async def get_subscription(tx: Tx, arn: str) -> Subscription | None:
    row = await tx.fetchone(f"SELECT {_SUB} FROM sns_subscriptions WHERE arn = ?", (arn,))
    return _subscription(row) if row else None


async def find_subscription(tx: Tx, topic_arn: str, protocol: str, endpoint: str) -> Subscription | None:
    row = await tx.fetchone(
        f"SELECT {_SUB} FROM sns_subscriptions WHERE topic_arn = ? AND protocol = ? AND endpoint = ?",
        (topic_arn, protocol, endpoint),
    )
    return _subscription(row) if row else None


async def by_token(tx: Tx, topic_arn: str, token: str) -> Subscription | None:
    row = await tx.fetchone(
        f"SELECT {_SUB} FROM sns_subscriptions WHERE token = ? AND topic_arn = ?", (token, topic_arn)
    )
    return _subscription(row) if row else None


async def insert_subscription(tx: Tx, sub: Subscription, now: int) -> None:
    await tx.execute(
        f"INSERT INTO sns_subscriptions ({_SUB}, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sub.arn, sub.topic_arn, sub.account, sub.region, sub.protocol, sub.endpoint, json.dumps(sub.attributes),
         int(sub.confirmed), sub.token, now),
    )


async def update_subscription(tx: Tx, sub: Subscription) -> None:
    await tx.execute(
        "UPDATE sns_subscriptions SET attributes = ?, confirmed = ?, token = ? WHERE arn = ?",
        (json.dumps(sub.attributes), int(sub.confirmed), sub.token, sub.arn),
    )


async def delete_subscription(tx: Tx, sub: Subscription) -> None:
    await tx.execute("DELETE FROM sns_subscriptions WHERE arn = ?", (sub.arn,))
    await tx.execute("DELETE FROM sns_fifo_backlog WHERE subscription_arn = ?", (sub.arn,))
    await tx.execute(
        "UPDATE sns_topics SET subscriptions_deleted = subscriptions_deleted + 1 WHERE arn = ?", (sub.topic_arn,)
    )


async def topic_subscriptions(tx: Tx, topic_arn: str) -> list[Subscription]:
    rows = await tx.fetchall(f"SELECT {_SUB} FROM sns_subscriptions WHERE topic_arn = ? ORDER BY arn", (topic_arn,))
    return [_subscription(r) for r in rows]


async def list_subscriptions(
    tx: Tx, account: str, region: str, topic_arn: str | None, after: str, limit: int
) -> list[Subscription]:
    if topic_arn is None:
        sql = f"SELECT {_SUB} FROM sns_subscriptions WHERE account = ? AND region = ? AND arn > ? ORDER BY arn LIMIT ?"
        params: tuple[Any, ...] = (account, region, after, limit)
    else:
        sql = f"SELECT {_SUB} FROM sns_subscriptions WHERE topic_arn = ? AND arn > ? ORDER BY arn LIMIT ?"
        params = (topic_arn, after, limit)
    return [_subscription(r) for r in await tx.fetchall(sql, params)]


# --- FIFO ----------------------------------------------------------------------------------


async def claim_dedup(
    tx: Tx, topic_arn: str, dedup_id: str, message_id: str, sequence: str, now: int
) -> tuple[str, str] | None:
    """Record a deduplication id; answer (message id, sequence number) of a live earlier publish with it."""
    changed = await tx.execute(
        "INSERT INTO sns_dedup (topic_arn, dedup_id, message_id, sequence_number, expires_ms) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (topic_arn, dedup_id) DO UPDATE SET message_id = excluded.message_id,"
        " sequence_number = excluded.sequence_number, expires_ms = excluded.expires_ms"
        " WHERE sns_dedup.expires_ms <= ?",
        (topic_arn, dedup_id, message_id, sequence, now + DEDUP_WINDOW_MS, now),
    )
    if changed:
        return None
    row = await tx.fetchone(
        "SELECT message_id, sequence_number FROM sns_dedup WHERE topic_arn = ? AND dedup_id = ?",
        (topic_arn, dedup_id),
    )
    assert row is not None
    return row[0], row[1]


async def purge_dedup(tx: Tx, topic_arn: str, now: int) -> None:
    await tx.execute("DELETE FROM sns_dedup WHERE topic_arn = ? AND expires_ms <= ?", (topic_arn, now))


async def push_backlog(tx: Tx, subscription_arn: str, payload: dict[str, Any]) -> None:
    await tx.execute(
        "INSERT INTO sns_fifo_backlog (subscription_arn, payload) VALUES (?, ?)",
        (subscription_arn, json.dumps(payload, separators=(",", ":"))),
    )


async def backlog(tx: Tx, subscription_arn: str, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = await tx.fetchall(
        "SELECT id, payload FROM sns_fifo_backlog WHERE subscription_arn = ? ORDER BY id LIMIT ?",
        (subscription_arn, limit),
    )
    return [(r[0], json.loads(r[1])) for r in rows]


async def pop_backlog(tx: Tx, row_id: int) -> None:
    await tx.execute("DELETE FROM sns_fifo_backlog WHERE id = ?", (row_id,))


# --- captured email and SMS ----------------------------------------------------------------


@dataclass(slots=True)
class Captured:
    account: str
    region: str
    protocol: str
    endpoint: str
    topic_arn: str | None
    subscription_arn: str | None
    message_type: str
    subject: str | None
    body: str


async def capture(tx: Tx, c: Captured, now: int) -> None:
    await tx.execute(
        "INSERT INTO sns_captured (account, region, protocol, endpoint, topic_arn, subscription_arn, message_type,"
        " subject, body, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (c.account, c.region, c.protocol, c.endpoint, c.topic_arn, c.subscription_arn, c.message_type, c.subject,
         c.body, now),
    )


async def captured(tx: Tx, filters: dict[str, str], limit: int = 1000) -> list[dict[str, Any]]:
    """Captured messages matching every given column filter, oldest first."""
    columns = ("account", "region", "protocol", "endpoint", "topic_arn", "subscription_arn", "message_type")
    where = " AND ".join(f"{c} = ?" for c in columns if c in filters) or "1 = 1"
    rows = await tx.fetchall(
        f"SELECT {', '.join(columns)}, subject, body, created_ms FROM sns_captured WHERE {where} ORDER BY id LIMIT ?",
        (*(filters[c] for c in columns if c in filters), limit),
    )
    names = (*columns, "subject", "body", "created_ms")
    return [dict(zip(names, row, strict=True)) for row in rows]


# --- signing key ---------------------------------------------------------------------------


async def signing_key(tx: Tx) -> tuple[str, str, str] | None:
    row = await tx.fetchone("SELECT cert_id, key_pem, cert_pem FROM sns_signing WHERE name = 'current'")
    return (row[0], row[1], row[2]) if row else None


async def insert_signing_key(tx: Tx, cert_id: str, key_pem: str, cert_pem: str) -> None:
    await tx.execute(
        "INSERT INTO sns_signing (name, cert_id, key_pem, cert_pem) VALUES ('current', ?, ?, ?)"
        " ON CONFLICT (name) DO NOTHING",
        (cert_id, key_pem, cert_pem),
    )
