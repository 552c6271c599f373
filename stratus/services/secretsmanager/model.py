"""Secrets Manager's domain: secrets, versions and staging labels, ids, filters, passwords.

Pure functions and dataclasses only; the provider does the I/O.
"""

from __future__ import annotations

import json
import re
import secrets as random
import string
from dataclasses import dataclass, field
from typing import Any

from stratus.aws.api.secretsmanager import InvalidParameterException
from stratus.aws.arns import parse_arn
from stratus.aws.errors import ValidationException

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"
DEFAULT_KMS_ALIAS = "alias/aws/secretsmanager"

DAY_MS = 86_400_000
# PutSecretValue: "Secrets Manager removes outdated versions when there are more than 100,
# but it does not remove versions created less than 24 hours ago."
MAX_VERSIONS = 100
PRUNE_MIN_AGE_MS = DAY_MS
# The quota "staging labels attached across all versions of a secret".
MAX_LABELS = 20
RECOVERY_WINDOW_DEFAULT = 30
RECOVERY_WINDOW_MIN, RECOVERY_WINDOW_MAX = 7, 30

# The random suffix AWS appends to a secret's ARN: "-" and six letters or digits.
_SUFFIX_ALPHABET = string.ascii_letters + string.digits
# "The secret name can contain ASCII letters, numbers, and the following characters: /_+=.@-"
_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]+$")

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@dataclass(slots=True)
class Secret:
    id: int
    account: str
    region: str
    name: str
    arn: str
    created_ms: int
    changed_ms: int
    accessed_ms: int | None = None
    deleted_ms: int | None = None  # when DeleteSecret was called
    delete_at_ms: int | None = None  # when the recovery window ends
    description: str | None = None
    kms_key_id: str | None = None  # as the client gave it; None: aws/secretsmanager
    tags: list[dict[str, str]] = field(default_factory=list)
    policy: str | None = None
    type: str | None = None
    rotation: dict[str, Any] = field(default_factory=dict)
    rotated_ms: int | None = None
    next_rotation_ms: int | None = None

    @property
    def scheduled_for_deletion(self) -> bool:
        return self.deleted_ms is not None

    def data(self) -> dict[str, Any]:
        """The JSON ``data`` column: attributes never filtered or ordered in SQL."""
        return {
            "description": self.description,
            "kms_key_id": self.kms_key_id,
            "tags": self.tags,
            "policy": self.policy,
            "type": self.type,
            "rotation": self.rotation,
        }


@dataclass(slots=True)
class Version:
    secret_id: int
    version_id: str
    stages: list[str]
    created_ms: int
    accessed_ms: int | None
    kind: str | None  # "string", "binary", or None: a version without a value (rotation's AWSPENDING)
    ciphertext: bytes | None
    data_key: bytes | None  # the data key, encrypted by KMS
    kms_key_arn: str | None


@dataclass(frozen=True, slots=True)
class SecretRef:
    """What a SecretId names: a name in the caller's account and region, or a (partial) ARN."""

    account: str
    region: str
    name: str  # for an ARN, the part after "secret:" (which may end with the random suffix)
    is_arn: bool


def new_arn(account: str, region: str, name: str, partition: str = "aws") -> str:
    suffix = "".join(random.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def partial_arn(account: str, region: str, name: str, partition: str = "aws") -> str:
    """The ARN of a name without the random suffix: what a secret that does not exist can be called."""
    return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}"


def parse_secret_id(secret_id: str, account: str, region: str) -> SecretRef:
    """Where a SecretId points, and the secret name it means unless it is a full ARN.

    A full ARN ends with "-" and the six random characters and is matched exactly; anything
    else after "secret:" is a partial ARN, which is the name itself. So an ARN whose tail
    merely looks like a suffix ("name-zzzzzz") is tried as a full ARN, then as the partial
    ARN of a secret named exactly so (AWS's "Finding a secret from a partial ARN").
    """
    parsed = parse_arn(secret_id, "secretsmanager")
    name = parsed.resource_after("secret:") if parsed else None
    if parsed and name and parsed.regional:
        return SecretRef(parsed.account, parsed.region, name, True)
    return SecretRef(account, region, secret_id, False)


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValidationException(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
        )


def check_recovery_window(days: int | None, force: bool) -> int | None:
    """The recovery window in days (None when forced); InvalidParameterException when out of bounds."""
    if force and days is not None:
        raise InvalidParameterException(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
        )
    if force:
        return None
    if days is None:
        return RECOVERY_WINDOW_DEFAULT
    if not RECOVERY_WINDOW_MIN <= days <= RECOVERY_WINDOW_MAX:
        raise InvalidParameterException("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
    return days


def day_start_ms(ms: int) -> int:
    """AWS reports LastAccessedDate rounded down to the day."""
    return ms - ms % DAY_MS


# --- staging labels ---------------------------------------------------------------------


def move_label(versions: list[Version], label: str, to: Version) -> Version | None:
    """Attach ``label`` to ``to``, taking it from the version that had it; answer that version."""
    previous = None
    for version in versions:
        if version is not to and label in version.stages:
            version.stages.remove(label)
            previous = version
    if label not in to.stages:
        to.stages.append(label)
    return previous


def make_current(versions: list[Version], to: Version) -> None:
    """Move AWSCURRENT to ``to``; AWSPREVIOUS follows to the version AWSCURRENT left."""
    previous = move_label(versions, AWSCURRENT, to)
    if previous is not None:
        move_label(versions, AWSPREVIOUS, previous)
    elif AWSPREVIOUS in to.stages:
        to.stages.remove(AWSPREVIOUS)


def prunable(versions: list[Version], now_ms: int) -> list[Version]:
    """Deprecated versions AWS removes: beyond 100, the oldest without labels and older than a day."""
    excess = len(versions) - MAX_VERSIONS
    if excess <= 0:
        return []
    candidates = sorted(
        (v for v in versions if not v.stages and now_ms - v.created_ms >= PRUNE_MIN_AGE_MS),
        key=lambda v: v.created_ms,
    )
    return candidates[:excess]


# --- ListSecrets / BatchGetSecretValue filters -------------------------------------------

FILTER_KEYS = ("description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _words(text: str) -> list[str]:
    # "credsDatabase#892" searches for creds, Database and 892: words split at case and
    # letter/digit changes and at punctuation.
    return [w.lower() for w in _WORD.findall(text)]


def _attribute_values(secret: Secret, key: str) -> list[str]:
    if key == "name":
        return [secret.name]
    if key == "description":
        return [secret.description or ""]
    if key == "tag-key":
        return [t["Key"] for t in secret.tags]
    if key == "tag-value":
        return [t.get("Value", "") for t in secret.tags]
    if key in ("primary-region", "owning-service"):
        # Only replicated secrets have a primary region and only secrets other services
        # manage have an owning service; stratus has neither yet.
        return []
    raise ValueError(key)


def _matches_value(secret: Secret, key: str, value: str) -> bool:
    if key == "all":
        haystack: list[str] = []
        for k in ("name", "description", "tag-key", "tag-value"):
            for text in _attribute_values(secret, k):
                haystack.extend(_words(text))
        words = _words(value)
        return bool(words) and all(any(h.startswith(w) for h in haystack) for w in words)
    candidates = _attribute_values(secret, key)
    if key == "description":
        return any(c.lower().startswith(value.lower()) for c in candidates)
    return any(c.startswith(value) for c in candidates)


def matches_filters(secret: Secret, filters: list[dict[str, Any]]) -> bool:
    """Every filter must match; within one, any value (a "!" value must not match)."""
    for f in filters:
        key = f.get("Key", "")
        values = f.get("Values") or []
        positives = [v for v in values if not v.startswith("!")]
        negatives = [v[1:] for v in values if v.startswith("!")]
        if positives and not any(_matches_value(secret, key, v) for v in positives):
            return False
        if any(_matches_value(secret, key, v) for v in negatives):
            return False
    return True


def check_filters(filters: list[dict[str, Any]]) -> None:
    for f in filters:
        if "Key" not in f:
            raise InvalidParameterException("Invalid filter key")
        if not f.get("Values"):
            raise InvalidParameterException(f"Invalid filter values for key: {f['Key']}")


# --- GetRandomPassword ------------------------------------------------------------------


def random_password(
    length: int = 32,
    exclude_characters: str = "",
    exclude_numbers: bool = False,
    exclude_punctuation: bool = False,
    exclude_uppercase: bool = False,
    exclude_lowercase: bool = False,
    include_space: bool = False,
    require_each_included_type: bool = True,
) -> str:
    """A password from the ``secrets`` CSPRNG, with AWS's character classes and rules."""
    classes = []
    for excluded, chars in (
        (exclude_lowercase, string.ascii_lowercase),
        (exclude_uppercase, string.ascii_uppercase),
        (exclude_numbers, string.digits),
        (exclude_punctuation, PUNCTUATION),
    ):
        if not excluded:
            allowed = "".join(c for c in chars if c not in exclude_characters)
            if allowed:
                classes.append(allowed)
    if include_space and " " not in exclude_characters:
        classes.append(" ")
    if not classes:
        raise InvalidParameterException("The password must include at least one character type.")
    pool = "".join(classes)
    required = [c for c in classes if c != " "] if require_each_included_type else []
    if len(required) > length:
        raise InvalidParameterException("Password length is too short based on the required types.")
    chars = [random.choice(c) for c in required]
    chars += [random.choice(pool) for _ in range(length - len(chars))]
    # Fisher-Yates with the CSPRNG, so the required characters land anywhere.
    for i in range(len(chars) - 1, 0, -1):
        j = random.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


# --- resource policies ------------------------------------------------------------------


def policy_errors(document: str) -> list[str]:
    """Basic structural checks of an IAM resource policy; empty when it passes."""
    try:
        policy = json.loads(document)
    except ValueError:
        return ["The policy document is not valid JSON."]
    if not isinstance(policy, dict):
        return ["The policy document must be a JSON object."]
    errors = []
    unknown = set(policy) - {"Version", "Id", "Statement"}
    if unknown:
        errors.append(f"Unknown top-level policy elements: {', '.join(sorted(unknown))}.")
    if policy.get("Version") not in (None, "2012-10-17", "2008-10-17"):
        errors.append("The policy Version must be 2012-10-17 or 2008-10-17.")
    statements = policy.get("Statement")
    if statements is None:
        errors.append("The policy is missing the required Statement element.")
        return errors
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        errors.append("The policy Statement must be an object or a non-empty list of objects.")
        return errors
    for i, statement in enumerate(statements):
        if not isinstance(statement, dict):
            errors.append(f"Statement {i} must be an object.")
            continue
        if statement.get("Effect") not in ("Allow", "Deny"):
            errors.append(f"Statement {i}: Effect must be Allow or Deny.")
        if "Action" not in statement and "NotAction" not in statement:
            errors.append(f"Statement {i}: missing Action or NotAction.")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            errors.append(f"Statement {i}: a resource policy statement needs a Principal.")
    return errors


def is_public(document: str) -> bool:
    """A policy that allows a wildcard principal without conditions (BlockPublicPolicy)."""
    policy = json.loads(document)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"])):
            return True
    return False
