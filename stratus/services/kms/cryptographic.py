"""KMS's cryptographic operations: encrypt and decrypt, data keys, signatures, MACs, randomness.

Each operation resolves and checks its key in one short transaction, then does the
cryptography outside it (RSA work runs in a thread so the event loop stays free).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from stratus.aws.api.kms import (
    CustomKeyStoreNotFoundException,
    DecryptRequest,
    DecryptResponse,
    EncryptRequest,
    EncryptResponse,
    GenerateDataKeyPairRequest,
    GenerateDataKeyPairResponse,
    GenerateDataKeyPairWithoutPlaintextRequest,
    GenerateDataKeyPairWithoutPlaintextResponse,
    GenerateDataKeyRequest,
    GenerateDataKeyResponse,
    GenerateDataKeyWithoutPlaintextRequest,
    GenerateDataKeyWithoutPlaintextResponse,
    GenerateMacRequest,
    GenerateMacResponse,
    GenerateRandomRequest,
    GenerateRandomResponse,
    GetPublicKeyRequest,
    GetPublicKeyResponse,
    IncorrectKeyException,
    InvalidCiphertextException,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    ReEncryptRequest,
    ReEncryptResponse,
    SignRequest,
    SignResponse,
    UnsupportedOperationException,
    VerifyMacRequest,
    VerifyMacResponse,
    VerifyRequest,
    VerifyResponse,
)
from stratus.aws.context import RequestContext
from stratus.aws.errors import ValidationException
from stratus.services.kms import crypto, model
from stratus.services.kms import store as db
from stratus.services.kms.keys import (
    KeyRing,
    dry_run,
    require_algorithm,
    require_symmetric,
    require_usable,
    require_usage,
)
from stratus.services.kms.model import SYMMETRIC, Key
from stratus.store.base import Store

_DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


def _no_recipient(request: Any) -> None:
    if request.get("Recipient"):
        raise UnsupportedOperationException("stratus does not support Recipient (Nitro Enclaves attestation).")


def _data_key_bytes(request: Any) -> int:
    spec, count = request.get("KeySpec"), request.get("NumberOfBytes")
    if (spec is None) == (count is None):
        raise ValidationException("Please specify either number of bytes or key spec.")
    return _DATA_KEY_BYTES[spec] if spec else count


class CryptographicOperations:
    """Mixed into KmsProvider, which supplies ``store``, ``clock`` and ``keys``."""

    store: Store
    clock: Any
    keys: KeyRing

    # --- the two halves every encrypting operation is made of --------------------------------

    async def _seal(
        self,
        ctx: RequestContext,
        key_id: str,
        plaintext: bytes,
        context: dict[str, str] | None,
        algorithm: str,
        operation: str,
        *,
        symmetric_only: bool = False,
    ) -> tuple[Key, bytes]:
        async with self.store.transaction() as tx:
            key = await self.keys.resolve(tx, ctx, key_id, self.clock.now_ms())
            require_usable(key)
            if symmetric_only:
                require_symmetric(key, operation)
            else:
                require_usage(key, "ENCRYPT_DECRYPT", operation)
            require_algorithm(key, algorithm)
            if not key.symmetric:
                private = await self.keys.private_key(tx, key)
            else:
                secret = await self.keys.secret(tx, key)
        if key.symmetric:
            assert secret is not None
            return key, crypto.seal(secret, key.current_material, key.key_id, key.arn, plaintext, context)
        try:
            return key, await asyncio.to_thread(crypto.rsa_encrypt, private, algorithm, plaintext)
        except ValueError:
            raise ValidationException(f"Plaintext is too long for {key.key_spec} with {algorithm}.") from None

    async def _open(
        self,
        ctx: RequestContext,
        blob: bytes,
        context: dict[str, str] | None,
        key_id: str | None,
        algorithm: str,
        operation: str,
    ) -> tuple[Key, bytes]:
        sealed = crypto.parse_blob(blob)
        async with self.store.transaction() as tx:
            named = await self.keys.resolve(tx, ctx, key_id, self.clock.now_ms()) if key_id else None
            if named is not None and not named.symmetric:
                require_usable(named)
                require_usage(named, "ENCRYPT_DECRYPT", operation)
                require_algorithm(named, algorithm)
                private = await self.keys.private_key(tx, named)
            else:
                # The blob says which key made it; only that key, in this account and Region, opens it.
                key = await db.get_key(tx, ctx.account, ctx.region, sealed.key_id) if sealed else None
                if key is None or sealed is None:
                    raise InvalidCiphertextException("")
                if named is not None and named.key_id != key.key_id:
                    raise IncorrectKeyException(
                        "The key ID in the request does not identify a CMK that can perform this operation."
                    )
                require_usable(key)
                require_algorithm(key, algorithm)
                secret = await self.keys.secret(tx, key, sealed.material_id)
        if named is not None and not named.symmetric:
            plaintext = await asyncio.to_thread(crypto.rsa_decrypt, private, algorithm, blob)
            if plaintext is None:
                raise InvalidCiphertextException("")
            return named, plaintext
        assert sealed is not None
        plaintext = crypto.open_sealed(secret, key.arn, sealed, context) if secret is not None else None
        if plaintext is None:
            raise InvalidCiphertextException("")
        return key, plaintext

    # --- operations -------------------------------------------------------------------------

    async def encrypt(self, ctx: RequestContext, request: EncryptRequest) -> EncryptResponse:
        algorithm = request.get("EncryptionAlgorithm", SYMMETRIC)
        key, blob = await self._seal(
            ctx, request["KeyId"], request["Plaintext"], request.get("EncryptionContext"), algorithm, "Encrypt"
        )
        dry_run(request)
        return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": algorithm}

    async def decrypt(self, ctx: RequestContext, request: DecryptRequest) -> DecryptResponse:
        _no_recipient(request)
        algorithm = request.get("EncryptionAlgorithm", SYMMETRIC)
        key, plaintext = await self._open(
            ctx, request["CiphertextBlob"], request.get("EncryptionContext"), request.get("KeyId"), algorithm, "Decrypt"
        )
        dry_run(request)
        return {"KeyId": key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}

    async def re_encrypt(self, ctx: RequestContext, request: ReEncryptRequest) -> ReEncryptResponse:
        source_algorithm = request.get("SourceEncryptionAlgorithm", SYMMETRIC)
        target_algorithm = request.get("DestinationEncryptionAlgorithm", SYMMETRIC)
        source, plaintext = await self._open(
            ctx,
            request["CiphertextBlob"],
            request.get("SourceEncryptionContext"),
            request.get("SourceKeyId"),
            source_algorithm,
            "ReEncrypt",
        )
        target, blob = await self._seal(
            ctx,
            request["DestinationKeyId"],
            plaintext,
            request.get("DestinationEncryptionContext"),
            target_algorithm,
            "ReEncrypt",
        )
        dry_run(request)
        return {
            "CiphertextBlob": blob,
            "SourceKeyId": source.arn,
            "KeyId": target.arn,
            "SourceEncryptionAlgorithm": source_algorithm,
            "DestinationEncryptionAlgorithm": target_algorithm,
        }

    async def generate_data_key(self, ctx: RequestContext, request: GenerateDataKeyRequest) -> GenerateDataKeyResponse:
        _no_recipient(request)
        plaintext = os.urandom(_data_key_bytes(request))
        key, blob = await self._seal(
            ctx, request["KeyId"], plaintext, request.get("EncryptionContext"), SYMMETRIC, "GenerateDataKey",
            symmetric_only=True,
        )
        dry_run(request)
        return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": key.arn}

    async def generate_data_key_without_plaintext(
        self, ctx: RequestContext, request: GenerateDataKeyWithoutPlaintextRequest
    ) -> GenerateDataKeyWithoutPlaintextResponse:
        plaintext = os.urandom(_data_key_bytes(request))
        key, blob = await self._seal(
            ctx, request["KeyId"], plaintext, request.get("EncryptionContext"), SYMMETRIC,
            "GenerateDataKeyWithoutPlaintext", symmetric_only=True,
        )
        dry_run(request)
        return {"CiphertextBlob": blob, "KeyId": key.arn}

    async def _data_key_pair(self, ctx: RequestContext, request: Any, operation: str) -> dict[str, Any]:
        _no_recipient(request)
        spec = request["KeyPairSpec"]
        if spec not in model.DATA_KEY_PAIR_SPECS:
            raise UnsupportedOperationException(f"KeyPairSpec {spec} is not supported in this Region.")
        pair = await asyncio.to_thread(crypto.new_private_key, spec)
        private_der = crypto.private_key_der(pair)
        key, blob = await self._seal(
            ctx, request["KeyId"], private_der, request.get("EncryptionContext"), SYMMETRIC, operation,
            symmetric_only=True,
        )
        dry_run(request)
        return {
            "PrivateKeyCiphertextBlob": blob,
            "PrivateKeyPlaintext": private_der,
            "PublicKey": crypto.public_key_der(pair),
            "KeyId": key.arn,
            "KeyPairSpec": spec,
        }

    async def generate_data_key_pair(
        self, ctx: RequestContext, request: GenerateDataKeyPairRequest
    ) -> GenerateDataKeyPairResponse:
        return await self._data_key_pair(ctx, request, "GenerateDataKeyPair")  # type: ignore[return-value]

    async def generate_data_key_pair_without_plaintext(
        self, ctx: RequestContext, request: GenerateDataKeyPairWithoutPlaintextRequest
    ) -> GenerateDataKeyPairWithoutPlaintextResponse:
        out = await self._data_key_pair(ctx, request, "GenerateDataKeyPairWithoutPlaintext")
        del out["PrivateKeyPlaintext"]
        return out  # type: ignore[return-value]

    async def generate_random(self, ctx: RequestContext, request: GenerateRandomRequest) -> GenerateRandomResponse:
        _no_recipient(request)
        if request.get("CustomKeyStoreId"):
            raise CustomKeyStoreNotFoundException(f"Custom key store {request['CustomKeyStoreId']} does not exist.")
        count = request.get("NumberOfBytes")
        if count is None:
            raise ValidationException("Please specify number of bytes.")
        return {"Plaintext": os.urandom(count)}

    # --- signatures and MACs ----------------------------------------------------------------

    async def _key_for(self, ctx: RequestContext, request: Any, usage: str, algorithm: str, operation: str) -> tuple[Key, Any]:
        """The usable key the request names, with its private key (signing) or secret (MACs)."""
        async with self.store.transaction() as tx:
            key = await self.keys.resolve(tx, ctx, request["KeyId"], self.clock.now_ms())
            require_usable(key)
            require_usage(key, usage, operation)
            require_algorithm(key, algorithm)
            material = await self.keys.private_key(tx, key) if key.asymmetric else await self.keys.secret(tx, key)
        return key, material

    async def _signing_key(self, ctx: RequestContext, request: Any, operation: str) -> tuple[Key, Any]:
        return await self._key_for(ctx, request, "SIGN_VERIFY", request["SigningAlgorithm"], operation)

    async def sign(self, ctx: RequestContext, request: SignRequest) -> SignResponse:
        key, private = await self._signing_key(ctx, request, "Sign")
        algorithm = request["SigningAlgorithm"]
        try:
            signature = await asyncio.to_thread(
                crypto.sign, private, algorithm, request["Message"], request.get("MessageType", "RAW")
            )
        except crypto.DigestLengthError as exc:
            raise ValidationException(str(exc)) from None
        dry_run(request)
        return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}

    async def verify(self, ctx: RequestContext, request: VerifyRequest) -> VerifyResponse:
        key, private = await self._signing_key(ctx, request, "Verify")
        algorithm = request["SigningAlgorithm"]
        try:
            valid = crypto.verify(
                private, algorithm, request["Message"], request.get("MessageType", "RAW"), request["Signature"]
            )
        except crypto.DigestLengthError as exc:
            raise ValidationException(str(exc)) from None
        dry_run(request)
        if not valid:
            raise KMSInvalidSignatureException("")
        return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}

    async def _mac_secret(self, ctx: RequestContext, request: Any, operation: str) -> tuple[Key, bytes]:
        return await self._key_for(ctx, request, "GENERATE_VERIFY_MAC", request["MacAlgorithm"], operation)

    async def generate_mac(self, ctx: RequestContext, request: GenerateMacRequest) -> GenerateMacResponse:
        key, secret = await self._mac_secret(ctx, request, "GenerateMac")
        dry_run(request)
        algorithm = request["MacAlgorithm"]
        return {"Mac": crypto.mac(secret, algorithm, request["Message"]), "MacAlgorithm": algorithm, "KeyId": key.arn}

    async def verify_mac(self, ctx: RequestContext, request: VerifyMacRequest) -> VerifyMacResponse:
        key, secret = await self._mac_secret(ctx, request, "VerifyMac")
        dry_run(request)
        algorithm = request["MacAlgorithm"]
        if not crypto.mac_matches(secret, algorithm, request["Message"], request["Mac"]):
            raise KMSInvalidMacException("")
        return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}

    async def get_public_key(self, ctx: RequestContext, request: GetPublicKeyRequest) -> GetPublicKeyResponse:
        async with self.store.transaction() as tx:
            key = await self.keys.resolve(tx, ctx, request["KeyId"], self.clock.now_ms())
            require_usable(key)
            if not key.asymmetric:
                raise UnsupportedOperationException(f"{key.arn} key spec {key.key_spec} does not have a public key.")
            private = await self.keys.private_key(tx, key)
        member, algorithms = key.algorithms
        return {
            "KeyId": key.arn,
            "PublicKey": crypto.public_key_der(private),
            "CustomerMasterKeySpec": key.key_spec,  # type: ignore[typeddict-item]
            "KeySpec": key.key_spec,  # type: ignore[typeddict-item]
            "KeyUsage": key.key_usage,  # type: ignore[typeddict-item]
            member: list(algorithms),  # type: ignore[misc]
        }
