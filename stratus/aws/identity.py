"""Who a request acts as: the account and principal behind an access key id.

An access key id of twelve digits selects that account (as users of local clouds
expect); keys that stratus issued (IAM access keys, STS temporary credentials) are
looked up by the services that issued them, which register a lookup at start; any
other key acts as the root of the default account. Answers are cached: a key's
owner never changes, and a key stratus has not issued yet cannot be in use.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from stratus.aws.context import DEFAULT_ACCOUNT

_ACCOUNT_KEY = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class Identity:
    account: str
    principal_arn: str
    # Stratus-clock milliseconds after which temporary credentials stop working (None: never).
    expires_ms: int | None = None


def root_of(account: str) -> Identity:
    return Identity(account, f"arn:aws:iam::{account}:root")


Lookup = Callable[[str], Awaitable[Identity | None]]


class Identities:
    def __init__(self) -> None:
        self._lookups: list[Lookup] = []
        self._cache: dict[str, Identity] = {}

    def register(self, lookup: Lookup) -> None:
        """Add a lookup for access keys a service issues (``None`` when the key is not its own)."""
        self._lookups.append(lookup)

    async def resolve(self, access_key: str | None) -> Identity:
        if not access_key:
            return root_of(DEFAULT_ACCOUNT)
        found = self._cache.get(access_key)
        if found is not None:
            return found
        if _ACCOUNT_KEY.match(access_key):
            found = root_of(access_key)
        else:
            for lookup in self._lookups:
                found = await lookup(access_key)
                if found is not None:
                    break
            else:
                found = root_of(DEFAULT_ACCOUNT)
        self._cache[access_key] = found
        return found
