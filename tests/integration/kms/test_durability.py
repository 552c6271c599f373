"""KMS state survives a crash: keys, material, aliases, states and pending deletions."""

from __future__ import annotations

import pytest

from tests.conftest import advance, client_for
from tests.helpers import gone, wait_for

pytestmark = pytest.mark.slow


def test_everything_survives_sigkill(server_factory):
    server = server_factory().start()
    kms = client_for(server.endpoint, "kms")
    key_id = kms.create_key(Description="durable")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/durable", TargetKeyId=key_id)
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "t", "TagValue": "v"}])
    blob = kms.encrypt(KeyId="alias/durable", Plaintext=b"kept", EncryptionContext={"c": "1"})["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=key_id)
    rotated = kms.encrypt(KeyId=key_id, Plaintext=b"after rotation")["CiphertextBlob"]
    managed = kms.encrypt(KeyId="alias/aws/ssm", Plaintext=b"managed")["CiphertextBlob"]
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    public = kms.get_public_key(KeyId=signer)["PublicKey"]
    signature = kms.sign(KeyId=signer, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    doomed = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)

    server.kill()  # SIGKILL: nothing gets flushed or closed
    server.start()
    kms = client_for(server.endpoint, "kms")

    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"c": "1"})["Plaintext"] == b"kept"
    assert kms.decrypt(CiphertextBlob=rotated)["Plaintext"] == b"after rotation"
    assert kms.decrypt(CiphertextBlob=managed)["Plaintext"] == b"managed"
    assert kms.describe_key(KeyId="alias/durable")["KeyMetadata"]["Description"] == "durable"
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "t", "TagValue": "v"}]
    assert kms.get_public_key(KeyId=signer)["PublicKey"] == public
    assert kms.verify(KeyId=signer, Message=b"m", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    assert kms.describe_key(KeyId=disabled)["KeyMetadata"]["KeyState"] == "Disabled"
    assert kms.describe_key(KeyId=doomed)["KeyMetadata"]["KeyState"] == "PendingDeletion"

    advance(server.endpoint, 7 * 86400 + 1)  # the deletion timer outlived the crash
    assert wait_for(lambda: gone(lambda: kms.describe_key(KeyId=doomed), "NotFoundException")), \
        "the scheduled deletion did not happen after the restart"


def _stored_bytes(server, store_url: str) -> bytes:
    """Everything the store holds: the SQLite files (and WAL), or every row of every table of
    the test's own PostgreSQL database."""
    if store_url == "sqlite":
        return b"".join(p.read_bytes() for p in server.data_dir.glob("stratus.db*"))
    import psycopg
    from psycopg import sql

    chunks: list[bytes] = []
    with psycopg.connect(store_url) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for table in tables:
            for row in conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))):
                chunks += [bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row]
    return b"\0".join(chunks)


def test_plaintexts_are_not_at_rest(server_factory, store_url):
    server = server_factory().start()
    kms = client_for(server.endpoint, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    secret = b"a very recognisable plaintext"
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")["Plaintext"]
    kms.encrypt(KeyId=key_id, Plaintext=secret)
    server.kill()
    raw = _stored_bytes(server, store_url)
    assert key_id.encode() in raw  # the right place
    assert secret not in raw and data_key not in raw
