"""The gateway through real clients: routing, accounts and regions, request ids, stratus's own endpoints."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess, client_for
from tests.helpers import queue_arn


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_health_lists_services_and_store(endpoint: str, backend: str) -> None:
    status, health = _get(f"{endpoint}/_stratus/health")
    assert status == 200
    assert health["status"] == "running"
    assert health["store"] == backend
    assert health["services"]["sqs"]["state"] == "running"


def test_unknown_stratus_endpoint_is_404(endpoint: str) -> None:
    status, body = _get(f"{endpoint}/_stratus/nothing-here")
    assert status == 404
    assert "nothing-here" in body["error"]


def test_clock_reads_and_advances(endpoint: str) -> None:
    _, before = _get(f"{endpoint}/_stratus/clock")
    status, raw, _ = _post(f"{endpoint}/_stratus/clock", json.dumps({"advance_seconds": 3600}).encode())
    after = json.loads(raw)
    assert status == 200
    assert after["offset_ms"] - before["offset_ms"] == 3_600_000
    assert after["now_ms"] >= before["now_ms"] + 3_600_000


@pytest.mark.parametrize("body", [b"", b"{}", b'{"advance_seconds": "soon"}', b"not json", b'{"advance_seconds": -5}'])
def test_clock_rejects_bad_bodies_and_stays_put(endpoint: str, body: bytes) -> None:
    _, before = _get(f"{endpoint}/_stratus/clock")
    status, raw, _ = _post(f"{endpoint}/_stratus/clock", body)
    _, after = _get(f"{endpoint}/_stratus/clock")
    assert status == 400
    assert "error" in json.loads(raw)
    assert after["offset_ms"] == before["offset_ms"]


def test_responses_carry_a_request_id(endpoint: str) -> None:
    sqs = client_for(endpoint, "sqs")
    first = sqs.list_queues()["ResponseMetadata"]
    second = sqs.list_queues()["ResponseMetadata"]
    assert first["RequestId"] and first["RequestId"] != second["RequestId"]
    assert first["HTTPHeaders"]["x-amzn-requestid"] == first["RequestId"]


def test_twelve_digit_access_key_selects_the_account(endpoint: str, unique) -> None:
    name = unique("acct")
    other = client_for(endpoint, "sqs", access_key="111122223333")
    url = other.create_queue(QueueName=name)["QueueUrl"]
    assert "/111122223333/" in url
    arn = queue_arn(other, url)
    assert arn == f"arn:aws:sqs:us-east-1:111122223333:{name}"
    default = client_for(endpoint, "sqs")
    with pytest.raises(ClientError) as info:
        default.get_queue_url(QueueName=name)
    assert info.value.response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    # A key that is not 12 digits acts in the default account.
    assert "/000000000000/" in default.create_queue(QueueName=name)["QueueUrl"]


def test_region_comes_from_the_credential_scope(endpoint: str, unique) -> None:
    name = unique("region")
    west = client_for(endpoint, "sqs", region="eu-west-1")
    url = west.create_queue(QueueName=name)["QueueUrl"]
    arn = queue_arn(west, url)
    assert arn.startswith("arn:aws:sqs:eu-west-1:")
    east = client_for(endpoint, "sqs", region="us-east-1")
    assert name not in " ".join(east.list_queues(QueueNamePrefix=name).get("QueueUrls", []))


def test_service_stratus_does_not_implement_says_so(endpoint: str) -> None:
    dynamodb = client_for(endpoint, "dynamodb")
    with pytest.raises(ClientError) as info:
        dynamodb.list_tables()
    error = info.value.response["Error"]
    assert error["Code"] == "UnknownService"
    assert "does not implement" in error["Message"]


def test_unknown_operation_of_a_known_service(endpoint: str) -> None:
    status, raw, _ = _post(
        endpoint,
        b"{}",
        {"X-Amz-Target": "AmazonSQS.LaunchRockets", "Content-Type": "application/x-amz-json-1.0"},
    )
    # AWS's json services answer an unknown X-Amz-Target with 400 and __type UnknownOperationException.
    assert status == 400
    assert json.loads(raw)["__type"] == "UnknownOperationException"


def test_unknown_action_of_a_query_service(endpoint: str) -> None:
    """The query protocol's InvalidAction (the SQS API Reference's Common Errors), in the service's document."""
    from tests.integration.sqs.test_protocols import query

    status, root = query(endpoint, {"Action": "LaunchRockets"})
    assert status == 400
    error = {child.tag.rsplit("}", 1)[-1]: child.text for child in root[0]}
    assert error == {"Type": "Sender", "Code": "InvalidAction", "Detail": None,
                     "Message": "The action LaunchRockets is not valid for this web service."}


def test_unsigned_request_without_target_is_refused(endpoint: str) -> None:
    status, raw, headers = _post(endpoint, b"hello")
    assert status == 400
    assert json.loads(raw)["__type"] == "UnknownService"
    assert headers.get("x-amzn-requestid")


def test_sigterm_shuts_down_cleanly(tmp_path) -> None:
    server = ServerProcess(tmp_path / "node").start()
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    # uvicorn ends by re-raising the signal it handled, so a parent sees why it stopped.
    assert server.proc.wait(15) == -signal.SIGTERM
    log = server.log()
    assert "stratus stopped" in log
    assert "Traceback" not in log
