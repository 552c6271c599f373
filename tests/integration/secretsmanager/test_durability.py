"""Secrets survive a crash (SIGKILL), values are encrypted at rest, and the AWS CLI reads them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import client_for
from tests.helpers import aws_cli

pytestmark = pytest.mark.slow

PLAINTEXT = "xoxb-plaintext-bot-token-4f1c2a"


def _stored_values(server, store_url: str) -> list[bytes]:
    """Every stored byte of the secrets tables, as the database holds them."""
    query = "SELECT s.data, v.ciphertext, v.data_key FROM secretsmanager_secrets s JOIN secretsmanager_versions v ON v.secret_id = s.id"
    if store_url == "sqlite":
        server.kill()  # the server holds its SQLite file exclusively while it runs
        with sqlite3.connect(Path(server.data_dir) / "stratus.db") as conn:
            rows = conn.execute(query).fetchall()
    else:
        import psycopg

        with psycopg.connect(store_url) as conn:
            rows = conn.execute(query).fetchall()
    return [bytes(c) if not isinstance(c, str) else c.encode() for row in rows for c in row if c is not None]


def test_values_are_encrypted_at_rest(server_factory, store_url):
    server = server_factory().start()
    sm = client_for(server.endpoint, "secretsmanager")
    sm.create_secret(Name="slack/bot-token", SecretString=PLAINTEXT)
    sm.put_secret_value(SecretId="slack/bot-token", SecretBinary=PLAINTEXT.encode() + b"-binary")
    stored = _stored_values(server, store_url)
    assert len(stored) >= 4
    assert not any(PLAINTEXT.encode() in blob for blob in stored)
    if store_url == "sqlite":
        for path in Path(server.data_dir).glob("stratus.db*"):  # the database and its WAL
            assert PLAINTEXT.encode() not in path.read_bytes()


def test_secrets_survive_sigkill(server_factory):
    server = server_factory().start()
    sm = client_for(server.endpoint, "secretsmanager")
    created = sm.create_secret(
        Name="durable", SecretString="v1", Description="d", Tags=[{"Key": "k", "Value": "v"}]
    )
    v2 = sm.put_secret_value(SecretId="durable", SecretBinary=b"v2")["VersionId"]
    sm.put_resource_policy(
        SecretId="durable",
        ResourcePolicy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
        ),
    )
    scheduled = sm.create_secret(Name="scheduled", SecretString="s")
    sm.delete_secret(SecretId="scheduled", RecoveryWindowInDays=7)

    server.kill()
    server.start()
    sm = client_for(server.endpoint, "secretsmanager")

    described = sm.describe_secret(SecretId=created["ARN"])
    assert described["Description"] == "d"
    assert described["Tags"] == [{"Key": "k", "Value": "v"}]
    assert described["VersionIdsToStages"] == {v2: ["AWSCURRENT"], created["VersionId"]: ["AWSPREVIOUS"]}
    assert sm.get_secret_value(SecretId="durable")["SecretBinary"] == b"v2"
    assert sm.get_secret_value(SecretId="durable", VersionStage="AWSPREVIOUS")["SecretString"] == "v1"
    assert "ResourcePolicy" in sm.get_resource_policy(SecretId="durable")
    assert "DeletedDate" in sm.describe_secret(SecretId=scheduled["ARN"])
    sm.restore_secret(SecretId=scheduled["ARN"])
    assert sm.get_secret_value(SecretId=scheduled["ARN"])["SecretString"] == "s"


def test_aws_cli_reads_a_secret_value(sm, make_secret, endpoint):
    created = make_secret(SecretString='{"signing_secret": "abc123"}')
    answer = aws_cli(endpoint, "secretsmanager", "get-secret-value", "--secret-id", created["Name"])
    assert answer["SecretString"] == '{"signing_secret": "abc123"}'
    assert answer["ARN"] == created["ARN"]
    assert answer["VersionStages"] == ["AWSCURRENT"]
