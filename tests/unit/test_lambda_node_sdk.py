"""Where Node.js functions find the AWS SDK for JavaScript v3 (launch.py and node_sdk.py, no processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratus.services.lambda_.runtime import launch, node_sdk
from stratus.services.lambda_.runtime.spec import FunctionSpec


def _spec(code_dir: Path, runtime: str = "nodejs20.x", handler: str = "index.handler") -> FunctionSpec:
    return FunctionSpec(
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", function_name="f", version="$LATEST",
        account="000000000000", region="us-east-1", runtime=runtime, handler=handler, code_dir=code_dir,
    )


def _build(spec: FunctionSpec, tmp_path: Path) -> launch.Launch:
    return launch.build(
        spec, runtime_api="127.0.0.1:9001", endpoint="http://localhost:4566", credentials={}, stream_name="s",
        opt_dir=tmp_path / "opt", tmp_dir=tmp_path / "tmp", sdk=None, pycache=tmp_path / "pycache", telemetry_fd=3, provisioned=False,
    )


def _fake_install(root: Path) -> Path:
    modules = root / "node" / "node_modules"
    (modules / "@aws-sdk" / "client-sqs").mkdir(parents=True)
    (root / "node" / node_sdk.MANIFEST).write_text(json.dumps({"packages": {"@aws-sdk/client-sqs": "3.0.0"}}))
    return modules


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "index.js").write_text("exports.handler = async () => 1;\n")
    (folder / "esm.mjs").write_text("export const handler = async () => 1;\n")
    return folder


def test_installed_sdk_is_on_node_path_after_the_layers(code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(node_sdk.ENV_VAR, str(tmp_path / "sdk"))
    modules = _fake_install(tmp_path / "sdk")
    plan = _build(_spec(code), tmp_path)
    opt = tmp_path / "opt" / "nodejs"
    # AWS: /opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:...:/var/task
    assert plan.env["NODE_PATH"].split(":") == [str(opt / "node20" / "node_modules"), str(opt / "node_modules"), str(modules), str(code)]
    assert "_STRATUS_NODE_SDK_HINT" not in plan.env
    assert "--import" not in plan.argv  # a CommonJS handler: require() searches NODE_PATH itself
    esm = _build(_spec(code, handler="esm.handler"), tmp_path)
    assert esm.argv[1:3] == ["--import", launch.NODE_ESM_PATHS.as_uri()] and esm.argv[3] == str(launch.NODE_CLIENT)


def test_absent_sdk_sets_the_hint_for_nodejs18_and_later(code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(node_sdk.ENV_VAR, str(tmp_path / "nothing-here"))
    plan = _build(_spec(code), tmp_path)
    assert plan.env["_STRATUS_NODE_SDK_HINT"] == node_sdk.MISSING_HINT
    assert len(plan.env["NODE_PATH"].split(":")) == 3
    # nodejs16.x came with the SDK v2, not v3: neither the SDK nor the hint, and ES modules see no NODE_PATH.
    _fake_install(tmp_path / "nothing-here")
    old = _build(_spec(code, runtime="nodejs16.x", handler="esm.handler"), tmp_path)
    assert "_STRATUS_NODE_SDK_HINT" not in old.env and "--import" not in old.argv
    assert str(tmp_path / "nothing-here") not in old.env["NODE_PATH"]


def test_half_made_install_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "node" / "node_modules" / "@aws-sdk").mkdir(parents=True)  # no manifest: npm did not finish
    assert node_sdk.node_modules(tmp_path) is None
    (tmp_path / "node" / node_sdk.MANIFEST).write_text("{}")
    assert node_sdk.node_modules(tmp_path) == tmp_path / "node" / "node_modules"


def test_sdk_root_default_and_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(node_sdk.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert node_sdk.sdk_root() == tmp_path / "xdg" / "stratus" / "lambda-sdk"
    monkeypatch.setenv(node_sdk.ENV_VAR, str(tmp_path / "mine"))
    assert node_sdk.sdk_root() == tmp_path / "mine"


@pytest.mark.parametrize(("files", "handler", "esm"), [
    ({"index.js": ""}, "index.handler", False),
    ({"index.mjs": ""}, "index.handler", True),
    ({"index.cjs": ""}, "index.handler", False),
    ({"index.js": "", "index.mjs": ""}, "index.handler", False),  # .js is tried first, as the client does
    ({"package.json": '{"type": "module"}', "src/app.js": ""}, "src/app.handler.nested", True),
    ({"package.json": '{"type": "module"}', "src/package.json": "{}", "src/app.js": ""}, "src/app.handler", False),
    ({"package.json": "not json", "app.js": ""}, "app.handler", False),
    ({}, "from-a-layer.handler", False),
    ({"index.mjs": ""}, "nodot", False),
])
def test_esm_handler(tmp_path: Path, files: dict[str, str], handler: str, esm: bool) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert node_sdk.esm_handler(tmp_path, handler) is esm


def test_install_refuses_other_packages_before_running_npm(tmp_path: Path) -> None:
    with pytest.raises(node_sdk.InstallError, match="not an AWS SDK for JavaScript v3 package"):
        node_sdk.install_node(tmp_path, extra=["left-pad"])
    assert not (tmp_path / "node").exists()
