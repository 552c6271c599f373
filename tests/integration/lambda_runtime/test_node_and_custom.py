"""Node.js functions on the machine's node, and custom runtimes (provided.al2023) with their own bootstrap."""

from __future__ import annotations

import json
import re
import shutil
import textwrap

import pytest

from stratus.services.lambda_.runtime.pool import Runtimes
from tests.integration.lambda_runtime.conftest import CREDENTIALS, MakeSpec

pytestmark = pytest.mark.anyio

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip()


async def invoke(runtimes: Runtimes, spec, event: object, request_id: str = "req-1"):  # type: ignore[no-untyped-def]
    return await runtimes.invoke(spec, json.dumps(event).encode(), request_id=request_id, credentials=CREDENTIALS)


@needs_node
async def test_node_async_handler_commonjs(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("nodejs20.x", "index.handler", {"index.js": code("""
        exports.handler = async (event, context) => {
          console.log("got", event.n, {nested: true});
          return {
            doubled: event.n * 2,
            pid: process.pid,
            requestId: context.awsRequestId,
            functionName: context.functionName,
            memory: context.memoryLimitInMB,
            remaining: context.getRemainingTimeInMillis() > 0,
            region: process.env.AWS_REGION,
            execEnv: process.env.AWS_EXECUTION_ENV,
            trace: process.env._X_AMZN_TRACE_ID,
          };
        };
    """)})
    first = await invoke(runtimes, spec, {"n": 21}, request_id="req-node")
    assert first.function_error is None, first.payload
    body = json.loads(first.payload)
    assert body["doubled"] == 42
    assert body["requestId"] == "req-node"
    assert body["functionName"] == spec.function_name
    assert body["memory"] == "128"
    assert body["remaining"] is True
    assert body["region"] == "us-east-1"
    assert body["execEnv"] == "AWS_Lambda_nodejs20.x"
    assert body["trace"].startswith("Root=1-")
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-node\tINFO\tgot 21 \{ nested: true \}\n", first.log_tail)
    second = await invoke(runtimes, spec, {"n": 1})
    assert json.loads(second.payload)["pid"] == body["pid"]


@needs_node
async def test_node_callback_handler_and_esm(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    callback = make_spec("nodejs20.x", "app.handler", {"app.js": code("""
        exports.handler = function (event, context, callback) {
          setTimeout(() => callback(null, {style: "callback", value: event.value}), 10);
        };
    """)})
    assert json.loads((await invoke(runtimes, callback, {"value": "v"})).payload) == {"style": "callback", "value": "v"}
    esm = make_spec("nodejs20.x", "lib/handler.main", {"lib/handler.mjs": code("""
        import { createHash } from "node:crypto";
        export const main = async (event) => createHash("sha256").update(event.text).digest("hex").slice(0, 8);
    """)})
    result = await invoke(runtimes, esm, {"text": "abc"})
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == "ba7816bf"


@needs_node
async def test_node_errors(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("nodejs20.x", "index.handler", {"index.js": code("""
        class OrderError extends Error { constructor(m) { super(m); this.name = "OrderError"; } }
        exports.handler = async (event) => {
          throw new OrderError("order " + event.id + " is invalid");
        };
    """)})
    result = await invoke(runtimes, spec, {"id": 7}, request_id="req-bad")
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "OrderError"
    assert error["errorMessage"] == "order 7 is invalid"
    assert error["trace"][0] == "OrderError: order 7 is invalid"
    assert "\treq-bad\tERROR\tInvoke Error \t{\"errorType\":\"OrderError\"" in result.log_tail

    missing = make_spec("nodejs20.x", "index.nope", {"index.js": "exports.handler = async () => 1;\n"})
    result = await invoke(runtimes, missing, {})
    assert result.error_type == "Runtime.HandlerNotFound"
    assert json.loads(result.payload)["errorMessage"] == "index.nope is undefined or not exported"

    broken = make_spec("nodejs20.x", "index.handler", {"index.js": "exports.handler = async () => {;\n"})
    result = await invoke(runtimes, broken, {})
    assert result.error_type == "Runtime.UserCodeSyntaxError"
    assert json.loads(result.payload)["errorMessage"].startswith("SyntaxError: ")


@needs_curl
async def test_provided_al2023_shell_bootstrap(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    bootstrap = code("""
        #!/bin/sh
        set -eu
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        echo "bootstrap starting for ${AWS_LAMBDA_FUNCTION_NAME}"
        while true; do
          HEADERS="$(mktemp)"
          EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
          REQUEST_ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r\\n')
          echo "handling $REQUEST_ID"
          if echo "$EVENT" | grep -q fail; then
            curl -sS -X POST -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" \\
              -d '{"errorMessage":"asked to fail","errorType":"Custom.Failure"}' "$API/invocation/$REQUEST_ID/error" >/dev/null
          else
            curl -sS -X POST -d "{\\"echo\\": $EVENT, \\"pid\\": $$, \\"handler\\": \\"$_HANDLER\\"}" "$API/invocation/$REQUEST_ID/response" >/dev/null
          fi
          rm -f "$HEADERS"
        done
    """)
    spec = make_spec("provided.al2023", "my.handler", {"bootstrap": bootstrap})
    first = await invoke(runtimes, spec, {"a": 1}, request_id="req-sh1")
    assert first.function_error is None, first.payload
    body = json.loads(first.payload)
    assert body["echo"] == {"a": 1} and body["handler"] == "my.handler"
    assert f"bootstrap starting for {spec.function_name}\n" in first.log_tail
    assert "handling req-sh1\n" in first.log_tail
    second = await invoke(runtimes, spec, {"b": 2}, request_id="req-sh2")
    assert json.loads(second.payload)["pid"] == body["pid"]
    failed = await invoke(runtimes, spec, {"fail": True})
    assert failed.function_error == "Unhandled"
    assert json.loads(failed.payload) == {"errorMessage": "asked to fail", "errorType": "Custom.Failure"}


async def test_provided_without_a_usable_bootstrap(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    missing = make_spec("provided.al2", "x", {"README": "no bootstrap here\n"})
    result = await invoke(runtimes, missing, {}, request_id="req-none")
    assert result.error_type == "Runtime.InvalidEntrypoint"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    assert error["errorMessage"].startswith("RequestId: req-none Error: Couldn't find valid bootstrap(s): [")

    not_executable = make_spec("provided.al2023", "x", {"bootstrap": "#!/bin/sh\n"}, executable=())
    result = await invoke(runtimes, not_executable, {}, request_id="req-noexec")
    assert json.loads(result.payload)["errorMessage"].endswith("/bootstrap: permission denied")

    crashing = make_spec("provided.al2023", "x", {"bootstrap": "#!/bin/sh\necho 'cannot start' >&2\nexit 2\n"})
    result = await invoke(runtimes, crashing, {}, request_id="req-crash")
    assert result.error_type == "Runtime.ExitError"
    assert json.loads(result.payload)["errorMessage"] == "RequestId: req-crash Error: Runtime exited with error: exit status 2"
    assert "cannot start\n" in result.log_tail


async def test_runtimes_stratus_cannot_run_say_so(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    java = make_spec("java21", "example.Handler::handleRequest", {"README": "a jar would be here\n"})
    result = await invoke(runtimes, java, {}, request_id="req-java")
    assert result.error_type == "Runtime.InvalidEntrypoint"
    message = json.loads(result.payload)["errorMessage"]
    assert message == (
        "RequestId: req-java Error: stratus cannot run the java21 runtime yet: "
        "python3.x, nodejs* and provided.* functions run"
    )
