"""How each Lambda runtime starts: the command, and the environment Lambda gives the process.

- ``python3.X``: the matching interpreter (``python3.X`` on the PATH, or a pyenv install of
  3.X when the PATH has only a shim), else the host's with a warning in the function's log;
  it runs our runtime client ``clients/python_client.py`` with ``-S``: like on AWS, the
  function sees the standard library, its package, its layers and the AWS SDK for Python
  (the host's boto3, exposed through a private folder), not the host's site-packages.
- ``nodejs*``: the machine's ``node`` running ``clients/node_client.cjs``. For nodejs18.x and
  later, as on AWS, the AWS SDK for JavaScript v3 is on ``NODE_PATH`` (after the layers) once
  ``stratus lambda-sdk install --node`` has installed it (``node_sdk.py``), and ES module imports
  search ``NODE_PATH`` too when the handler is an ES module (``clients/node_esm_paths.mjs``,
  preloaded with ``--import``).
- ``provided*``: the package's ``bootstrap`` (or a layer's, as ``/opt/bootstrap`` on AWS).

Differences from AWS that a function can see: ``/opt`` is not at ``/opt`` (a process cannot
get a private ``/opt`` without root); layers are merged into a per-function folder named
by ``STRATUS_OPT_DIR`` and wired into ``PYTHONPATH``, ``NODE_PATH``, ``PATH`` and
``LD_LIBRARY_PATH`` where AWS wires ``/opt``. ``/tmp`` likewise is a private folder named by
``TMPDIR``; ``LAMBDA_TASK_ROOT`` is the extracted package, not ``/var/task``.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from stratus.services.lambda_.runtime import node_sdk
from stratus.services.lambda_.runtime.spec import FunctionSpec

log = logging.getLogger("stratus.lambda.runtime")

CLIENTS_DIR = Path(__file__).resolve().parent / "clients"
PYTHON_CLIENT = CLIENTS_DIR / "python_client.py"
NODE_CLIENT = CLIENTS_DIR / "node_client.cjs"
NODE_ESM_PATHS = CLIENTS_DIR / "node_esm_register.mjs"

# Variables the function's own configuration cannot override (AWS rejects them at create).
RESERVED = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})

# The AWS SDK for Python as the Lambda Python runtimes include it (all pure Python).
SDK_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


@dataclass(frozen=True, slots=True)
class Launch:
    """What to run for one environment, or why it cannot start."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    warnings: tuple[str, ...] = ()
    # Set when there is nothing to run: (error type, message), reported like AWS does.
    entrypoint_error: tuple[str, str] | None = None


@functools.cache
def python_for(version: str) -> tuple[str, str | None]:
    """(interpreter path, warning) for a ``python3.X`` runtime; probes each candidate once."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    # Highest patch release first; a pyenv shim fails for versions not selected, the install itself runs.
    installs = sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{version}.*", "bin", f"python{version}")), key=_version_key, reverse=True)
    candidates.extend(installs)
    for candidate in candidates:
        if candidate and (real := _probe_python(candidate, version)):
            return real, None
    warning = f"python{version} is not installed on this stratus host; running Python {sys.version.split()[0]} ({sys.executable}) instead."
    return sys.executable, warning


def _version_key(path: str) -> tuple[int, ...]:
    match = re.search(r"versions/(\d+)\.(\d+)\.(\d+)", path)
    return tuple(int(part) for part in match.groups()) if match else (0,)


def _probe_python(candidate: str, version: str) -> str | None:
    """The interpreter's real executable when it runs and is ``version`` (skips pyenv's bash shim on every start)."""
    try:
        out = subprocess.run(
            [candidate, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"],
            capture_output=True, text=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.split("\n")
    if out.returncode != 0 or len(lines) < 2 or lines[0] != version:
        return None
    return lines[1] or candidate


@functools.cache
def node() -> tuple[str | None, str]:
    """(path to node, its version) on this host."""
    path = shutil.which("node")
    if path is None:
        return None, ""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None, ""
    return (path, out.stdout.strip()) if out.returncode == 0 else (None, "")


def sdk_dir(base: Path) -> Path:
    """A folder exposing the host's AWS SDK for Python, as ``/var/runtime`` does on AWS."""
    target = base / "python-sdk"
    if target.exists():
        return target
    staging = base / f"python-sdk.{os.getpid()}.tmp"
    staging.mkdir(parents=True, exist_ok=True)
    for name in SDK_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = staging / source.name
        if not link.exists():
            link.symlink_to(source)
    staging.rename(target)
    return target


def merge_layers(layer_dirs: tuple[Path, ...], target: Path) -> Path:
    """Merge the layers into ``target`` as AWS extracts them into /opt: in order, later files win.

    Files are symlinked, not copied: layers are immutable once published and the merge is per
    function version, shared by its environments.
    """
    target.mkdir(parents=True, exist_ok=True)
    for layer in layer_dirs:
        for root, dirs, files in os.walk(layer):
            rel = Path(root).relative_to(layer)
            (target / rel).mkdir(parents=True, exist_ok=True)
            for name in files:
                link = target / rel / name
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(Path(root) / name)
    return target


def _path_list(*entries: str | Path | None) -> str:
    return os.pathsep.join(str(entry) for entry in entries if entry)


def build(
    spec: FunctionSpec,
    *,
    runtime_api: str,
    endpoint: str,
    credentials: dict[str, str],
    stream_name: str,
    opt_dir: Path,
    tmp_dir: Path,
    sdk: Path | None,
    pycache: Path,
    telemetry_fd: int,
    provisioned: bool,
) -> Launch:
    """The command and environment of one process for ``spec``."""
    code = str(spec.code_dir)
    host_path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    base = {
        "PATH": _path_list(opt_dir / "bin", host_path),
        "LD_LIBRARY_PATH": _path_list(code + "/lib", opt_dir / "lib", os.environ.get("LD_LIBRARY_PATH")),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "TMPDIR": str(tmp_dir),
        "STRATUS_OPT_DIR": str(opt_dir),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }
    reserved = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group or f"/aws/lambda/{spec.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream_name,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency" if provisioned else "on-demand",
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": code,
        "LAMBDA_RUNTIME_DIR": str(CLIENTS_DIR),
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_ACCESS_KEY_ID": credentials.get("AccessKeyId", ""),
        "AWS_SECRET_ACCESS_KEY": credentials.get("SecretAccessKey", ""),
        # AWS's runtime client writes its framed log records here (the telemetry log fd).
        "_LAMBDA_TELEMETRY_LOG_FD": str(telemetry_fd),
    }
    if credentials.get("SessionToken"):
        reserved["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
    if spec.log_format.upper() == "JSON":
        # Lambda tells the runtime client how to format and filter the function's logs.
        reserved["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        reserved["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
    runtime = spec.runtime
    warnings: list[str] = []
    entrypoint_error: tuple[str, str] | None = None
    if runtime.startswith("python"):
        interpreter, warning = python_for(runtime[len("python"):])
        if warning:
            warnings.append(warning)
        version = runtime[len("python"):]
        base["PYTHONPATH"] = _path_list(code, opt_dir / "python" / "lib" / f"python{version}" / "site-packages", opt_dir / "python", sdk)
        reserved["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{runtime}"
        # Bytecode is cached outside the package and layers (read-only on AWS), shared by environments.
        argv = [interpreter, "-S", "-u", "-X", f"pycache_prefix={pycache}", str(PYTHON_CLIENT)]
    elif runtime.startswith("nodejs"):
        path, version = node()
        major = re.match(r"nodejs(\d+)", runtime)
        if path is None:
            entrypoint_error = ("Runtime.InvalidEntrypoint", "Couldn't find node on this stratus host")
            argv = []
        else:
            if major and not version.startswith(f"v{major.group(1)}."):
                warnings.append(f"{runtime} requested; running node {version}, the version on this stratus host.")
            argv = [path, str(NODE_CLIENT)]
        node_major = major.group(1) if major else ""
        # AWS: /opt/nodejs/nodeN/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task.
        # A function's bundled SDK still wins: node searches its own node_modules before NODE_PATH.
        sdk_modules = node_sdk.node_modules() if node_sdk.includes_sdk(runtime) else None
        base["NODE_PATH"] = _path_list(opt_dir / "nodejs" / f"node{node_major}" / "node_modules", opt_dir / "nodejs" / "node_modules", sdk_modules, code)
        if node_sdk.includes_sdk(runtime):
            if argv and node_sdk.esm_handler(spec.code_dir, spec.handler):
                argv[1:1] = ["--import", NODE_ESM_PATHS.as_uri()]
            if sdk_modules is None:
                # The runtime client adds it to an ImportModuleError for an @aws-sdk/* module.
                reserved["_STRATUS_NODE_SDK_HINT"] = node_sdk.MISSING_HINT
        reserved["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{runtime}"
    elif not runtime.startswith("provided"):
        # Java, .NET and Ruby functions are accepted by the API but have no runtime client here.
        entrypoint_error = (
            "Runtime.InvalidEntrypoint",
            f"stratus cannot run the {runtime} runtime yet: python3.x, nodejs* and provided.* functions run",
        )
        argv = []
    else:
        candidates = [spec.code_dir / "bootstrap", opt_dir / "bootstrap"]
        found = next((c for c in candidates if c.is_file()), None)
        argv = [str(found)] if found else []
        if found is None:
            entrypoint_error = ("Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{' '.join(map(str, candidates))}]")
        elif not os.access(found, os.X_OK):
            entrypoint_error = ("Runtime.InvalidEntrypoint", f"fork/exec {found}: permission denied")
    env = dict(base)
    env.update((key, value) for key, value in spec.environment.items() if key not in RESERVED)
    env.update(reserved)
    return Launch(argv=argv, env=env, cwd=code, warnings=tuple(warnings), entrypoint_error=entrypoint_error)


def resolve(runtime: str) -> None:
    """Find (and cache) the interpreter for ``runtime``: blocking, so pools call it in a thread once."""
    if runtime.startswith("python"):
        python_for(runtime[len("python"):])
    elif runtime.startswith("nodejs"):
        node()
