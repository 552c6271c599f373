"""The AWS SDK for JavaScript v3 that Node.js functions find, as AWS's nodejs18.x+ runtimes include it.

On AWS the SDK sits in ``/var/runtime/node_modules``, on ``NODE_PATH`` after the layers. stratus is
a pip package and cannot ship npm packages, so ``stratus lambda-sdk install --node`` runs ``npm
install`` of the client packages functions commonly use into ``<sdk root>/node`` (the npm
registry's current releases, nothing pinned; ``stratus-sdk.json`` and npm's lock file there record
what was installed). ``launch.py`` puts its ``node_modules`` on ``NODE_PATH`` when it is there,
checked at each environment start, so an install made while stratus runs serves the next cold start.

The SDK root is per user, not per data directory: it is a tool of the host, shared by every
stratus data directory, like the host's boto3 is for Python functions. ``STRATUS_LAMBDA_SDK_DIR``
moves it (read by ``stratus up`` and ``stratus lambda-sdk`` alike).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ENV_VAR = "STRATUS_LAMBDA_SDK_DIR"
MANIFEST = "stratus-sdk.json"
INSTALL_COMMAND = "stratus lambda-sdk install --node"
# Appended by the Node.js runtime client to an ImportModuleError for an ``@aws-sdk/*`` module.
MISSING_HINT = (
    "stratus has no AWS SDK for JavaScript v3 to offer Node.js functions (AWS's nodejs18.x and later "
    f"runtimes include it): run `{INSTALL_COMMAND}` on the stratus host, or bundle the SDK with the function."
)

# The clients Lambda functions commonly use (the runtime on AWS includes every client; these cover
# the services stratus serves and the usual helpers). More can be added by name at install.
PACKAGES = (
    "@aws-sdk/client-sqs",
    "@aws-sdk/client-sns",
    "@aws-sdk/client-eventbridge",
    "@aws-sdk/client-lambda",
    "@aws-sdk/client-dynamodb",
    "@aws-sdk/lib-dynamodb",
    "@aws-sdk/client-s3",
    "@aws-sdk/s3-request-presigner",
    "@aws-sdk/client-sfn",
    "@aws-sdk/client-ssm",
    "@aws-sdk/client-secrets-manager",
    "@aws-sdk/client-kms",
    "@aws-sdk/client-sts",
    "@aws-sdk/client-cloudwatch-logs",
    "@aws-sdk/client-cloudwatch",
    "@aws-sdk/client-scheduler",
    "@aws-sdk/client-apigatewaymanagementapi",
    "@aws-sdk/client-iam",
    "@aws-sdk/credential-providers",
)

_PACKAGE_NAME = re.compile(r"^@aws-sdk/[a-z0-9][a-z0-9._-]*$")


class InstallError(Exception):
    """npm is missing, the registry cannot be reached, or the install failed."""


def sdk_root() -> Path:
    """Where stratus keeps the Lambda runtimes' SDKs: ``$STRATUS_LAMBDA_SDK_DIR`` or the user's data dir."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "stratus" / "lambda-sdk"


def includes_sdk(runtime: str) -> bool:
    """Whether AWS's ``runtime`` includes the SDK v3 (nodejs18.x and later; nodejs16.x had v2)."""
    match = re.match(r"nodejs(\d+)", runtime)
    return bool(match) and int(match.group(1)) >= 18


def esm_handler(code_dir: Path, handler: str) -> bool:
    """Whether the runtime client will load ``handler``'s module as an ES module (as node_client.cjs looks).

    Only then does the environment preload the hook that lets ES module imports search NODE_PATH:
    registering it starts node's module loader thread, about 40 ms more on every cold start,
    which CommonJS handlers do not need (``require`` searches NODE_PATH itself).
    """
    module = handler.split(".", 1)[0] if "." in handler else ""  # "dir/file.export.path": the file is before the first dot
    if not module:
        return False
    base = code_dir / module
    for ext in (".js", ".mjs", ".cjs"):
        path = base.with_name(base.name + ext)
        if path.is_file():
            return ext == ".mjs" or (ext == ".js" and _package_type(path.parent) == "module")
    return False  # not in the package: required from NODE_PATH (a layer)


def _package_type(folder: Path) -> str:
    """The "type" of the nearest package.json, as node finds it."""
    for parent in (folder, *folder.parents):
        try:
            return str(json.loads((parent / "package.json").read_text()).get("type", "commonjs"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, AttributeError):
            return "commonjs"
    return "commonjs"


def node_modules(root: Path | None = None) -> Path | None:
    """The installed SDK's ``node_modules``, or None when ``stratus lambda-sdk install --node`` has not run."""
    target = (root or sdk_root()) / "node"
    # The manifest is written before the finished install is moved into place: present means complete.
    if (target / MANIFEST).is_file() and (target / "node_modules").is_dir():
        return target / "node_modules"
    return None


def manifest(root: Path | None = None) -> dict[str, object] | None:
    """What the last install recorded, or None."""
    path = (root or sdk_root()) / "node" / MANIFEST
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def install_node(root: Path | None = None, extra: Sequence[str] = (), echo: Callable[[str], None] = print) -> dict[str, object]:
    """``npm install`` the SDK v3 clients into ``<root>/node``; answers the manifest written.

    The install is made in a staging folder and swapped in whole, so running functions never see a
    half-installed SDK. Packages added by name before are kept on a reinstall.
    """
    root = root or sdk_root()
    for name in extra:
        if not _PACKAGE_NAME.match(name):
            raise InstallError(f"{name!r} is not an AWS SDK for JavaScript v3 package (@aws-sdk/...)")
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not installed on this host: install Node.js (with npm) first")
    previous = manifest(root) or {}
    earlier = [name for name in previous.get("packages", {}) if name not in PACKAGES]  # type: ignore[union-attr]
    wanted = list(dict.fromkeys([*PACKAGES, *earlier, *extra]))

    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"node.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    (staging / "package.json").write_text(json.dumps(
        {"name": "stratus-lambda-sdk", "private": True, "description": "The AWS SDK for JavaScript v3 for stratus's Node.js functions"},
        indent=2,
    ) + "\n")
    command = [npm, "install", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error", *wanted]
    echo(f"Installing the AWS SDK for JavaScript v3 ({len(wanted)} packages) into {root / 'node'} ...")
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=staging, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise InstallError(f"npm install did not finish: {e}") from e
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise InstallError(f"npm install failed (exit {done.returncode}):\n{(done.stderr or done.stdout).strip()}")
    seconds = time.monotonic() - started

    record: dict[str, object] = {
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "node": _version(["node", "--version"]),
        "npm": _version([npm, "--version"]),
        "install_seconds": round(seconds, 1),
        "packages": {name: _installed_version(staging / "node_modules", name) for name in wanted},
    }
    (staging / MANIFEST).write_text(json.dumps(record, indent=2) + "\n")
    _swap_in(staging, root / "node")
    return record


def _swap_in(staging: Path, target: Path) -> None:
    old = target.with_name(f"node.{os.getpid()}.old")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _installed_version(modules: Path, name: str) -> str:
    try:
        return str(json.loads((modules / name / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return ""


def _version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return ""


def disk_usage(path: Path) -> int:
    """Bytes under ``path`` (files only, symlinks not followed)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total
