"""The ``stratus`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

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


def lambda_sdk(args: argparse.Namespace) -> None:
    """``stratus lambda-sdk install``: the AWS SDKs that Lambda's runtimes include, for functions to find."""
    from stratus.services.lambda_.runtime import node_sdk

    root = (args.dir or node_sdk.sdk_root()).resolve()
    if not args.node:
        # Python functions use the host's boto3 as it is; only Node.js needs an install.
        try:
            import boto3

            print(f"Python: functions use this host's boto3 {boto3.__version__} (nothing to install)")
        except ImportError:
            print("Python: boto3 is not installed with stratus; Python functions have no AWS SDK")
    try:
        record = node_sdk.install_node(root, extra=args.packages)
    except node_sdk.InstallError as e:
        sys.exit(f"stratus lambda-sdk: {e}")
    modules = root / "node" / "node_modules"
    packages: dict[str, str] = record["packages"]  # type: ignore[assignment]
    print(f"Node.js: installed in {record['install_seconds']} s, {node_sdk.disk_usage(modules) / 1e6:.0f} MB in {modules}")
    for name, version in packages.items():
        print(f"  {name} {version}")
    if node_sdk.sdk_root().resolve() != root:
        print(f"Start stratus with {node_sdk.ENV_VAR}={root} for its functions to use this SDK.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="stratus", description="An AWS serverless cloud on your own machine.")
    parser.add_argument("--version", action="version", version=f"stratus {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="serve the AWS endpoint")
    add_arguments(up_parser)
    sdk_parser = commands.add_parser("lambda-sdk", help="the AWS SDKs that Lambda runtimes include, for functions")
    sdk_commands = sdk_parser.add_subparsers(dest="sdk_command", required=True)
    install = sdk_commands.add_parser(
        "install", help="npm install the AWS SDK for JavaScript v3 for nodejs18.x+ functions (needs npm and the npm registry)",
    )
    install.add_argument("--node", action="store_true", help="the Node.js SDK only (the only one needing an install)")
    install.add_argument(
        "--dir", type=Path, default=None,
        help="the SDK folder (default $STRATUS_LAMBDA_SDK_DIR, else ~/.local/share/stratus/lambda-sdk); stratus up reads the same variable",
    )
    install.add_argument("packages", nargs="*", metavar="PACKAGE", help="more @aws-sdk/* packages to include")
    args = parser.parse_args(argv)
    if args.command == "up":
        up(from_args(args))
    elif args.command == "lambda-sdk":
        lambda_sdk(args)


if __name__ == "__main__":
    main()
