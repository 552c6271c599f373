"""Background machinery that makes the cloud run: the clock and durable timers."""

from __future__ import annotations

from stratus.engine.clock import Clock
from stratus.engine.timers import Timer, TimerHandler, Timers

__all__ = ["Clock", "Timer", "TimerHandler", "Timers"]
