"""Who a request acts as: the account and principal behind an access key id.

An access key id of twelve digits selects that account (as users of local clouds
expect); keys that stratus issued (IAM access keys, STS temporary credentials) are
looked up by the services that issued them, which register a lookup at start; any
other key acts as the root of the default account. Answers are cached: a key's
owner never changes, and a key stratus has not issued yet cannot be in use. What
can change is time: temporary credentials carry their expiry, checked on every
request against the stratus clock (so a test that advances the clock sees them expire).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stratus.aws.arns import is_account_id, root_arn
from stratus.aws.context import DEFAULT_ACCOUNT
from stratus.aws.errors import AwsError

if TYPE_CHECKING:
    from stratus.engine.clock import Clock

_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


class ExpiredToken(AwsError):
    """Temporary credentials used after their expiry (every service answers this code)."""

    code = "ExpiredToken"
    status = 403


@dataclass(frozen=True, slots=True)
class Identity:
    account: str
    principal_arn: str
    # Stratus-clock milliseconds after which temporary credentials stop working (None: never).
    expires_ms: int | None = None
    # What GetCallerIdentity answers as UserId: the account (root), AIDA... (user),
    # AROA...:session (assumed role), account:name (federated user).
    user_id: str = ""


def new_access_key(prefix: str) -> tuple[str, str]:
    """(key id, secret) as AWS issues them: the prefix (AKIA long-term, ASIA temporary) and 16
    upper-case letters or digits, and a 40-character secret."""
    key_id = prefix + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return key_id, secret


def root_of(account: str) -> Identity:
    return Identity(account, root_arn(account), user_id=account)


Lookup = Callable[[str], Awaitable[Identity | None]]


class Identities:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lookups: list[Lookup] = []
        self._cache: dict[str, Identity] = {}

    def register(self, lookup: Lookup) -> None:
        """Add a lookup for access keys a service issues (``None`` when the key is not its own).

        A lookup may raise an ``AwsError`` (an inactive key): that answer is not cached.
        """
        self._lookups.append(lookup)

    def forget(self, access_key: str) -> None:
        """Drop a cached answer (a key deleted or deactivated on this node)."""
        self._cache.pop(access_key, None)

    async def resolve(self, access_key: str | None) -> Identity:
        if not access_key:
            return root_of(DEFAULT_ACCOUNT)
        found = self._cache.get(access_key)
        if found is None:
            found = await self._look_up(access_key)
            self._cache[access_key] = found
        if found.expires_ms is not None and found.expires_ms <= self._clock.now_ms():
            # Not kept: the issuing service's lookup answers the same expiry if the key comes back.
            del self._cache[access_key]
            raise ExpiredToken("The security token included in the request is expired")
        return found

    async def _look_up(self, access_key: str) -> Identity:
        if is_account_id(access_key):
            return root_of(access_key)
        for lookup in self._lookups:
            found = await lookup(access_key)
            if found is not None:
                return found
        return root_of(DEFAULT_ACCOUNT)
