"""Encrypt, Decrypt, ReEncrypt, data keys and randomness with symmetric (and RSA) keys.

AWS references: API_Encrypt, API_Decrypt, API_ReEncrypt, API_GenerateDataKey,
API_GenerateDataKeyWithoutPlaintext, API_GenerateDataKeyPair, API_GenerateRandom, and
"Key states of AWS KMS keys" (developerguide/key-state.html) for the state errors.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.conftest import client_for
from tests.helpers import error_code


def test_round_trip_with_every_key_id_form(kms, make_key, unique):
    key_id = make_key()
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    alias = f"alias/{unique('enc')}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    alias_arn = arn.replace(f"key/{key_id}", alias)
    for form in (key_id, arn, alias, alias_arn):
        out = kms.encrypt(KeyId=form, Plaintext=b"secret data")
        assert out["KeyId"] == arn
        assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
        assert b"secret data" not in out["CiphertextBlob"]
        back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"])  # the blob names its key
        assert back["Plaintext"] == b"secret data"
        assert back["KeyId"] == arn
        assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"], KeyId=form)["Plaintext"] == b"secret data"


def test_each_encryption_is_fresh(kms, make_key):
    key_id = make_key()
    a = kms.encrypt(KeyId=key_id, Plaintext=b"same")["CiphertextBlob"]
    b = kms.encrypt(KeyId=key_id, Plaintext=b"same")["CiphertextBlob"]
    assert a != b


def test_encryption_context_must_match(kms, make_key):
    key_id = make_key()
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext={"app": "x", "env": "prod"})["CiphertextBlob"]
    # Order of pairs does not matter.
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"env": "prod", "app": "x"})["Plaintext"] == b"p"
    for wrong in ({}, {"app": "x"}, {"app": "x", "env": "dev"}, {"app": "x", "env": "prod", "more": "1"}):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        assert error_code(exc) == "InvalidCiphertextException"


def test_a_tampered_or_foreign_blob_is_invalid_ciphertext(kms, make_key):
    blob = bytearray(kms.encrypt(KeyId=make_key(), Plaintext=b"p")["CiphertextBlob"])
    blob[-1] ^= 1
    for bad in (bytes(blob), b"not a kms blob at all", b"\x01"):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=bad)
        assert error_code(exc) == "InvalidCiphertextException"


def test_decrypt_with_another_key_id_is_incorrect_key(kms, make_key):
    blob = kms.encrypt(KeyId=make_key(), Plaintext=b"p")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId=make_key())
    assert error_code(exc) == "IncorrectKeyException"


def test_a_blob_from_account_a_does_not_decrypt_in_account_b(endpoint, kms, make_key):
    key_id = make_key()
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"tenant a")["CiphertextBlob"]
    other = client_for(endpoint, "kms", access_key="111122223333")
    with pytest.raises(ClientError) as exc:
        other.decrypt(CiphertextBlob=blob)
    assert error_code(exc) == "InvalidCiphertextException"
    # Nor does naming A's key by ARN help: the key is not B's.
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        other.decrypt(CiphertextBlob=blob, KeyId=arn)
    assert error_code(exc) == "NotFoundException"
    # B's own key of the same name (alias/aws/ssm) does not open it either.
    managed = kms.encrypt(KeyId="alias/aws/ssm", Plaintext=b"x")["CiphertextBlob"]
    other.describe_key(KeyId="alias/aws/ssm")
    with pytest.raises(ClientError) as exc:
        other.decrypt(CiphertextBlob=managed)
    assert error_code(exc) == "InvalidCiphertextException"


def test_a_blob_does_not_decrypt_in_another_region(endpoint, kms, make_key):
    blob = kms.encrypt(KeyId=make_key(), Plaintext=b"p")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        client_for(endpoint, "kms", region="eu-west-1").decrypt(CiphertextBlob=blob)
    assert error_code(exc) == "InvalidCiphertextException"


def test_unknown_keys(kms):
    for key_id, fragment in (
        ("11111111-2222-3333-4444-555555555555", "does not exist"),
        ("arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555", "does not exist"),
        ("alias/does-not-exist", "is not found"),
        ("not-a-key-id", "Invalid keyId not-a-key-id"),
    ):
        with pytest.raises(ClientError) as exc:
            kms.encrypt(KeyId=key_id, Plaintext=b"p")
        assert error_code(exc) == "NotFoundException"
        assert fragment in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId="not-a-key-id")
    assert exc.value.response["Error"]["Message"] == "Invalid keyId not-a-key-id"
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
    assert exc.value.response["Error"]["Message"] == (
        "Key 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555' does not exist"
    )


def test_disabled_and_pending_deletion_keys_refuse_to_work(kms, make_key):
    key_id = make_key()
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"p")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    for call in (
        lambda: kms.encrypt(KeyId=key_id, Plaintext=b"p"),
        lambda: kms.decrypt(CiphertextBlob=blob),
        lambda: kms.generate_data_key(KeyId=key_id, KeySpec="AES_256"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"p"
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    for call in (lambda: kms.encrypt(KeyId=key_id, Plaintext=b"p"), lambda: kms.decrypt(CiphertextBlob=blob)):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "KMSInvalidStateException"
        assert "is pending deletion" in exc.value.response["Error"]["Message"]


def test_plaintext_size_limit(kms, make_key):
    key_id = make_key()
    assert kms.decrypt(CiphertextBlob=kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4096)["CiphertextBlob"])[
        "Plaintext"
    ] == b"x" * 4096
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4097)
    assert error_code(exc) == "ValidationException"


def test_generate_data_key(kms, make_key):
    key_id = make_key()
    for params, size in (({"KeySpec": "AES_256"}, 32), ({"KeySpec": "AES_128"}, 16), ({"NumberOfBytes": 7}, 7)):
        out = kms.generate_data_key(KeyId=key_id, EncryptionContext={"k": "v"}, **params)
        assert len(out["Plaintext"]) == size
        back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"k": "v"})
        assert back["Plaintext"] == out["Plaintext"]
    out = kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256")
    assert "Plaintext" not in out
    assert len(kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"]) == 32


def test_generate_data_key_needs_exactly_one_size(kms, raw_kms, make_key):
    key_id = make_key()
    for params in ({}, {"KeySpec": "AES_256", "NumberOfBytes": 32}):
        with pytest.raises(ClientError) as exc:
            kms.generate_data_key(KeyId=key_id, **params)
        assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        raw_kms.generate_data_key(KeyId=key_id, NumberOfBytes=1025)
    assert error_code(exc) == "ValidationException"


def test_generate_data_key_needs_a_symmetric_encryption_key(kms, make_key):
    key_id = make_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"p")
    assert error_code(exc) == "InvalidKeyUsageException"


def test_generate_data_key_pair(kms, make_key):
    key_id = make_key()
    out = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256")
    private = serialization.load_der_private_key(out["PrivateKeyPlaintext"], password=None)
    public = serialization.load_der_public_key(out["PublicKey"])
    assert private.public_key().public_numbers() == public.public_numbers()
    assert kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"])["Plaintext"] == out["PrivateKeyPlaintext"]
    bare = kms.generate_data_key_pair_without_plaintext(KeyId=key_id, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in bare
    private = serialization.load_der_private_key(
        kms.decrypt(CiphertextBlob=bare["PrivateKeyCiphertextBlob"])["Plaintext"], password=None
    )
    assert private.key_size == 2048


def test_generate_random(kms, raw_kms):
    a, b = (kms.generate_random(NumberOfBytes=1024)["Plaintext"] for _ in range(2))
    assert len(a) == 1024 and a != b
    assert len(kms.generate_random(NumberOfBytes=1)["Plaintext"]) == 1
    for bad in (0, 1025):
        with pytest.raises(ClientError) as exc:
            raw_kms.generate_random(NumberOfBytes=bad)
        assert error_code(exc) == "ValidationException"


def test_re_encrypt_moves_a_ciphertext_to_another_key_and_context(kms, make_key):
    source, target = make_key(), make_key()
    blob = kms.encrypt(KeyId=source, Plaintext=b"move me", EncryptionContext={"a": "1"})["CiphertextBlob"]
    out = kms.re_encrypt(
        CiphertextBlob=blob,
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=target,
        DestinationEncryptionContext={"b": "2"},
    )
    assert out["SourceKeyId"].endswith(source) and out["KeyId"].endswith(target)
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"b": "2"})["Plaintext"] == b"move me"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=out["CiphertextBlob"], KeyId=source, EncryptionContext={"b": "2"})
    assert error_code(exc) == "IncorrectKeyException"
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=target)  # source context missing
    assert error_code(exc) == "InvalidCiphertextException"


def test_rsa_encryption_keys(kms, make_key):
    key_id = make_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"rsa", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    out = kms.decrypt(CiphertextBlob=blob, KeyId=key_id, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert out["Plaintext"] == b"rsa"
    # Anyone with the public key can encrypt for KMS to decrypt: the ciphertext is plain RSA-OAEP.
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    local = public.encrypt(b"local", padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
    assert kms.decrypt(CiphertextBlob=local, KeyId=key_id, EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"] == b"local"
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"rsa")  # SYMMETRIC_DEFAULT is not this key's algorithm
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)  # an RSA ciphertext does not say which key made it
    assert error_code(exc) == "InvalidCiphertextException"


def test_dry_run(kms, make_key):
    key_id = make_key()
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"p", DryRun=True)
    assert error_code(exc) == "DryRunOperationException"
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"p", DryRun=True)
    assert error_code(exc) == "DisabledException"

