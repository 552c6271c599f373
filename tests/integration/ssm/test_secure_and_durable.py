"""SecureString through KMS (never plaintext at rest), the AWS CLI by path, and restarts.

AWS page: "How AWS Systems Manager Parameter Store uses AWS KMS" (encryption context
PARAMETER_ARN; GetParameter without decryption answers the ciphertext).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess, advance, client_for
from tests.helpers import aws_cli, error_code, wait_for

SECRET = "s3cr3t-slack-channel-C0FFEE42"


def _stored_bytes(server: ServerProcess, store_url: str) -> bytes:
    """Everything the store holds for SSM parameter values: the SQLite files or the PostgreSQL rows."""
    if store_url == "sqlite":
        return b"".join(p.read_bytes() for p in server.data_dir.glob("stratus.db*"))
    import psycopg

    with psycopg.connect(store_url) as conn:
        rows = conn.execute("SELECT name, value, data FROM ssm_parameter_versions").fetchall()
    return repr(rows).encode()


def test_secure_string_round_trip_and_not_plaintext_at_rest(
    server_factory: Callable[..., ServerProcess], store_url: str
) -> None:
    server = server_factory().start()
    ssm = client_for(server.endpoint, "ssm")
    ssm.put_parameter(Name="/slack/probe", Value="x", Type="SecureString")
    ssm.put_parameter(Name="/slack/channel", Value=SECRET, Type="SecureString", Description="channel")
    got = ssm.get_parameter(Name="/slack/channel", WithDecryption=True)["Parameter"]
    assert got["Value"] == SECRET and got["Type"] == "SecureString"
    hidden = ssm.get_parameter(Name="/slack/channel")["Parameter"]["Value"]
    assert hidden != SECRET and SECRET.encode() not in base64.b64decode(hidden)
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "KeyId", "Values": ["alias/aws/ssm"]}])["Parameters"]
    assert [m["Name"] for m in meta] == ["/slack/channel", "/slack/probe"]
    by_path = ssm.get_parameters_by_path(Path="/slack", WithDecryption=True)["Parameters"]
    assert {p["Name"]: p["Value"] for p in by_path}["/slack/channel"] == SECRET
    ssm.put_parameter(Name="/slack/channel", Value=SECRET + "-2", Overwrite=True)
    history = ssm.get_parameter_history(Name="/slack/channel", WithDecryption=True)["Parameters"]
    assert [h["Value"] for h in history] == [SECRET, SECRET + "-2"]
    assert all(h["KeyId"] == "alias/aws/ssm" for h in history)
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/slack/other", Value="v", Type="SecureString", KeyId="alias/does-not-exist")
    assert error_code(exc) == "InvalidKeyId"

    stored = _stored_bytes(server, store_url)
    assert b"/slack/channel" in stored  # the check reads the right place
    assert SECRET.encode() not in stored


def test_parameters_survive_a_crash(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory().start()
    ssm = client_for(server.endpoint, "ssm")
    ssm.put_parameter(Name="/mfe/catalog", Value="arn:aws:lambda:us-east-1:000000000000:function:catalog", Type="String",
                      Tags=[{"Key": "team", "Value": "ui"}])
    ssm.put_parameter(Name="/mfe/catalog", Value="https://catalog.internal", Overwrite=True)
    ssm.label_parameter_version(Name="/mfe/catalog", ParameterVersion=1, Labels=["arn"])
    ssm.update_service_setting(SettingId="/ssm/parameter-store/default-parameter-tier", SettingValue="Intelligent-Tiering")
    server.restart()  # SIGKILL, then start again on the same data
    ssm = client_for(server.endpoint, "ssm")
    assert ssm.get_parameter(Name="/mfe/catalog")["Parameter"]["Value"] == "https://catalog.internal"
    assert ssm.get_parameter(Name="/mfe/catalog:arn")["Parameter"]["Version"] == 1
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/mfe/catalog")["TagList"] == [
        {"Key": "team", "Value": "ui"}
    ]
    setting = ssm.get_service_setting(SettingId="/ssm/parameter-store/default-parameter-tier")["ServiceSetting"]
    assert setting["SettingValue"] == "Intelligent-Tiering"


def test_expiration_timer_survives_a_crash(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory().start()
    ssm = client_for(server.endpoint, "ssm")
    due = advance(server.endpoint, 0)["now_ms"] + 3_600_000
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(due / 1000))
    policy = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": stamp}}]
    ssm.put_parameter(Name="/tmp/token", Value="v", Type="String", Tier="Advanced", Policies=json.dumps(policy))
    server.restart()
    ssm = client_for(server.endpoint, "ssm")
    assert ssm.get_parameter(Name="/tmp/token")["Parameter"]["Value"] == "v"
    advance(server.endpoint, 3601)
    assert wait_for(lambda: ssm.get_parameters(Names=["/tmp/token"])["InvalidParameters"], timeout=10), \
        "the Expiration timer did not fire after the restart"


def test_aws_cli_reads_parameters_by_path(ssm: Any, root: str, endpoint: str) -> None:
    ssm.put_parameter(Name=f"{root}/mfe/catalog", Value="https://catalog", Type="String")
    ssm.put_parameter(Name=f"{root}/mfe/reviews/url", Value="https://reviews", Type="String")
    ssm.put_parameter(Name=f"{root}/unrelated", Value="x", Type="String")
    answer = aws_cli(endpoint, "ssm", "get-parameters-by-path", "--path", f"{root}/mfe", "--recursive")
    values = {p["Name"]: p["Value"] for p in answer["Parameters"]}
    assert values == {f"{root}/mfe/catalog": "https://catalog", f"{root}/mfe/reviews/url": "https://reviews"}
