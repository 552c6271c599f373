"""Envelope encryption of secret values, as Secrets Manager does it.

Each version gets its own 256-bit data key from KMS (``GenerateDataKey`` with the encryption
context ``{"SecretARN": arn, "SecretVersionId": version_id}``); the value is encrypted here
with AES-256-GCM under that key, and only the KMS-encrypted copy of the key is stored. Reading
asks KMS to decrypt the data key with the same context, so a value only opens for its own
secret and version, with the KMS key still usable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stratus.aws.api.secretsmanager import DecryptionFailure, EncryptionFailure
from stratus.aws.client import InternalClient
from stratus.aws.errors import AwsError, NotImplementedOperation
from stratus.services.secretsmanager.model import DEFAULT_KMS_ALIAS

_NONCE = 12


@dataclass(frozen=True, slots=True)
class Sealed:
    ciphertext: bytes  # nonce || AES-GCM ciphertext and tag
    data_key: bytes  # the data key as KMS encrypted it
    kms_key_arn: str


def _context(arn: str, version_id: str) -> dict[str, str]:
    return {"SecretARN": arn, "SecretVersionId": version_id}


def _aad(arn: str, version_id: str) -> bytes:
    return f"{arn}\n{version_id}".encode()


async def seal(client: InternalClient, kms_key_id: str | None, arn: str, version_id: str, plaintext: bytes) -> Sealed:
    """Encrypt ``plaintext`` for one version of one secret; EncryptionFailure when KMS refuses."""
    try:
        answer = await client.kms.generate_data_key(
            {"KeyId": kms_key_id or DEFAULT_KMS_ALIAS, "KeySpec": "AES_256", "EncryptionContext": _context(arn, version_id)}
        )
    except NotImplementedOperation:
        raise
    except AwsError as exc:
        raise EncryptionFailure(
            f"Secrets Manager can't encrypt the secret value with the KMS key {kms_key_id or DEFAULT_KMS_ALIAS}: "
            f"{exc.code}: {exc.message}"
        ) from None
    nonce = os.urandom(_NONCE)
    ciphertext = AESGCM(bytes(answer["Plaintext"])).encrypt(nonce, plaintext, _aad(arn, version_id))
    return Sealed(nonce + ciphertext, bytes(answer["CiphertextBlob"]), answer["KeyId"])


async def unseal(client: InternalClient, sealed: Sealed, arn: str, version_id: str) -> bytes:
    """The plaintext of one version; DecryptionFailure when KMS or the ciphertext refuses."""
    try:
        answer = await client.kms.decrypt(
            {"CiphertextBlob": sealed.data_key, "KeyId": sealed.kms_key_arn, "EncryptionContext": _context(arn, version_id)}
        )
    except NotImplementedOperation:
        raise
    except AwsError as exc:
        raise DecryptionFailure(
            f"Secrets Manager can't decrypt the protected secret text using the provided KMS key: {exc.code}: {exc.message}"
        ) from None
    try:
        return AESGCM(bytes(answer["Plaintext"])).decrypt(sealed.ciphertext[:_NONCE], sealed.ciphertext[_NONCE:], _aad(arn, version_id))
    except InvalidTag:
        raise DecryptionFailure("Secrets Manager can't decrypt the protected secret text: the ciphertext is damaged.") from None
