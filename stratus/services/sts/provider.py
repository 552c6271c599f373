"""Sts provider: being built (issue 3)."""

from __future__ import annotations

from stratus.aws.api.sts import StsApi


class StsProvider(StsApi):
    pass
