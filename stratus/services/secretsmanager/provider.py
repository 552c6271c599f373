"""Secretsmanager provider: being built (issue 3)."""

from __future__ import annotations

from stratus.aws.api.secretsmanager import SecretsmanagerApi


class SecretsmanagerProvider(SecretsmanagerApi):
    pass
