"""Fixtures for the function runtime: ``Runtimes`` in-process, real function code, real processes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from stratus.services.lambda_.runtime.pool import Runtimes
from stratus.services.lambda_.runtime.spec import FunctionSpec

ACCOUNT = "000000000000"
REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:4566"
CREDENTIALS = {"AccessKeyId": "ASIAFUNCTIONROLE", "SecretAccessKey": "secret", "SessionToken": "token"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class LogSink:
    """Collects what the runtime delivers, as the provider's CloudWatch Logs writer would."""

    def __init__(self) -> None:
        self.batches: list[tuple[FunctionSpec, str, list[tuple[int, str]]]] = []

    async def __call__(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        self.batches.append((spec, stream, events))

    def messages(self) -> list[str]:
        return [message for _, _, events in self.batches for _, message in events]


@pytest.fixture
def sink() -> LogSink:
    return LogSink()


@pytest.fixture
async def runtimes(sink: LogSink, tmp_path: Path) -> AsyncIterator[Runtimes]:
    runtimes = Runtimes(endpoint=ENDPOINT, log_sink=sink, work_dir=tmp_path / "runtimes")
    yield runtimes
    await runtimes.close()


MakeSpec = Callable[..., FunctionSpec]


@pytest.fixture
def make_spec(tmp_path: Path) -> MakeSpec:
    """A function version whose package holds ``files`` (name -> text; ``bootstrap`` is made executable)."""
    counter = iter(range(1_000_000))

    def make(runtime: str, handler: str, files: dict[str, str], *, name: str | None = None, executable: tuple[str, ...] = ("bootstrap",), **fields: object) -> FunctionSpec:
        name = name or f"fn{next(counter)}"
        code_dir = tmp_path / "code" / name
        for rel, text in files.items():
            path = code_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if rel in executable:
                os.chmod(path, 0o755)
        code_dir.mkdir(parents=True, exist_ok=True)
        version = str(fields.pop("version", "$LATEST"))
        return FunctionSpec(
            function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:{version}",
            function_name=name, version=version, account=ACCOUNT, region=REGION, runtime=runtime,
            handler=handler, code_dir=code_dir, log_group=f"/aws/lambda/{name}", **fields,  # type: ignore[arg-type]
        )

    return make
