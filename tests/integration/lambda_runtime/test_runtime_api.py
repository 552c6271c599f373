"""The Runtime API server on its own, spoken to over real HTTP as a custom runtime would."""

from __future__ import annotations

import asyncio
import http.client
import json

import pytest

from stratus.services.lambda_.runtime.api import MAX_RESPONSE_BYTES, Invocation, RuntimeApi

pytestmark = pytest.mark.anyio


def call(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, "/2018-06-01/runtime" + path, body=body, headers=headers or {})
    response = conn.getresponse()
    answer = (response.status, dict(response.getheaders()), response.read())
    conn.close()
    return answer


async def test_next_blocks_until_an_invocation_then_answers_with_aws_headers() -> None:
    api = RuntimeApi()
    port = await api.start()
    try:
        waiting = asyncio.ensure_future(asyncio.to_thread(call, port, "GET", "/invocation/next"))
        await asyncio.wait_for(asyncio.shield(api.ready), 10)
        assert not waiting.done()
        invocation = Invocation(
            request_id="req-1", payload=b'{"k": 1}', deadline_ms=1_700_000_000_000,
            invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:f:live",
            trace_id="Root=1-00000000-000000000000000000000000;Sampled=0",
            client_context='{"custom": {}}', cognito_identity='{"cognitoIdentityId": "id"}',
        )
        api.offer(invocation)
        status, headers, body = await asyncio.wait_for(waiting, 10)
        assert status == 200 and body == b'{"k": 1}'
        assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
        assert headers["Lambda-Runtime-Deadline-Ms"] == "1700000000000"
        assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":f:live")
        assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
        assert headers["Lambda-Runtime-Client-Context"] == '{"custom": {}}'
        assert headers["Lambda-Runtime-Cognito-Identity"] == '{"cognitoIdentityId": "id"}'

        status, _, body = await asyncio.to_thread(call, port, "POST", "/invocation/other/response", b"1")
        assert status == 400 and json.loads(body)["errorType"] == "InvalidRequestID"
        status, _, body = await asyncio.to_thread(call, port, "POST", "/invocation/req-1/response", b'"done"')
        assert status == 202 and json.loads(body) == {"status": "OK"}
        assert invocation.answer.result() == ("response", b'"done"', None)
        status, _, _ = await asyncio.to_thread(call, port, "POST", "/invocation/req-1/response", b'"again"')
        assert status == 400
    finally:
        api.close()


async def test_error_and_init_error_and_oversized_responses() -> None:
    api = RuntimeApi()
    port = await api.start()
    try:
        invocation = Invocation(request_id="r", payload=b"{}", deadline_ms=0, invoked_function_arn="arn", trace_id="t")
        api.offer(invocation)
        await asyncio.to_thread(call, port, "GET", "/invocation/next")
        status, _, body = await asyncio.to_thread(call, port, "POST", "/invocation/r/response", b"x" * (MAX_RESPONSE_BYTES + 1))
        assert status == 413 and json.loads(body)["errorType"] == "Function.ResponseSizeTooLarge"
        kind, document, error_type = invocation.answer.result()
        assert (kind, error_type) == ("error", "Function.ResponseSizeTooLarge")

        second = Invocation(request_id="s", payload=b"{}", deadline_ms=0, invoked_function_arn="arn", trace_id="t")
        api.offer(second)
        await asyncio.to_thread(call, port, "GET", "/invocation/next")
        status, _, _ = await asyncio.to_thread(
            call, port, "POST", "/invocation/s/error", b"not json", {"Lambda-Runtime-Function-Error-Type": "Custom.Bad"})
        assert status == 202
        kind, document, error_type = second.answer.result()
        assert (kind, error_type) == ("error", "Custom.Bad")
        assert json.loads(document) == {"errorMessage": "not json", "errorType": "Custom.Bad"}

        body = json.dumps({"errorMessage": "cannot start", "errorType": "Runtime.Custom"}).encode()
        status, _, _ = await asyncio.to_thread(call, port, "POST", "/init/error", body, {"Lambda-Runtime-Function-Error-Type": "Runtime.Custom"})
        assert status == 202
        assert api.init_error.result() == (body, "Runtime.Custom")
        status, _, _ = await asyncio.to_thread(call, port, "GET", "/nowhere")
        assert status == 404
    finally:
        api.close()
