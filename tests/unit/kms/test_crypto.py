"""KMS's pure cryptography and key-id rules: blob format, binding, wrapping, signatures."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidTag

from stratus.services.kms import crypto, model

ARN = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
KEY_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def secret() -> bytes:
    return crypto.new_material("SYMMETRIC_DEFAULT")


def test_blob_round_trip_and_header(secret):
    material_id = crypto.new_material_id()
    blob = crypto.seal(secret, material_id, KEY_ID, ARN, b"hello", {"b": "2", "a": "1"})
    sealed = crypto.parse_blob(blob)
    assert sealed is not None
    assert (sealed.key_id, sealed.material_id) == (KEY_ID, material_id)
    assert crypto.open_sealed(secret, ARN, sealed, {"a": "1", "b": "2"}) == b"hello"


def test_blob_is_bound_to_the_arn_the_context_and_the_material(secret):
    sealed = crypto.parse_blob(crypto.seal(secret, crypto.new_material_id(), KEY_ID, ARN, b"x", {"a": "1"}))
    assert sealed is not None
    assert crypto.open_sealed(secret, ARN.replace("000000000000", "111111111111"), sealed, {"a": "1"}) is None
    assert crypto.open_sealed(secret, ARN.replace("us-east-1", "eu-west-1"), sealed, {"a": "1"}) is None
    assert crypto.open_sealed(secret, ARN, sealed, {"a": "2"}) is None
    assert crypto.open_sealed(secret, ARN, sealed, None) is None
    assert crypto.open_sealed(crypto.new_material("SYMMETRIC_DEFAULT"), ARN, sealed, {"a": "1"}) is None


def test_empty_context_and_none_are_the_same(secret):
    sealed = crypto.parse_blob(crypto.seal(secret, crypto.new_material_id(), KEY_ID, ARN, b"x", None))
    assert sealed is not None and crypto.open_sealed(secret, ARN, sealed, {}) == b"x"


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + b"x" * 100, b"\x01\x24" + b"k" * 36 + b"short"])
def test_foreign_bytes_are_not_blobs(blob):
    assert crypto.parse_blob(blob) is None


def test_wrapping_is_bound_to_its_label():
    master = crypto.new_material("SYMMETRIC_DEFAULT")
    wrapped = crypto.wrap(master, "a", b"material")
    assert crypto.unwrap(master, "a", wrapped) == b"material"
    with pytest.raises(InvalidTag):
        crypto.unwrap(master, "b", wrapped)


def test_digest_signing_checks_the_digest_length():
    key = crypto.new_private_key("ECC_NIST_P384")
    digest = hashlib.sha384(b"m").digest()
    signature = crypto.sign(key, "ECDSA_SHA_384", digest, "DIGEST")
    assert crypto.verify(key, "ECDSA_SHA_384", b"m", "RAW", signature)
    assert not crypto.verify(key, "ECDSA_SHA_384", b"n", "RAW", signature)
    with pytest.raises(crypto.DigestLengthError):
        crypto.sign(key, "ECDSA_SHA_384", digest[:-1], "DIGEST")


def test_hmac_material_sizes():
    assert [len(crypto.new_material(f"HMAC_{b}")) for b in (224, 256, 384, 512)] == [28, 32, 48, 64]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (KEY_ID, model.KeyRef("key", KEY_ID, "000000000000", "us-east-1")),
        (ARN.replace("000000000000", "123456789012"), model.KeyRef("key", KEY_ID, "123456789012", "us-east-1")),
        ("alias/app", model.KeyRef("alias", "alias/app", "000000000000", "us-east-1")),
        ("arn:aws:kms:eu-west-1:000000000000:alias/aws/ssm", model.KeyRef("alias", "alias/aws/ssm", "000000000000", "eu-west-1")),
        ("arn:aws:sqs:us-east-1:000000000000:queue", None),
    ],
)
def test_key_references(value, expected):
    assert model.parse_key_ref(value, "000000000000", "us-east-1") == expected


def test_every_key_spec_has_its_algorithms():
    for spec, usages in model.KEY_USAGES.items():
        for usage, (member, algorithms) in usages.items():
            assert member.endswith("Algorithms") and algorithms, (spec, usage)
