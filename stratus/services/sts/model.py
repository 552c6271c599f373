"""STS's pure rules: temporary credentials, session principals, durations and web identity tokens."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stratus.aws.api.sts import InvalidIdentityTokenException, PackedPolicyTooLargeException
from stratus.aws.arns import is_account_id, parse_arn
from stratus.aws.identity import new_access_key

TEMPORARY_KEY_PREFIX = "ASIA"

# Durations (seconds): https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
ASSUME_ROLE_DEFAULT_S = 3600
# A role session assuming another role ("role chaining") is limited to one hour.
ROLE_CHAINING_MAX_S = 3600
# GetSessionToken / GetFederationToken: 12 hours by default; the root user gets at most one.
SESSION_TOKEN_DEFAULT_S = 43200
ROOT_SESSION_MAX_S = 3600

# The resource of a role ARN: role/<path/><name>
_ROLE = re.compile(r"^role/(?:[\x21-\x7e]*/)?([\w+=,.@-]+)$")


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret: str
    session_token: str


def new_credentials() -> Credentials:
    """Temporary credentials as STS issues them: ASIA + 16 characters, a 40-character secret, a token."""
    key_id, secret = new_access_key(TEMPORARY_KEY_PREFIX)
    # Real tokens are opaque blobs of several hundred characters; clients only pass them back.
    token = "FwoGZXIvYXdzE" + base64.b64encode(secrets.token_bytes(192)).decode()
    return Credentials(key_id, secret, token)


# Session policies, policy ARNs and session tags travel compressed in the session token, in
# a packed space of its own (AssumeRole: PackedPolicySize). AWS does not publish the packing;
# this deflate-based estimate matches the API reference's example (8% for its policy and
# three tags) and grows with the input the same way.
_PACKED_SPACE_BYTES = 1800


def packed_policy_size(
    policy: str | None, policy_arns: Sequence[str], tags: Sequence[dict[str, str]]
) -> int | None:
    """The PackedPolicySize percentage of a request's session policies and tags (None without any).

    Raises PackedPolicyTooLarge past 100%, as STS refuses such a session.
    """
    if policy is None and not policy_arns and not tags:
        return None
    parts = [json.dumps(json.loads(policy), separators=(",", ":"))] if policy else []
    parts += list(policy_arns)
    parts += [tag["Key"] + tag["Value"] for tag in tags]
    packed = len(zlib.compress("".join(parts).encode(), 9))
    percent = math.ceil(packed * 100 / _PACKED_SPACE_BYTES)
    if percent > 100:
        if policy or policy_arns:
            raise PackedPolicyTooLargeException(
                f"Packed policy consumes {percent}% of allotted space, please use smaller policy."
            )
        raise PackedPolicyTooLargeException(f"Packed size of session tags consumes {percent}% of allotted space.")
    return percent


def parse_role_arn(arn: str) -> tuple[str, str] | None:
    """(account, role name) of a role ARN, None if it is not one."""
    parsed = parse_arn(arn, "iam")
    if parsed is None or parsed.partition != "aws" or parsed.region or not is_account_id(parsed.account):
        return None
    match = _ROLE.match(parsed.resource)
    return (parsed.account, match.group(1)) if match else None


def assumed_role_arn(account: str, role_name: str, session: str) -> str:
    # The role's path is not part of the session's ARN.
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"


def federated_user_arn(account: str, name: str) -> str:
    return f"arn:aws:sts::{account}:federated-user/{name}"


def is_session_principal(principal_arn: str | None) -> bool:
    """Whether a caller acts with temporary credentials of a role or federated user."""
    return principal_arn is not None and principal_arn.startswith("arn:aws:sts::")


def is_root(principal_arn: str | None) -> bool:
    return principal_arn is not None and principal_arn.endswith(":root")


# --- web identity tokens -----------------------------------------------------------------

_INVALID_TOKEN = (
    "The web identity token that was passed could not be validated by AWS. Get a new identity token from the "
    "identity provider and then retry the request."
)


def _segment(text: str) -> dict[str, Any]:
    padded = text + "=" * (-len(text) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise InvalidIdentityTokenException(_INVALID_TOKEN) from None
    if not isinstance(value, dict):
        raise InvalidIdentityTokenException(_INVALID_TOKEN)
    return value


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a well-formed JWT (header.payload.signature, JSON header and payload).

    The signature is NOT verified: stratus does not fetch the identity provider's keys
    (no OIDC providers are registered yet), so any well-formed token is accepted.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidIdentityTokenException(_INVALID_TOKEN)
    _segment(parts[0])
    claims = _segment(parts[1])
    if not isinstance(claims.get("sub"), str) or "aud" not in claims:
        raise InvalidIdentityTokenException(_INVALID_TOKEN)
    return claims


def audience(claims: dict[str, Any]) -> str:
    aud = claims["aud"]
    return aud[0] if isinstance(aud, list) and aud else str(aud)


def provider(claims: dict[str, Any]) -> str:
    """The issuer without its scheme, as STS answers ``Provider``."""
    issuer = str(claims.get("iss", ""))
    return issuer.split("://", 1)[-1]
