"""KMS's domain, pure: keys and their specs, key identifiers, aliases, default policies.

The rules here follow the AWS KMS API reference (CreateKey's KeySpec/KeyUsage table,
the key identifier forms of "KeyId", alias naming, ScheduleKeyDeletion's waiting period).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stratus.aws import arns

SYMMETRIC = "SYMMETRIC_DEFAULT"
ENABLED, DISABLED, PENDING_DELETION = "Enabled", "Disabled", "PendingDeletion"
AWS_MANAGED_PREFIX = "alias/aws/"
DEFAULT_POLICY_NAME = "default"
PENDING_WINDOW_DAYS = (7, 30)
DEFAULT_PENDING_WINDOW_DAYS = 30
DEFAULT_ROTATION_PERIOD_DAYS = 365
MAX_TAGS = 50
DAY_MS = 86_400_000

_RSA_SIGNING = [f"RSASSA_{scheme}_SHA_{bits}" for scheme in ("PSS", "PKCS1_V1_5") for bits in (256, 384, 512)]
_RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
_ECDSA = {
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
}
_HMAC = {f"HMAC_{bits}": [f"HMAC_SHA_{bits}"] for bits in (224, 256, 384, 512)}
RSA_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")
# Key pairs GenerateDataKeyPair hands out (SM2 is for China Regions only).
DATA_KEY_PAIR_SPECS = (*RSA_SPECS, *_ECDSA)

# KeySpec -> KeyUsage -> the algorithms DescribeKey lists, under the member that lists them.
KEY_USAGES: dict[str, dict[str, tuple[str, list[str]]]] = {
    SYMMETRIC: {"ENCRYPT_DECRYPT": ("EncryptionAlgorithms", [SYMMETRIC])},
    **{
        spec: {
            "ENCRYPT_DECRYPT": ("EncryptionAlgorithms", _RSA_ENCRYPTION),
            "SIGN_VERIFY": ("SigningAlgorithms", _RSA_SIGNING),
        }
        for spec in RSA_SPECS
    },
    **{spec: {"SIGN_VERIFY": ("SigningAlgorithms", algs)} for spec, algs in _ECDSA.items()},
    **{spec: {"GENERATE_VERIFY_MAC": ("MacAlgorithms", algs)} for spec, algs in _HMAC.items()},
}

# Descriptions AWS gives the AWS managed keys it creates for a service.
_MANAGED_DESCRIPTIONS = {
    "ssm": "Default key that protects my SSM parameters when no other key is defined",
    "secretsmanager": "Default key that protects my Secrets Manager data when no other key is defined",
    "sqs": "Default key that protects my SQS messages when no other key is defined",
    "sns": "Default key that protects my SNS data when no other key is defined",
    "lambda": "Default key that protects my Lambda functions when no other key is defined",
    "s3": "Default key that protects my S3 objects when no other key is defined",
}

_KEY_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$")


def arn(account: str, region: str, resource: str) -> str:
    return arns.arn("kms", region, account, resource)


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def new_key_id(multi_region: bool) -> str:
    return f"mrk-{uuid.uuid4().hex}" if multi_region else str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class KeyRef:
    """What a "KeyId" argument names: a key id or an alias name, in an account and region."""

    kind: str  # "key" or "alias"
    name: str  # key id, or the alias name with its "alias/" prefix
    account: str
    region: str


def parse_key_ref(value: str, account: str, region: str) -> KeyRef | None:
    """The key id, key ARN, alias name or alias ARN in ``value``; None when it is none of them."""
    if value.startswith("arn:"):
        parsed = arns.parse_arn(value, "kms")
        if parsed is None or not parsed.regional:
            return None
        if key_id := parsed.resource_after("key/"):
            return KeyRef("key", key_id, parsed.account, parsed.region)
        if parsed.resource_after("alias/"):
            return KeyRef("alias", parsed.resource, parsed.account, parsed.region)
        return None
    if value.startswith("alias/"):
        return KeyRef("alias", value, account, region)
    return KeyRef("key", value, account, region)


def looks_like_key_id(value: str) -> bool:
    return bool(_KEY_ID.match(value))


def alias_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a customer alias name (InvalidAliasNameException), if it cannot."""
    if not name.startswith("alias/") or name == "alias/":
        return 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html'
    return None


def is_aws_managed_alias(name: str) -> bool:
    return name.startswith(AWS_MANAGED_PREFIX) and len(name) > len(AWS_MANAGED_PREFIX)


def default_policy(account: str) -> str:
    """The key policy CreateKey writes when it is given none (the AWS "default key policy")."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": arns.root_arn(account)},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        indent=2,
    )


def managed_key_policy(account: str, region: str, service: str) -> str:
    """The policy of an AWS managed key: usable through its service by the account, readable directly."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": f"auto-{service}-1",
            "Statement": [
                {
                    "Sid": f"Allow access through {service} for all principals in the account that are authorized to use {service}",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account,
                            "kms:ViaService": f"{service}.{region}.amazonaws.com",
                        }
                    },
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": arns.root_arn(account)},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                    "Resource": "*",
                },
            ],
        },
        indent=2,
    )


def managed_key_description(service: str) -> str:
    return _MANAGED_DESCRIPTIONS.get(service, f"Default key that protects my {service} data when no other key is defined")


@dataclass(slots=True)
class Key:
    """A KMS key. Its secret material lives apart (one row per material: rotations keep old ones)."""

    account: str
    region: str
    key_id: str
    created_ms: int
    key_spec: str
    key_usage: str
    state: str = ENABLED
    description: str = ""
    key_manager: str = "CUSTOMER"
    origin: str = "AWS_KMS"
    multi_region: bool = False
    policy: str = ""
    tags: list[dict[str, str]] = field(default_factory=list)
    current_material: str = ""
    deletion_ms: int | None = None
    pending_days: int | None = None
    # Automatic rotation: on when the period is set; the next one is due at next_rotation_ms.
    rotation_period_days: int | None = None
    next_rotation_ms: int | None = None
    on_demand_rotation_ms: int | None = None

    @property
    def arn(self) -> str:
        return arn(self.account, self.region, f"key/{self.key_id}")

    @property
    def algorithms(self) -> tuple[str, list[str]]:
        return KEY_USAGES[self.key_spec][self.key_usage]

    @property
    def symmetric(self) -> bool:
        return self.key_spec == SYMMETRIC

    @property
    def asymmetric(self) -> bool:
        return self.key_spec in RSA_SPECS or self.key_spec in _ECDSA

    def metadata(self) -> dict[str, Any]:
        """DescribeKey's KeyMetadata."""
        member, algorithms = self.algorithms
        out: dict[str, Any] = {
            "AWSAccountId": self.account,
            "KeyId": self.key_id,
            "Arn": self.arn,
            "CreationDate": ms_to_datetime(self.created_ms),
            "Enabled": self.state == ENABLED,
            "Description": self.description,
            "KeyUsage": self.key_usage,
            "KeyState": self.state,
            "Origin": self.origin,
            "KeyManager": self.key_manager,
            "CustomerMasterKeySpec": self.key_spec,
            "KeySpec": self.key_spec,
            member: list(algorithms),
            "MultiRegion": self.multi_region,
        }
        if self.multi_region:
            out["MultiRegionConfiguration"] = {
                "MultiRegionKeyType": "PRIMARY",
                "PrimaryKey": {"Arn": self.arn, "Region": self.region},
                "ReplicaKeys": [],
            }
        # PendingDeletionWindowInDays is only for a multi-Region primary in PendingReplicaDeletion
        # (replicas are not modelled): a key pending deletion shows its DeletionDate alone.
        if self.state == PENDING_DELETION and self.deletion_ms is not None:
            out["DeletionDate"] = ms_to_datetime(self.deletion_ms)
        if self.symmetric:
            out["CurrentKeyMaterialId"] = self.current_material
        return out

    def data(self) -> dict[str, Any]:
        """The fields kept in the row's JSON column (the rest are real columns)."""
        return {
            "key_spec": self.key_spec,
            "key_usage": self.key_usage,
            "description": self.description,
            "key_manager": self.key_manager,
            "origin": self.origin,
            "multi_region": self.multi_region,
            "policy": self.policy,
            "tags": self.tags,
            "current_material": self.current_material,
            "deletion_ms": self.deletion_ms,
            "pending_days": self.pending_days,
            "rotation_period_days": self.rotation_period_days,
            "next_rotation_ms": self.next_rotation_ms,
            "on_demand_rotation_ms": self.on_demand_rotation_ms,
        }


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """``current`` with ``new`` applied: a tag key given again gets the new value, in place."""
    merged = {t["TagKey"]: t["TagValue"] for t in current}
    for tag in new:
        merged[tag["TagKey"]] = tag["TagValue"]
    return [{"TagKey": k, "TagValue": v} for k, v in merged.items()]


def tag_problem(tags: list[dict[str, str]]) -> str | None:
    """Why these tags cannot be set (TagException), if they cannot."""
    for tag in tags:
        if tag["TagKey"].startswith("aws:"):
            return "Tag keys cannot start with the reserved prefix aws:"
    if len(tags) > MAX_TAGS:
        return f"A KMS key can have at most {MAX_TAGS} tags."
    return None
