"""Node.js functions find the AWS SDK for JavaScript v3, as AWS's nodejs18.x and later runtimes include it.

The SDK is installed once per test session with ``stratus lambda-sdk install`` (npm and the npm
registry; the tests skip when either is missing, or reuse the install named by
``STRATUS_LAMBDA_SDK_DIR``, which ``.ci/run`` makes). Functions then call stratus through the
SDK with nothing but what Lambda sets: ``AWS_ENDPOINT_URL``, the region and the role's credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratus.services.lambda_.runtime import node_sdk
from tests.conftest import ServerProcess, client_for, live_server
from tests.helpers import receive
from tests.integration.lambda_.conftest import ROLE, ensure_role, make_zip

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

SEND_CJS = """
const { SQSClient, SendMessageCommand } = require("@aws-sdk/client-sqs");
const sqs = new SQSClient({});
exports.handler = async (event) => {
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl: event.queueUrl, MessageBody: event.body }));
  return { messageId: sent.MessageId, from: require.resolve("@aws-sdk/client-sqs") };
};
"""

SEND_ESM = """
import { SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
const sqs = new SQSClient({});
export const handler = async (event) => {
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl: event.queueUrl, MessageBody: event.body }));
  return { messageId: sent.MessageId, from: import.meta.resolve("@aws-sdk/client-sqs"), lib: typeof DynamoDBDocumentClient };
};
"""


@pytest.fixture(scope="session")
def sdk_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the SDK installed by ``stratus lambda-sdk install --node``, once per session."""
    configured = os.environ.get(node_sdk.ENV_VAR)
    if configured and node_sdk.node_modules(Path(configured)):
        return Path(configured)
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: stratus lambda-sdk install cannot fetch the AWS SDK for JavaScript")
    try:
        probe = subprocess.run(["npm", "view", "@aws-sdk/client-sqs", "version"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.skip("the npm registry did not answer within 60 s")
    if probe.returncode != 0:
        pytest.skip(f"the npm registry is unreachable: {probe.stderr.strip()[:300]}")
    root = tmp_path_factory.mktemp("lambda-sdk")
    subprocess.run([sys.executable, "-m", "stratus", "lambda-sdk", "install", "--node", "--dir", str(root)], check=True, timeout=900)
    assert node_sdk.node_modules(root) is not None
    return root


def _server(backend: str, data_dir: Path, sdk_dir: Path) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as patch:
        # The server (a child process) reads it at each environment start.
        patch.setenv(node_sdk.ENV_VAR, str(sdk_dir))
        with live_server(backend, data_dir) as server:
            patch.undo()
            yield server


@pytest.fixture(scope="module")
def with_sdk(backend: str, sdk_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _server(backend, tmp_path_factory.mktemp(f"sdk-{backend}"), sdk_root)


@pytest.fixture(scope="module")
def without_sdk(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _server(backend, tmp_path_factory.mktemp(f"nosdk-{backend}"), tmp_path_factory.mktemp("empty-sdk"))


def _function(endpoint: str, name: str, files: dict[str, str], handler: str, runtime: str = "nodejs20.x", **extra: Any) -> Any:
    ensure_role(endpoint)
    lam = client_for(endpoint, "lambda")
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler, Code={"ZipFile": make_zip(files)}, **extra)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return lam


def _invoke(lam: Any, name: str, event: object) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return response, json.loads(response["Payload"].read())


@pytest.mark.parametrize(("files", "handler"), [
    ({"index.js": SEND_CJS}, "index.handler"),
    ({"index.mjs": SEND_ESM}, "index.handler"),
    ({"package.json": '{"type": "module"}', "src/app.js": SEND_ESM}, "src/app.handler"),
], ids=["commonjs", "esm", "esm-type-module"])
def test_function_sends_to_sqs_with_the_sdk(with_sdk: ServerProcess, sdk_root: Path, unique: Any, files: dict[str, str], handler: str) -> None:
    sqs = client_for(with_sdk.endpoint, "sqs")
    url = sqs.create_queue(QueueName=unique("sdk"))["QueueUrl"]
    name = unique("fn")
    lam = _function(with_sdk.endpoint, name, files, handler)
    response, body = _invoke(lam, name, {"queueUrl": url, "body": f"hello from {name}"})
    assert "FunctionError" not in response, body
    # The function used the installed SDK (not one of its own), and it reached this stratus.
    assert str(sdk_root.resolve() / "node" / "node_modules" / "@aws-sdk" / "client-sqs") in body["from"]
    assert body.get("lib", "function") == "function"
    messages = receive(sqs, url, 1)
    assert [(m["MessageId"], m["Body"]) for m in messages] == [(body["messageId"], f"hello from {name}")]


def test_function_bundled_sdk_wins(with_sdk: ServerProcess, unique: Any) -> None:
    package = json.dumps({"name": "@aws-sdk/client-sqs", "version": "0.0.0-bundled", "main": "index.js"})
    files = {
        "node_modules/@aws-sdk/client-sqs/package.json": package,
        "node_modules/@aws-sdk/client-sqs/index.js": "exports.bundled = true;\n",
        "index.js": "exports.handler = async () => require('@aws-sdk/client-sqs').bundled;\n",
        "esm.mjs": "import sqs from '@aws-sdk/client-sqs';\nexport const handler = async () => sqs.bundled;\n",
    }
    name = unique("fn")
    lam = _function(with_sdk.endpoint, name, files, "index.handler")
    assert _invoke(lam, name, {})[1] is True
    lam.update_function_configuration(FunctionName=name, Handler="esm.handler")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    assert _invoke(lam, name, {})[1] is True


@pytest.mark.parametrize(("files", "handler", "missing"), [
    ({"index.js": SEND_CJS}, "index.handler", "Cannot find module '@aws-sdk/client-sqs'"),
    ({"index.mjs": SEND_ESM}, "index.handler", "Cannot find package '@aws-sdk/client-sqs'"),
], ids=["commonjs", "esm"])
def test_missing_sdk_says_how_to_install_it(without_sdk: ServerProcess, unique: Any, files: dict[str, str], handler: str, missing: str) -> None:
    name = unique("fn")
    lam = _function(without_sdk.endpoint, name, files, handler)
    response, body = _invoke(lam, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith(f"Error: {missing}")
    assert body["errorMessage"].endswith(node_sdk.MISSING_HINT)


def test_missing_other_module_has_no_sdk_hint(without_sdk: ServerProcess, unique: Any) -> None:
    name = unique("fn")
    lam = _function(without_sdk.endpoint, name, {"index.js": "require('left-pad');\nexports.handler = async () => 1;\n"}, "index.handler")
    body = _invoke(lam, name, {})[1]
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "Cannot find module 'left-pad'" in body["errorMessage"]
    assert node_sdk.INSTALL_COMMAND not in body["errorMessage"]


def test_esm_imports_search_layers_on_node_path(without_sdk: ServerProcess, unique: Any) -> None:
    # From nodejs18.x, AWS's runtime searches NODE_PATH (the layers' nodejs/node_modules) for ES module imports too.
    lam = client_for(without_sdk.endpoint, "lambda")
    layer = lam.publish_layer_version(LayerName=unique("layer"), Content={"ZipFile": make_zip({
        "nodejs/node_modules/greeting/package.json": json.dumps({"name": "greeting", "type": "module", "exports": "./main.js"}),
        "nodejs/node_modules/greeting/main.js": "export const greet = (who) => `hello ${who}`;\n",
    })})["LayerVersionArn"]
    name = unique("fn")
    code = {"index.mjs": "import { greet } from 'greeting';\nexport const handler = async (event) => greet(event.who);\n"}
    lam = _function(without_sdk.endpoint, name, code, "index.handler", Layers=[layer])
    response, body = _invoke(lam, name, {"who": "layers"})
    assert "FunctionError" not in response, body
    assert body == "hello layers"
