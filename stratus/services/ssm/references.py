"""Parameter Store's pass-through to Secrets Manager: ``/aws/reference/secretsmanager/<secret>``.

Per the user guide's "Referencing AWS Secrets Manager secrets from Parameter Store parameters":
only GetParameter and GetParameters answer such names, WithDecryption must be set, an optional
``:<selector>`` names a version id or a staging label, and Parameter Store keeps nothing about
the secret -- every read goes to Secrets Manager, as the caller, through the internal client.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, ValidationException

PREFIX = "/aws/reference/secretsmanager/"
# "If you reference a version stage, it can only use letters, numbers, a period (.), a hyphen (-),
# or an underscore (_). All other symbols specified in the version stage cause the reference to fail."
_STAGE = re.compile(r"^[A-Za-z0-9._-]+$")
# Secrets Manager version ids (ClientRequestToken) are 32 to 64 characters long.
_VERSION_ID_LENGTHS = range(32, 65)
_ARN_PARTS = 7  # arn:partition:secretsmanager:region:account:secret:name


class ReferenceNotFound(Exception):
    """The referenced secret or version does not exist (or cannot be read now)."""


def is_reference(name: str) -> bool:
    return name.startswith(PREFIX)


def split(name: str) -> tuple[str, str | None]:
    """(secret id, selector or None) of a reference name; the secret id may be an ARN."""
    rest = name[len(PREFIX) :]
    if rest.startswith("arn:"):
        parts = rest.split(":", _ARN_PARTS)
        return ":".join(parts[:_ARN_PARTS]), (parts[_ARN_PARTS] if len(parts) > _ARN_PARTS else None)
    secret_id, sep, selector = rest.partition(":")
    return secret_id, (selector if sep else None)


def require_decryption(decrypt: bool) -> None:
    if not decrypt:
        raise ValidationException("WithDecryption flag must be True for retrieving a Secret Manager secret.")


def _lookups(selector: str | None) -> list[dict[str, str]]:
    """The GetSecretValue arguments a selector may mean, most specific first."""
    if selector is None:
        return [{}]
    if not _STAGE.match(selector):
        return []
    tries = [{"VersionStage": selector}]
    if len(selector) in _VERSION_ID_LENGTHS:
        tries.insert(0, {"VersionId": selector})
    return tries


async def fetch(ctx: RequestContext, name: str) -> dict[str, Any]:
    """The Parameter GetParameter(s) answer for a reference name; ReferenceNotFound if none."""
    secret_id, selector = split(name)
    if not secret_id:
        raise ReferenceNotFound(name)
    assert ctx.client is not None
    for lookup in _lookups(selector):
        try:
            value = await ctx.client.secretsmanager.get_secret_value({"SecretId": secret_id, **lookup})
            break
        except AwsError as exc:
            # Not found, or scheduled for deletion: Parameter Store has no such parameter then.
            if exc.code in ("ResourceNotFoundException", "InvalidRequestException", "ValidationException"):
                continue
            raise
    else:
        raise ReferenceNotFound(name)
    source = {k: v for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(source.get("CreatedDate"), datetime):
        source["CreatedDate"] = source["CreatedDate"].timestamp()
    if isinstance(source.get("SecretBinary"), bytes):
        source["SecretBinary"] = base64.b64encode(source["SecretBinary"]).decode()
    parameter: dict[str, Any] = {
        "Name": PREFIX + secret_id,
        "Type": "SecureString",
        "Value": source.get("SecretString", source.get("SecretBinary", "")),
        "LastModifiedDate": source["CreatedDate"],
        "ARN": source["ARN"],
        "SourceResult": json.dumps(source),
    }
    if selector is not None:
        parameter["Selector"] = f":{selector}"
    return parameter
