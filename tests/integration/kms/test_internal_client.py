"""Other services call KMS through the internal client, as SSM and Secrets Manager do."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.node import Node
from tests.helpers import run_in_node


def test_a_service_encrypts_with_its_aws_managed_key_in_the_callers_account(tmp_path: Path, store_url: str) -> None:
    async def body(node: Node) -> None:
        kms = node.client(RequestContext(account="777788889999", region="eu-west-1", request_id="r")).kms
        out = await kms.generate_data_key({"KeyId": "alias/aws/ssm", "KeySpec": "AES_256", "EncryptionContext": {"p": "/a"}})
        assert out["KeyId"].startswith("arn:aws:kms:eu-west-1:777788889999:key/")
        back = await kms.decrypt({"CiphertextBlob": out["CiphertextBlob"], "EncryptionContext": {"p": "/a"}})
        assert back["Plaintext"] == out["Plaintext"]
        # A key named by ARN is used in its own account, whoever calls.
        stranger = node.client().kms
        blob = (await stranger.encrypt({"KeyId": out["KeyId"], "Plaintext": b"x"}))["CiphertextBlob"]
        assert (await kms.decrypt({"CiphertextBlob": blob}))["Plaintext"] == b"x"
        with pytest.raises(AwsError) as info:
            await stranger.decrypt({"CiphertextBlob": blob})  # the default account has no such key
        assert info.value.code == "InvalidCiphertextException"

    run_in_node(tmp_path / "data", store_url, body)
