"""Sns provider: being built (issue 4)."""

from __future__ import annotations

from stratus.aws.api.sns import SnsApi


class SnsProvider(SnsApi):
    pass
