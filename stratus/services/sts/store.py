"""STS's table (temporary credentials) and all its SQL. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from stratus.store.base import Tx


@dataclass(slots=True)
class Session:
    access_key_id: str
    secret: str
    session_token: str
    account: str
    principal_arn: str
    user_id: str
    created_ms: int
    expires_ms: int
    # Role ARN, session tags, transitive tag keys, source identity, external id, ...
    data: dict[str, Any] = field(default_factory=dict)


_COLUMNS = "access_key_id, secret, session_token, account, principal_arn, user_id, created_ms, expires_ms, data"


async def insert_session(tx: Tx, session: Session) -> None:
    await tx.execute(
        f"INSERT INTO sts_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session.access_key_id,
            session.secret,
            session.session_token,
            session.account,
            session.principal_arn,
            session.user_id,
            session.created_ms,
            session.expires_ms,
            json.dumps(session.data),
        ),
    )


async def get_session(tx: Tx, access_key_id: str) -> Session | None:
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM sts_sessions WHERE access_key_id = ?", (access_key_id,))
    if row is None:
        return None
    return Session(*row[:8], data=json.loads(row[8]))


async def delete_session(tx: Tx, access_key_id: str) -> None:
    await tx.execute("DELETE FROM sts_sessions WHERE access_key_id = ?", (access_key_id,))
