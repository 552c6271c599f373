"""Scheduler provider: being built (issue 4)."""

from __future__ import annotations

from stratus.aws.api.scheduler import SchedulerApi


class SchedulerProvider(SchedulerApi):
    pass
