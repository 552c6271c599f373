"""IAM's pure rules: ids, ARNs, policy documents, limits, AWS-managed policies and paging."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from stratus.aws import identity
from stratus.aws.api.iam import InvalidInputException, LimitExceededException, MalformedPolicyDocumentException
from stratus.aws.arns import parse_arn

# Entity kinds, as IAM names them in ARNs.
USER = "user"
ROLE = "role"
GROUP = "group"
POLICY = "policy"
INSTANCE_PROFILE = "instance-profile"

# Unique ids start with a prefix naming what they identify:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
ID_PREFIX = {USER: "AIDA", ROLE: "AROA", GROUP: "AGPA", POLICY: "ANPA", INSTANCE_PROFILE: "AIPA"}
ACCESS_KEY_PREFIX = "AKIA"

# IAM quotas: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
ACCESS_KEYS_PER_USER = 2
POLICY_VERSIONS_MAX = 5
MANAGED_POLICIES_PER_ENTITY = 10
GROUPS_PER_USER = 10
ROLES_PER_INSTANCE_PROFILE = 1
DEFAULT_MAX_SESSION_S = 3600
DEFAULT_MAX_ITEMS = 100

_ID_ALPHABET = string.ascii_uppercase + string.digits

# The AWS-managed policies stratus knows (name -> path): attachable by ARN, listed with
# Scope=AWS. A small table of the common ones, not AWS's full catalogue; their documents
# are not kept (no enforcement yet), so GetPolicyVersion answers an empty statement list.
AWS_MANAGED: dict[str, str] = {
    "AdministratorAccess": "/",
    "PowerUserAccess": "/",
    "ReadOnlyAccess": "/",
    "IAMFullAccess": "/",
    "AmazonS3FullAccess": "/",
    "AmazonS3ReadOnlyAccess": "/",
    "AmazonSQSFullAccess": "/",
    "AmazonSNSFullAccess": "/",
    "AmazonDynamoDBFullAccess": "/",
    "AmazonEventBridgeFullAccess": "/",
    "AWSStepFunctionsFullAccess": "/",
    "AWSLambda_FullAccess": "/",
    "AWSLambdaExecute": "/",
    "CloudWatchLogsFullAccess": "/",
    "SecretsManagerReadWrite": "/",
    "AmazonSSMReadOnlyAccess": "/",
    "AWSXrayWriteOnlyAccess": "/",
    "AWSLambdaBasicExecutionRole": "/service-role/",
    "AWSLambdaVPCAccessExecutionRole": "/service-role/",
    "AWSLambdaSQSQueueExecutionRole": "/service-role/",
    "AWSLambdaDynamoDBExecutionRole": "/service-role/",
    "AWSLambdaRole": "/service-role/",
    "AmazonAPIGatewayPushToCloudWatchLogs": "/service-role/",
    "AWSAppSyncPushToCloudWatchLogs": "/service-role/",
}
AWS_MANAGED_DOCUMENT = '{"Version":"2012-10-17","Statement":[]}'
# A fixed creation date for them (AWS shows each policy's own; ours are not real copies).
AWS_MANAGED_CREATED_MS = 1_420_070_400_000


def new_id(kind: str) -> str:
    return ID_PREFIX[kind] + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def new_access_key() -> tuple[str, str]:
    """(AKIA + 16 characters, a 40-character secret), as IAM issues them."""
    return identity.new_access_key(ACCESS_KEY_PREFIX)


def arn(account: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def aws_managed_arn(name: str) -> str:
    return f"arn:aws:iam::aws:policy{AWS_MANAGED[name]}{name}"


def aws_managed_name(policy_arn: str) -> str | None:
    """The name of an AWS-managed policy stratus knows, from its ARN (None otherwise)."""
    if not policy_arn.startswith("arn:aws:iam::aws:policy/"):
        return None
    name = policy_arn.rsplit("/", 1)[1]
    return name if name in AWS_MANAGED and aws_managed_arn(name) == policy_arn else None


def policy_account(policy_arn: str) -> str | None:
    """The account of a customer-managed policy ARN (``arn:aws:iam::<account>:policy/...``)."""
    parsed = parse_arn(policy_arn, "iam")
    if parsed is None or parsed.partition != "aws" or parsed.resource_after("policy/") is None:
        return None
    return parsed.account


def timestamp(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def encoded(document: str) -> str:
    """A policy document as IAM answers it: URL-encoded (boto3 decodes it back to a dict)."""
    return quote(document, safe="")


# --- policy documents -------------------------------------------------------------------

_VERSIONS = ("2008-10-17", "2012-10-17")


def check_policy_document(text: str, *, trust: bool = False) -> None:
    """Raise MalformedPolicyDocument for what IAM refuses before evaluating anything.

    Only the grammar's skeleton is checked (JSON, Version, Statement, Effect); what the
    statements mean waits for IAM enforcement.
    """
    try:
        document = json.loads(text)
    except ValueError:
        raise MalformedPolicyDocumentException(
            "This policy contains invalid Json" if trust else "Syntax errors in policy."
        ) from None
    if not isinstance(document, dict):
        raise MalformedPolicyDocumentException("Syntax errors in policy.")
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise MalformedPolicyDocumentException("The policy must contain a valid version string")
    if "Statement" not in document:
        raise MalformedPolicyDocumentException("Syntax errors in policy.")
    statements = document["Statement"]
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicyDocumentException("Syntax errors in policy.")
        if "Action" not in statement and "NotAction" not in statement:
            raise MalformedPolicyDocumentException("Policy statement must contain actions.")
        # A trust policy names principals instead of resources.
        if not trust and "Resource" not in statement and "NotResource" not in statement:
            raise MalformedPolicyDocumentException("Policy statement must contain resources.")


# Policy sizes (IAM quotas), counted without white space: a managed policy, a role's trust
# policy, and all the inline policies of one user, role or group together.
MANAGED_POLICY_SIZE = 6144
TRUST_POLICY_SIZE = 2048
INLINE_POLICIES_SIZE = {USER: 2048, ROLE: 10240, GROUP: 5120}


def policy_size(document: str) -> int:
    return sum(1 for char in document if not char.isspace())


def check_managed_policy_size(document: str) -> None:
    if policy_size(document) > MANAGED_POLICY_SIZE:
        raise LimitExceededException(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}")


def check_trust_policy_size(document: str) -> None:
    if policy_size(document) > TRUST_POLICY_SIZE:
        raise LimitExceededException(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")


def check_inline_policies_size(kind: str, name: str, documents: Sequence[str]) -> None:
    limit = INLINE_POLICIES_SIZE[kind]
    if sum(policy_size(document) for document in documents) > limit:
        raise LimitExceededException(f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")


# --- tags --------------------------------------------------------------------------------

TAGS_MAX = 50


def merge_tags(current: list[dict[str, str]], new: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """``current`` with ``new`` added (a key given again takes its new value)."""
    merged = {tag["Key"]: tag["Value"] for tag in current}
    for tag in new:
        merged[tag["Key"]] = tag.get("Value", "")
    if len(merged) > TAGS_MAX:
        raise LimitExceededException(f"Cannot exceed quota for TagsPerResource: {TAGS_MAX}")
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def check_unique_tag_keys(tags: Sequence[dict[str, str]]) -> None:
    keys = [tag["Key"].lower() for tag in tags]
    if len(keys) != len(set(keys)):
        raise InvalidInputException("Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def without_tags(current: list[dict[str, str]], keys: Sequence[str]) -> list[dict[str, str]]:
    drop = set(keys)
    return [tag for tag in current if tag["Key"] not in drop]


# --- paging ------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(slots=True)
class Page:
    items: list[Any]
    marker: str | None = None

    def result(self, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {key: self.items, "IsTruncated": self.marker is not None}
        if self.marker is not None:
            out["Marker"] = self.marker
        return out


def paginate(items: Sequence[T], sort_key: Callable[[T], str], marker: str | None, max_items: int | None) -> Page:
    """One page of ``items`` (sorted by ``sort_key``) after ``marker``, as IAM's Marker/MaxItems paging."""
    ordered = sorted(items, key=sort_key)
    after = ""
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (ValueError, binascii.Error):
            raise InvalidInputException("Invalid Marker.") from None
        ordered = [item for item in ordered if sort_key(item) > after]
    limit = max_items or DEFAULT_MAX_ITEMS
    page = ordered[:limit]
    next_marker = None
    if len(ordered) > limit:
        next_marker = base64.urlsafe_b64encode(sort_key(page[-1]).encode()).decode()
    return Page(page, next_marker)
