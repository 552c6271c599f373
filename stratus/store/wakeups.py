"""In-process wake-ups: channel -> subscriptions, fired after commit (and by PostgreSQL's NOTIFY)."""

from __future__ import annotations

import asyncio
from types import TracebackType


class Subscription:
    """Interest in one channel, registered for the life of a ``with`` block.

    A wake that arrives while nobody is waiting is remembered, so a loop that checks its
    state and then waits never misses a change made in between (no lost wake-ups).
    """

    __slots__ = ("channel", "_wakeups", "_future", "_pending")

    def __init__(self, wakeups: Wakeups, channel: str) -> None:
        self.channel = channel
        self._wakeups = wakeups
        self._future: asyncio.Future[bool] | None = None
        self._pending = False

    def __enter__(self) -> Subscription:
        self._wakeups._subscriptions.setdefault(self.channel, set()).add(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        subscriptions = self._wakeups._subscriptions.get(self.channel)
        if subscriptions is not None:
            subscriptions.discard(self)
            if not subscriptions:
                del self._wakeups._subscriptions[self.channel]

    def wake(self) -> None:
        future = self._future
        if future is not None and not future.done():
            future.set_result(True)
        else:
            self._pending = True

    async def wait(self, timeout: float) -> bool:
        """Answer True when woken (now or since the last wait), False after ``timeout`` seconds."""
        if self._pending:
            self._pending = False
            return True
        if timeout <= 0:
            return False
        loop = asyncio.get_running_loop()
        future = self._future = loop.create_future()
        # call_later on a bare future is much cheaper than asyncio.wait_for (no extra task).
        timer = loop.call_later(timeout, _settle, future)
        try:
            woken = await future
        finally:
            timer.cancel()
            self._future = None
        woken = woken or self._pending
        self._pending = False
        return woken


def _settle(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)


class Wakeups:
    """The subscriptions of one store instance (one node)."""

    __slots__ = ("_subscriptions",)

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, channel: str) -> Subscription:
        return Subscription(self, channel)

    def wake(self, channel: str) -> None:
        for subscription in self._subscriptions.get(channel, ()):
            subscription.wake()

    def wake_all(self) -> None:
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.wake()
