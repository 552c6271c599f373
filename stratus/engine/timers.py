"""Durable timers: every delay in stratus is a row, due at a time on the stratus clock.

A service registers a handler per timer kind (``timers.on("sqs.visibility", handler)``) and
schedules timers inside its own transactions, so a timer exists exactly when the state
change that needs it committed. One loop per node claims due timers with a lease, runs
their handlers concurrently, and deletes each timer when its handler succeeds.

Delivery is at least once: a node that dies after its handler committed but before the
timer row was deleted fires that timer again on another node, so handlers are idempotent
(they re-check their state, as every waiter does). A handler that raises is retried with
backoff (1 s, 2 s, 4 s ... 5 min); ``Timer.attempts`` counts the failed runs, so a handler
that wants to give up can.

Two time bases, on purpose:
- ``due_ms`` is on the stratus clock. Advancing the clock makes far-future timers due, and
  ``notify_all`` wakes the loop so it re-reads the clock and fires them at once.
- ``lease_until`` is in real time. A lease says "this node runs the handler; if it neither
  finishes nor renews within ``lease_seconds`` of real time, it died". Were leases on the
  stratus clock, advancing it by an hour would expire the lease of a handler that is running
  right now and fire it a second time on another node. Nodes' wall clocks must agree to well
  within the lease (30 s), which NTP gives. Leases are renewed while handlers run, so a
  slow handler keeps its lease. At start, a node releases the leases of its previous life
  at once: on SQLite all leases (one process per file), on PostgreSQL those held under its
  own node id (so a node id that stays the same across restarts recovers fastest).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from stratus.engine.clock import ENGINE_COMPONENT, Clock
from stratus.store.base import Row, Store, Tx
from stratus.store.migrate import load_migrations
from stratus.store.wakeups import Subscription

log = logging.getLogger("stratus.engine.timers")

CHANNEL = "stratus.timers"
_BATCH = 100
_MAX_BACKOFF_S = 300

_UPSERT = (
    "INSERT INTO stratus_timers (kind, key, due_ms, payload) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET due_ms = excluded.due_ms, payload = excluded.payload, "
    "attempts = 0, version = stratus_timers.version + 1, lease_owner = NULL, lease_until = NULL"
)
_CANCEL = "DELETE FROM stratus_timers WHERE kind = ? AND key = ?"
# version and lease_owner guard both outcomes: a timer rescheduled while its handler ran is a
# new firing to keep, and a lease another node took over (ours expired) is no longer ours.
_DONE = "DELETE FROM stratus_timers WHERE id = ? AND version = ? AND lease_owner = ?"
_RETRY = (
    "UPDATE stratus_timers SET attempts = attempts + 1, due_ms = ?, lease_owner = NULL, lease_until = NULL "
    "WHERE id = ? AND version = ? AND lease_owner = ?"
)
_RENEW = "UPDATE stratus_timers SET lease_until = ? WHERE lease_owner = ?"
_RELEASE = "UPDATE stratus_timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"


@dataclass(frozen=True, slots=True)
class Timer:
    kind: str
    key: str
    due_ms: int
    payload: dict[str, Any]
    attempts: int  # failed runs before this one
    id: int
    version: int


TimerHandler = Callable[[Timer], Awaitable[None]]


def _real_ms() -> int:
    return time.time_ns() // 1_000_000


class Timers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        node_id: str,
        *,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        max_concurrency: int = 64,
    ) -> None:
        self._store = store
        self._clock = clock
        self._node_id = node_id
        self._lease_ms = int(lease_seconds * 1000)
        # The loop renews leases when it wakes, so it must wake well within a lease.
        self._poll = min(poll_seconds, lease_seconds / 3)
        # The loop looks at the table at least every poll interval, so only a timer due sooner
        # than two of them needs to wake it (and every other node's loop) at commit.
        self._notify_horizon_ms = int(self._poll * 2000)
        self._max_concurrency = max_concurrency
        self._handlers: dict[str, TimerHandler] = {}
        self._sql: tuple[str, str] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._renew_at = 0

    def on(self, kind: str, handler: TimerHandler) -> None:
        """Run ``handler`` for every due timer of ``kind`` (claimed only by nodes that have one)."""
        if kind in self._handlers:
            raise ValueError(f"timer kind {kind!r} already has a handler")
        self._handlers[kind] = handler
        self._sql = None
        self._kick()

    async def schedule(self, tx: Tx, kind: str, key: str, due_ms: int, payload: dict[str, Any] | None = None) -> None:
        """Create the timer ``(kind, key)`` or move it to a new due time and payload, in ``tx``."""
        text = None if payload is None else json.dumps(payload, separators=(",", ":"))
        await tx.execute(_UPSERT, (kind, key, int(due_ms), text))
        if due_ms < self._clock.now_ms() + self._notify_horizon_ms:
            tx.notify(CHANNEL)

    async def cancel(self, tx: Tx, kind: str, key: str) -> None:
        await tx.execute(_CANCEL, (kind, key))

    async def start(self) -> None:
        await self._store.migrate(ENGINE_COMPONENT, load_migrations("stratus.engine"))
        async with self._store.transaction() as tx:
            if tx.dialect == "sqlite":
                # One process per SQLite file: every lease left there belongs to a dead process.
                await tx.execute("UPDATE stratus_timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL")
            else:
                await tx.execute(_RELEASE, (self._node_id,))  # left by this node's previous life
        self._loop_task = asyncio.create_task(self._loop(), name=f"stratus-timers-{self._node_id}")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming, let running handlers finish for a while, then hand their timers back."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass
            self._loop_task = None
        if not self._running:
            return
        _, unfinished = await asyncio.wait(set(self._running), timeout=grace_seconds)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if unfinished:
            async with self._store.transaction() as tx:
                await tx.execute(_RELEASE, (self._node_id,))

    def _kick(self) -> None:
        if self._subscription is not None:
            self._subscription.wake()

    async def _loop(self) -> None:
        with self._store.subscribe(CHANNEL) as subscription:
            self._subscription = subscription
            try:
                while True:
                    try:
                        delay = await self._tick()
                    except Exception:
                        log.exception("claiming timers failed; trying again")
                        delay = self._poll
                    if delay > 0:
                        await subscription.wait(delay)
                    else:
                        await asyncio.sleep(0)  # a full batch: let its handlers start first
            finally:
                self._subscription = None

    async def _tick(self) -> float:
        """Claim and start the due timers; answer how many seconds to sleep."""
        real_ms = _real_ms()
        if self._running and real_ms >= self._renew_at:
            async with self._store.transaction() as tx:
                await tx.execute(_RENEW, (real_ms + self._lease_ms, self._node_id))
            self._renew_at = real_ms + self._lease_ms // 3
        kinds = tuple(self._handlers)
        if not kinds:
            return self._poll
        limit = min(self._max_concurrency - len(self._running), _BATCH)
        rows: list[Row] = []
        async with self._store.transaction() as tx:
            if self._sql is None:
                self._sql = self._statements(len(kinds), tx.skip_locked)
            claim, next_due = self._sql
            await self._clock.refresh(tx)
            now = self._clock.now_ms()
            if limit > 0:
                rows = await tx.fetchall(claim, (self._node_id, real_ms + self._lease_ms, *kinds, now, real_ms, limit))
            row = await tx.fetchone(next_due, kinds)
        if rows and not self._running:
            self._renew_at = real_ms + self._lease_ms // 3
        for claimed in sorted(rows, key=lambda r: r[3]):
            self._fire_soon(claimed)
        if limit > 0 and len(rows) == limit:
            return 0  # there may be more due right now
        if len(self._running) >= self._max_concurrency or row is None or row[0] is None:
            return self._poll  # a finishing handler kicks the loop when it is full
        # Due but not claimed means another node is claiming it this very moment: look again soon.
        return min(max((row[0] - now) / 1000, 0.005), self._poll)

    @staticmethod
    def _statements(kind_count: int, skip_locked: str) -> tuple[str, str]:
        marks = ", ".join("?" * kind_count)
        claim = (
            "UPDATE stratus_timers SET lease_owner = ?, lease_until = ? WHERE id IN ("
            f"SELECT id FROM stratus_timers WHERE kind IN ({marks}) AND due_ms <= ? "
            f"AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_ms LIMIT ?{skip_locked}) "
            "RETURNING id, kind, key, due_ms, payload, attempts, version"
        )
        next_due = f"SELECT MIN(due_ms) FROM stratus_timers WHERE lease_owner IS NULL AND kind IN ({marks})"
        return claim, next_due

    def _fire_soon(self, row: Row) -> None:
        id_, kind, key, due_ms, payload, attempts, version = row
        timer = Timer(kind, key, due_ms, json.loads(payload) if payload else {}, attempts, id_, version)
        task = asyncio.create_task(self._fire(timer), name=f"timer {kind}/{key}")
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if len(self._running) == self._max_concurrency - 1:
            self._kick()

    async def _fire(self, timer: Timer) -> None:
        try:
            await self._handlers[timer.kind](timer)
        except Exception:
            backoff_s = min(2**timer.attempts, _MAX_BACKOFF_S)
            log.exception("timer %s/%s failed (attempt %d); retrying in %d s", timer.kind, timer.key, timer.attempts + 1, backoff_s)
            due_ms = self._clock.now_ms() + backoff_s * 1000
            await self._record(timer, _RETRY, (due_ms, timer.id, timer.version, self._node_id))
        else:
            await self._record(timer, _DONE, (timer.id, timer.version, self._node_id))

    async def _record(self, timer: Timer, sql: str, params: tuple[Any, ...]) -> None:
        try:
            async with self._store.transaction() as tx:
                await tx.execute(sql, params)
                if sql is _RETRY:
                    tx.notify(CHANNEL)  # rare, and the retry may be due before the next poll
        except Exception:
            log.exception("could not record the outcome of timer %s/%s; it fires again when its lease ends", timer.kind, timer.key)
