"""Who a request acts as: the account and principal behind an access key id.

An access key id of twelve digits selects that account (as users of local clouds
expect); keys that stratus issued (IAM access keys, STS temporary credentials) are
looked up by the services that issued them, which register a lookup at start; any
other key acts as the root of the default account. Answers are cached: a key's
owner never changes, and a key stratus has not issued yet cannot be in use. What
can change is time: temporary credentials carry their expiry, checked on every
request against the stratus clock (so a test that advances the clock sees them expire).

Keys stratus did not issue (``test``, twelve digits, anything else) are stand-ins: they
act as the account's root, but nobody signed in as that root, so ``Identity.issued`` is
False. STS uses the difference: AWS refuses AssumeRole to root credentials, and refusing
the stand-in keys every local-cloud user signs with would break every AssumeRole.

Temporary credentials only work with their session token (``X-Amz-Security-Token``), as
on AWS; ``authenticate`` checks it and answers the errors each service's protocol uses.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from stratus.aws.arns import is_account_id, root_arn
from stratus.aws.context import DEFAULT_ACCOUNT
from stratus.aws.errors import AwsError, InvalidClientTokenId
from stratus.aws.models import service_model
from stratus.aws.protocol.base import HttpRequest

if TYPE_CHECKING:
    from stratus.engine.clock import Clock

_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"


class ExpiredToken(AwsError):
    """Temporary credentials used after their expiry (as query-protocol services name it;
    ``authenticate`` answers each service's own code)."""

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
    # Whether stratus issued these credentials (IAM access keys, STS temporary credentials).
    # False for the stand-in keys that act as an account's root without anyone signing in as it.
    issued: bool = False
    # Temporary credentials: the session token every request must carry with the key.
    session_token: str | None = None

    @property
    def is_root(self) -> bool:
        return self.principal_arn.endswith(":root")


def new_access_key(prefix: str) -> tuple[str, str]:
    """(key id, secret) as AWS issues them: the prefix (AKIA long-term, ASIA temporary) and 16
    upper-case letters or digits, and a 40-character secret."""
    key_id = prefix + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return key_id, secret


def root_of(account: str) -> Identity:
    """The stand-in identity of keys stratus did not issue: the account's root."""
    return Identity(account, root_arn(account), user_id=account)


def security_token(request: HttpRequest) -> str | None:
    """The session token a request carries: the ``X-Amz-Security-Token`` header, or the
    query parameter of that name in a presigned URL."""
    token = request.headers.get("x-amz-security-token")
    if token is None and "X-Amz-Security-Token=" in request.query_string:
        values = parse_qs(request.query_string, keep_blank_values=True).get("X-Amz-Security-Token")
        token = values[0] if values else None
    return token


def credentials_error(error: AwsError, service: str) -> AwsError:
    """An invalid or expired credentials error with the code and status ``service`` answers.

    Query-protocol services (and SQS, query-compatible) answer ``InvalidClientTokenId`` and
    ``ExpiredToken`` with 403; json services ``UnrecognizedClientException`` and
    ``ExpiredTokenException`` with 400 (KMS, Secrets Manager, Logs, ...); rest-json services
    (Lambda, Scheduler) the json codes with 403.
    """
    expired = isinstance(error, ExpiredToken)
    model = service_model(service) if service else None
    protocol = model.metadata.get("protocol") if model is not None else "query"
    if protocol in ("query", "ec2") or (model is not None and model.is_query_compatible):
        code, status = ("ExpiredToken" if expired else "InvalidClientTokenId"), 403
    else:
        code = "ExpiredTokenException" if expired else "UnrecognizedClientException"
        status = 403 if protocol == "rest-json" else 400
    return AwsError(error.message, code=code, status=status)


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
        """Who ``access_key`` acts as (``ExpiredToken`` past its expiry). The session token is
        not checked here: the gateway did that once for the request (``authenticate``)."""
        found = await self._identity(access_key)
        self._check_expiry(access_key, found)
        return found

    async def authenticate(self, access_key: str | None, session_token: str | None, service: str) -> Identity:
        """Who a request signed with ``access_key`` acts as, after checking its session token.

        Temporary credentials without their token (missing or another one) are invalid, as on
        AWS; the token is checked before the expiry, as a token that is not the key's says
        nothing about the key. Errors carry the codes ``service`` answers.
        """
        try:
            found = await self._identity(access_key)
            if found.session_token is not None and not (
                # Bytes: compare_digest refuses str with non-ASCII characters.
                session_token is not None
                and secrets.compare_digest(session_token.encode(), found.session_token.encode())
            ):
                raise InvalidClientTokenId(_INVALID_TOKEN)
            self._check_expiry(access_key, found)
        except (ExpiredToken, InvalidClientTokenId) as error:
            raise credentials_error(error, service) from None
        return found

    async def _identity(self, access_key: str | None) -> Identity:
        if not access_key:
            return root_of(DEFAULT_ACCOUNT)
        found = self._cache.get(access_key)
        if found is None:
            found = await self._look_up(access_key)
            self._cache[access_key] = found
        return found

    def _check_expiry(self, access_key: str | None, found: Identity) -> None:
        if found.expires_ms is not None and found.expires_ms <= self._clock.now_ms():
            # Not kept: the issuing service's lookup answers the same expiry if the key comes back.
            self._cache.pop(access_key or "", None)
            raise ExpiredToken(_EXPIRED_TOKEN)

    async def _look_up(self, access_key: str) -> Identity:
        if is_account_id(access_key):
            return root_of(access_key)
        for lookup in self._lookups:
            found = await lookup(access_key)
            if found is not None:
                return found
        return root_of(DEFAULT_ACCOUNT)
