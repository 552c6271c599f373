"""Event bus encryption with a customer managed KMS key (EventBridge user guide, "Encrypting
EventBridge event buses with AWS KMS keys" and "Authorizing EventBridge to use a customer managed key").

A bus with a ``KmsKeyIdentifier`` keeps the custom and partner events it holds (pending
deliveries and their retries, archived events) sealed: AES-256-GCM under a data key from
KMS ``GenerateDataKey``, with the encryption context AWS documents
(``{"aws:events:event-bus:arn": <bus ARN>}``); only the KMS-encrypted copy of the data key is
stored beside the ciphertext. Opening asks KMS ``Decrypt`` with the same context, so a disabled,
deleted or pending-deletion key stops the events it protects: the caller sends them to the
bus's or the target's dead-letter queue, as AWS does for non-retriable encryption errors.

KMS is called through the internal client and never inside an EventBridge transaction
(SQLite runs one transaction at a time and KMS needs its own).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stratus.aws.client import InternalClient
from stratus.aws.errors import AwsError, ValidationException

_PREFIX = "kms1:"
_NONCE = 12
CONTEXT_KEY = "aws:events:event-bus:arn"

# KMS failures that need the user to act (the key is disabled, gone, of the wrong kind or
# not usable by the caller): AWS's "non-retriable" encryption errors. Anything else
# (throttling, internal errors) is retried.
_NON_RETRIABLE = frozenset({
    "DisabledException", "NotFoundException", "KMSInvalidStateException", "InvalidKeyUsageException",
    "AccessDeniedException", "InvalidCiphertextException", "IncorrectKeyException", "InvalidArnException",
    "ValidationException", "CiphertextDamaged",
})


class CiphertextDamaged(AwsError):
    code = "CiphertextDamaged"
    status = 400


def is_non_retriable(error: AwsError) -> bool:
    return error.code in _NON_RETRIABLE


def context(bus_arn: str) -> dict[str, str]:
    return {CONTEXT_KEY: bus_arn}


async def check_key(client: InternalClient, identifier: str) -> None:
    """CreateEventBus/UpdateEventBus's check of ``KmsKeyIdentifier``: the key must exist (any
    of key ARN, key id, alias name, alias ARN) and be a symmetric encryption key, which
    EventBridge verifies with ``kms:DescribeKey``. A ValidationException otherwise."""
    try:
        described = await client.kms.describe_key({"KeyId": identifier})
    except AwsError as exc:
        if exc.code in ("NotFoundException", "InvalidArnException", "ValidationException"):
            raise ValidationException(
                f"Parameter KmsKeyIdentifier is not valid. Reason: KMS key {identifier} does not exist.") from None
        raise
    metadata = described["KeyMetadata"]
    if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or metadata.get("KeyUsage") != "ENCRYPT_DECRYPT":
        raise ValidationException(
            f"Parameter KmsKeyIdentifier is not valid. Reason: KMS key {identifier} is not a symmetric encryption key.")


@dataclass(frozen=True, slots=True)
class DataKey:
    plaintext: bytes
    blob: str  # the data key as KMS encrypted it, base64
    key_arn: str


async def data_key(client: InternalClient, key_id: str, bus_arn: str) -> DataKey:
    """A fresh data key from the bus's KMS key; raises the KMS error when the key cannot be used."""
    answer = await client.kms.generate_data_key({"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context(bus_arn)})
    return DataKey(bytes(answer["Plaintext"]), base64.b64encode(bytes(answer["CiphertextBlob"])).decode(), answer["KeyId"])


def is_sealed(text: str) -> bool:
    return text.startswith(_PREFIX)


def seal(key: DataKey, bus_arn: str, text: str) -> str:
    """``text`` encrypted under ``key``: a string that never starts like a JSON event."""
    nonce = os.urandom(_NONCE)
    ciphertext = AESGCM(key.plaintext).encrypt(nonce, text.encode(), bus_arn.encode())
    envelope = {"k": key.key_arn, "d": key.blob, "c": base64.b64encode(nonce + ciphertext).decode()}
    return _PREFIX + json.dumps(envelope, separators=(",", ":"))


def sealed_key_arn(sealed: str) -> str:
    return str(json.loads(sealed[len(_PREFIX):])["k"])


def sealed_payload(sealed: str) -> str:
    """The sealed event as one base64 string (what the "Encrypted Events" envelope carries)."""
    return base64.b64encode(sealed[len(_PREFIX):].encode()).decode()


async def open_sealed(client: InternalClient, bus_arn: str, sealed: str) -> str:
    """The plaintext of a sealed event; raises the KMS error (or CiphertextDamaged)."""
    envelope: dict[str, Any] = json.loads(sealed[len(_PREFIX):])
    answer = await client.kms.decrypt({"CiphertextBlob": base64.b64decode(envelope["d"]), "KeyId": envelope["k"],
                                       "EncryptionContext": context(bus_arn)})
    raw = base64.b64decode(envelope["c"])
    try:
        return AESGCM(bytes(answer["Plaintext"])).decrypt(raw[:_NONCE], raw[_NONCE:], bus_arn.encode()).decode()
    except InvalidTag:
        raise CiphertextDamaged("The stored event could not be decrypted: the ciphertext is damaged.") from None


def encrypted_event(event_id: str, account: str, region: str, time: str, bus_arn: str, rule_arn: str | None,
                    sealed: str) -> dict[str, Any]:
    """What a dead-letter queue receives for an event EventBridge could not decrypt (user guide,
    "Decrypting events in EventBridge dead-letter queues"): a new event wrapping the ciphertext."""
    detail: dict[str, Any] = {"event-bus-arn": bus_arn}
    if rule_arn:
        detail["rule-arn"] = rule_arn
    detail["kms-key-arn"] = sealed_key_arn(sealed)
    detail["encrypted-payload"] = sealed_payload(sealed)
    return {"version": "0", "id": event_id, "account": account, "time": time, "resources": [], "region": region,
            "source": "aws.events", "detail-type": "Encrypted Events", "detail": detail}
