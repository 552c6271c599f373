"""KMS's cryptography, pure: key material, the ciphertext blob format, signatures and MACs.

Everything here is real cryptography from the ``cryptography`` package: AES-256-GCM for
symmetric keys (and for wrapping key material at rest), RSA (OAEP, PSS, PKCS#1 v1.5) and
ECDSA on the NIST and secp256k1 curves, HMAC. Nothing here touches the store.

A symmetric ciphertext blob is opaque to clients but carries what Decrypt needs to find
its key, as AWS's does::

    version (1) | len(key id) (1) | key id (ascii) | material id (32) | nonce (12) | GCM ciphertext+tag

The GCM additional data binds the blob to the key's ARN (so to its account and region)
and to the encryption context, so a blob taken to another account, region or key, or
opened with another context, fails authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BLOB_VERSION = 1
NONCE_BYTES = 12
MATERIAL_ID_BYTES = 32
_TAG_BYTES = 16
_AAD_PREFIX = b"stratus-kms-blob:1\n"
_WRAP_PREFIX = b"stratus-kms-wrap:1\n"

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA_1": hashes.SHA1,
    "SHA_224": hashes.SHA224,
    "SHA_256": hashes.SHA256,
    "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
}
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}
_HMAC_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}


class DigestLengthError(ValueError):
    """A DIGEST message whose length is not the signing algorithm's digest length."""


# --- material ------------------------------------------------------------------------------


def new_material_id() -> str:
    return os.urandom(MATERIAL_ID_BYTES).hex()


def new_material(key_spec: str) -> bytes:
    """Fresh secret material for a key of ``key_spec``: AES key, HMAC key, or a PKCS#8 DER private key."""
    if key_spec == "SYMMETRIC_DEFAULT":
        return AESGCM.generate_key(bit_length=256)
    if key_spec in _HMAC_BYTES:
        return os.urandom(_HMAC_BYTES[key_spec])
    return private_key_der(new_private_key(key_spec))


def new_private_key(key_spec: str) -> PrivateKeyTypes:
    if key_spec.startswith("RSA_"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_spec[4:]))
    if key_spec in _CURVES:
        return ec.generate_private_key(_CURVES[key_spec]())
    raise ValueError(f"no private key for {key_spec}")


def private_key_der(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def load_private_key(der: bytes) -> PrivateKeyTypes:
    return serialization.load_der_private_key(der, password=None)


def public_key_der(key: PrivateKeyTypes) -> bytes:
    """The DER SubjectPublicKeyInfo GetPublicKey answers."""
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def wrap(master: bytes, label: str, secret: bytes) -> bytes:
    """``secret`` sealed under the master key, bound to ``label`` (the key ARN and material id)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, secret, _WRAP_PREFIX + label.encode())


def unwrap(master: bytes, label: str, wrapped: bytes) -> bytes:
    """Raises InvalidTag when the material was not wrapped for ``label`` under ``master``."""
    return AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _WRAP_PREFIX + label.encode())


# --- symmetric blobs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealedBlob:
    key_id: str
    material_id: str
    nonce: bytes
    body: bytes


def canonical_context(context: dict[str, str] | None) -> bytes:
    """The encryption context as one canonical byte string: order of pairs does not matter."""
    return json.dumps(context or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _aad(arn: str, context: dict[str, str] | None) -> bytes:
    return _AAD_PREFIX + arn.encode() + b"\n" + canonical_context(context)


def seal(
    material: bytes, material_id: str, key_id: str, arn: str, plaintext: bytes, context: dict[str, str] | None
) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(material).encrypt(nonce, plaintext, _aad(arn, context))
    ident = key_id.encode("ascii")
    return bytes((BLOB_VERSION, len(ident))) + ident + bytes.fromhex(material_id) + nonce + body


def parse_blob(blob: bytes) -> SealedBlob | None:
    """The parts of a symmetric blob, or None when ``blob`` is not one of ours."""
    if len(blob) < 2 or blob[0] != BLOB_VERSION:
        return None
    end_id = 2 + blob[1]
    end_material = end_id + MATERIAL_ID_BYTES
    end_nonce = end_material + NONCE_BYTES
    if len(blob) < end_nonce + _TAG_BYTES:
        return None
    try:
        key_id = blob[2:end_id].decode("ascii")
    except UnicodeDecodeError:
        return None
    return SealedBlob(key_id, blob[end_id:end_material].hex(), blob[end_material:end_nonce], blob[end_nonce:])


def open_sealed(material: bytes, arn: str, sealed: SealedBlob, context: dict[str, str] | None) -> bytes | None:
    """The plaintext, or None when the blob was not sealed by this key with this context."""
    try:
        return AESGCM(material).decrypt(sealed.nonce, sealed.body, _aad(arn, context))
    except InvalidTag:
        return None


# --- asymmetric encryption -----------------------------------------------------------------


def _oaep(algorithm: str) -> padding.OAEP:
    digest = _HASHES[algorithm.removeprefix("RSAES_OAEP_")]()
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


def rsa_encrypt(key: PrivateKeyTypes, algorithm: str, plaintext: bytes) -> bytes:
    """Raises ValueError when ``plaintext`` is too long for the key and padding."""
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.public_key().encrypt(plaintext, _oaep(algorithm))


def rsa_decrypt(key: PrivateKeyTypes, algorithm: str, ciphertext: bytes) -> bytes | None:
    assert isinstance(key, rsa.RSAPrivateKey)
    try:
        return key.decrypt(ciphertext, _oaep(algorithm))
    except ValueError:
        return None


# --- signatures ----------------------------------------------------------------------------


def _signing_hash(algorithm: str) -> hashes.HashAlgorithm:
    return _HASHES["SHA_" + algorithm.rsplit("_", 1)[1]]()


def _prepared(algorithm: str, message: bytes, message_type: str) -> tuple[bytes, hashes.HashAlgorithm | utils.Prehashed]:
    digest = _signing_hash(algorithm)
    if message_type != "DIGEST":
        return message, digest
    if len(message) != digest.digest_size:
        raise DigestLengthError(f"Digest is invalid length for algorithm {algorithm}.")
    return message, utils.Prehashed(digest)


def sign(key: PrivateKeyTypes, algorithm: str, message: bytes, message_type: str) -> bytes:
    """A signature as AWS KMS returns it (ECDSA in DER); DigestLengthError on a bad DIGEST."""
    data, digest = _prepared(algorithm, message, message_type)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(digest))
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(data, _rsa_padding(algorithm), digest)


def verify(key: PrivateKeyTypes, algorithm: str, message: bytes, message_type: str, signature: bytes) -> bool:
    data, digest = _prepared(algorithm, message, message_type)
    public = key.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(digest))
        else:
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(signature, data, _rsa_padding(algorithm), digest)
    except InvalidSignature:
        return False
    return True


def _rsa_padding(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm.startswith("RSASSA_PSS_"):
        # AWS KMS signs PSS with MGF1 on the same hash and a salt as long as the digest.
        digest = _signing_hash(algorithm)
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    return padding.PKCS1v15()


# --- MACs ----------------------------------------------------------------------------------


def mac(secret: bytes, algorithm: str, message: bytes) -> bytes:
    return hmac.new(secret, message, getattr(hashlib, "sha" + algorithm.rsplit("_", 1)[1])).digest()


def mac_matches(secret: bytes, algorithm: str, message: bytes, tag: bytes) -> bool:
    return hmac.compare_digest(mac(secret, algorithm, message), tag)
