"""Fixtures shared by every test: live stratus servers on loopback ports, on both stores.

Integration tests talk to a real ``stratus up`` process with real clients. The
``endpoint`` fixture is parametrized over SQLite and PostgreSQL (PostgreSQL when
``STRATUS_TEST_POSTGRES`` holds a server URL; CI sets it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import queue_arn, server_now_ms

POSTGRES = os.environ.get("STRATUS_TEST_POSTGRES", "")
BACKENDS = ["sqlite", "postgresql"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_pg_database() -> str:
    """A new, empty PostgreSQL database on the test server; answers its URL."""
    import psycopg

    name = f"stratus_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ServerProcess:
    """A ``stratus up`` process on a loopback port, which tests can kill and start again."""

    def __init__(self, data_dir: Path, store: str = "sqlite", port: int | None = None) -> None:
        self.data_dir = data_dir
        self.store = store
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        cmd = [sys.executable, "-m", "stratus", "up", "--port", str(self.port), "--data", str(self.data_dir), "--store", self.store]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stratus exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_stratus/health", timeout=1) as resp:
                    if json.load(resp)["status"] == "running":
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"stratus did not become healthy in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown work at all, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> ServerProcess:
        self.kill()
        return self.start()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not POSTGRES:
        pytest.skip("STRATUS_TEST_POSTGRES is not set")
    return request.param


@pytest.fixture
def store_url(backend: str) -> Iterator[str]:
    """A fresh store for one test: 'sqlite' or a new PostgreSQL database (dropped afterwards)."""
    if backend == "sqlite":
        yield "sqlite"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def server_factory(tmp_path: Path, store_url: str) -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers for one test (restarts, several nodes on one database)."""
    servers: list[ServerProcess] = []

    def make(data_dir: Path | None = None, store: str | None = None) -> ServerProcess:
        server = ServerProcess(data_dir or tmp_path / f"node{len(servers)}", store or store_url)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill()


@contextmanager
def live_server(backend: str, data_dir: Path) -> Iterator[ServerProcess]:
    """A started server on a store of its own (a new PostgreSQL database, dropped afterwards)."""
    url = create_pg_database() if backend == "postgresql" else "sqlite"
    server = ServerProcess(data_dir, url).start()
    try:
        yield server
    finally:
        server.stop()
        if backend == "postgresql":
            drop_pg_database(url)


@pytest.fixture(scope="session")
def _session_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with live_server(backend, tmp_path_factory.mktemp(f"stratus-{backend}")) as server:
        yield server


@pytest.fixture
def endpoint(_session_server: ServerProcess) -> str:
    """The URL of a live stratus server shared by the tests of one backend."""
    return _session_server.endpoint


def client_for(endpoint: str, service: str, region: str = "us-east-1", access_key: str = "test",  # type: ignore[no-untyped-def]
               secret_key: str = "test", session_token: str | None = None, **config: object):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture
def sqs(endpoint: str):  # type: ignore[no-untyped-def]
    return client_for(endpoint, "sqs")


@pytest.fixture
def make_queue(sqs: Any, unique: Callable[[str], str]) -> Callable[..., tuple[str, str]]:
    """Create a queue with a unique name (``fifo=True``: a FIFO queue); answer ``(url, arn)``."""

    def make(prefix: str = "q", fifo: bool = False, client: Any = None, **attributes: str) -> tuple[str, str]:
        client = client or sqs
        name = unique(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoQueue"] = "true"
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, queue_arn(client, url)

    return make


def advance(endpoint: str, seconds: float) -> dict:
    req = urllib.request.Request(
        f"{endpoint}/_stratus/clock",
        data=json.dumps({"advance_seconds": seconds}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


@pytest.fixture
def advance_clock(endpoint: str) -> Callable[[float], dict]:
    """Move the stratus clock of the shared server forward by N seconds."""
    return lambda seconds: advance(endpoint, seconds)


def server_now(endpoint: str) -> float:
    """The stratus clock of a server, in epoch seconds (tests that advance it move it for every test)."""
    return server_now_ms(endpoint) / 1000


@pytest.fixture
def clock_now(endpoint: str) -> Callable[[], float]:
    """Read the shared server's stratus clock (epoch seconds)."""
    return lambda: server_now(endpoint)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Unique resource names, so tests can share one server."""
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:10]}"
