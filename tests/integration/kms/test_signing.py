"""Sign, Verify, GetPublicKey and HMAC keys, checked with the `cryptography` library.

A signature KMS makes must verify with the public key GetPublicKey hands out, outside
stratus: that proves the cryptography is real. AWS references: API_Sign, API_Verify,
API_GetPublicKey, API_GenerateMac, API_VerifyMac.
"""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from tests.helpers import error_code

_HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def _verify_locally(public, algorithm: str, message: bytes, signature: bytes) -> None:
    digest = _HASH[algorithm.rsplit("_", 1)[1]]()
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, message, ec.ECDSA(digest))
    elif algorithm.startswith("RSASSA_PSS"):
        public.verify(signature, message, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
    else:
        public.verify(signature, message, padding.PKCS1v15(), digest)


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
        ("RSA_3072", "RSASSA_PSS_SHA_384"),
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_NIST_P384", "ECDSA_SHA_384"),
        ("ECC_NIST_P521", "ECDSA_SHA_512"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ],
)
def test_signatures_verify_with_the_public_key(kms, make_key, spec, algorithm):
    key_id = make_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")
    out = kms.get_public_key(KeyId=key_id)
    assert out["KeySpec"] == spec and out["KeyUsage"] == "SIGN_VERIFY" and algorithm in out["SigningAlgorithms"]
    public = serialization.load_der_public_key(out["PublicKey"])
    message = b"the message to sign"
    signed = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm=algorithm)
    assert signed["SigningAlgorithm"] == algorithm and signed["KeyId"].endswith(key_id)
    _verify_locally(public, algorithm, message, signed["Signature"])
    assert kms.verify(KeyId=key_id, Message=message, Signature=signed["Signature"], SigningAlgorithm=algorithm)[
        "SignatureValid"
    ]


def test_rsa_4096_keys_sign(kms, make_key):
    key_id = make_key(KeySpec="RSA_4096", KeyUsage="SIGN_VERIFY")
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 4096
    signature = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["Signature"]
    _verify_locally(public, "RSASSA_PKCS1_V1_5_SHA_256", b"m", signature)


def test_digest_messages(kms, make_key):
    key_id = make_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    digest = hashlib.sha256(b"big document").digest()
    signature = kms.sign(KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")[
        "Signature"
    ]
    public.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    # A digest signature is the same as a signature of the raw message.
    assert kms.verify(KeyId=key_id, Message=b"big document", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")[
        "SignatureValid"
    ]
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=key_id, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    assert error_code(exc) == "ValidationException"


def test_bad_signatures_and_wrong_algorithms(kms, make_key):
    key_id = make_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    signature = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    with pytest.raises(ClientError) as exc:
        kms.verify(KeyId=key_id, Message=b"other", Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert error_code(exc) == "KMSInvalidSignatureException"
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=make_key(), Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert error_code(exc) == "InvalidKeyUsageException"


def test_signing_keys_obey_key_states(kms, make_key):
    key_id = make_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert error_code(exc) == "DisabledException"


def test_symmetric_keys_have_no_public_key(kms, make_key):
    with pytest.raises(ClientError) as exc:
        kms.get_public_key(KeyId=make_key())
    assert error_code(exc) == "UnsupportedOperationException"


def test_hmac_keys(kms, make_key):
    key_id = make_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")
    out = kms.generate_mac(KeyId=key_id, Message=b"msg", MacAlgorithm="HMAC_SHA_384")
    assert len(out["Mac"]) == 48
    assert kms.generate_mac(KeyId=key_id, Message=b"msg", MacAlgorithm="HMAC_SHA_384")["Mac"] == out["Mac"]
    assert kms.verify_mac(KeyId=key_id, Message=b"msg", Mac=out["Mac"], MacAlgorithm="HMAC_SHA_384")["MacValid"]
    with pytest.raises(ClientError) as exc:
        kms.verify_mac(KeyId=key_id, Message=b"other", Mac=out["Mac"], MacAlgorithm="HMAC_SHA_384")
    assert error_code(exc) == "KMSInvalidMacException"
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=key_id, Message=b"msg", MacAlgorithm="HMAC_SHA_256")
    assert error_code(exc) == "InvalidKeyUsageException"
