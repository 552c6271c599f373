"""The ``stratus`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from stratus import __version__
from stratus.config import Config, add_arguments, from_args


def _banner(config: Config) -> str:
    where = "SQLite in " + str(config.data_dir.resolve()) if config.store == "sqlite" else "PostgreSQL"
    return (
        f"stratus {__version__} is ready on {config.endpoint} (state: {where})\n"
        f"Point AWS clients at it:\n"
        f"  export AWS_ENDPOINT_URL={config.endpoint}\n"
        f"  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1\n"
        f"Health: {config.endpoint}/_stratus/health"
    )


def up(config: Config) -> None:
    import uvicorn

    from stratus.gateway.app import Gateway
    from stratus.node import Node

    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = uvicorn.Server(
        uvicorn.Config(
            Gateway(Node(config)),
            host=config.host,
            port=config.port,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            server_header=False,
            # stratus is the endpoint clients talk to, not something behind a proxy.
            proxy_headers=False,
            date_header=False,
            log_level="warning",
            # Long polls hold requests for up to 20 s; do not make Ctrl-C wait for them.
            timeout_graceful_shutdown=2,
        )
    )
    startup = server.startup

    async def startup_then_banner(sockets=None):  # type: ignore[no-untyped-def]
        await startup(sockets=sockets)
        if server.started:
            print(_banner(config), flush=True)

    server.startup = startup_then_banner  # type: ignore[method-assign]
    server.run()
    if not server.started:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="stratus", description="An AWS serverless cloud on your own machine.")
    parser.add_argument("--version", action="version", version=f"stratus {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="serve the AWS endpoint")
    add_arguments(up_parser)
    args = parser.parse_args(argv)
    if args.command == "up":
        up(from_args(args))


if __name__ == "__main__":
    main()
