"""Logs provider: being built (issue 5)."""

from __future__ import annotations

from stratus.aws.api.logs import LogsApi


class LogsProvider(LogsApi):
    pass
