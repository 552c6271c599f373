"""Every setting of a stratus node, once: a command-line flag with a ``STRATUS_*`` variable behind it."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path(".stratus")
    # "sqlite" (a file in data_dir) or a "postgresql://..." URL shared by several nodes.
    store: str = "sqlite"
    log_level: str = "info"
    # Lambda's account concurrency limit (AWS's default quota is 1000 per account and region).
    lambda_concurrency: int = 1000

    @property
    def endpoint(self) -> str:
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::", "::1") else self.host
        return f"http://{host}:{self.port}"


# (flag, field, STRATUS_* variable, type, help)
_SETTINGS = [
    ("--host", "host", "STRATUS_HOST", str, "address to listen on"),
    ("--port", "port", "STRATUS_PORT", int, "port to listen on"),
    ("--data", "data_dir", "STRATUS_DATA", Path, "directory for state (SQLite file, blobs)"),
    ("--store", "store", "STRATUS_STORE", str, "'sqlite' (default) or a postgresql:// URL"),
    ("--log-level", "log_level", "STRATUS_LOG_LEVEL", str, "debug, info, warning or error"),
    ("--lambda-concurrency", "lambda_concurrency", "STRATUS_LAMBDA_CONCURRENCY", int, "Lambda concurrent executions per account"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Config()
    for flag, name, env, kind, text in _SETTINGS:
        default = os.environ.get(env, getattr(defaults, name))
        parser.add_argument(flag, dest=name, type=kind, default=kind(default), help=f"{text} (${env})")


def from_args(args: argparse.Namespace) -> Config:
    return Config(**{name: getattr(args, name) for _, name, *_ in _SETTINGS})
