"""The `tts-router` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from litestar import Litestar

from providers.registry import PluginError
from router.app import create_app
from router.cli.accounts import add_account_commands, bootstrap, run_account_command
from router.cli.config_check import check_config
from router.errors import RouterError
from router.settings import Settings, load_settings
from router.speech.routing import RoutingConfigError
from storage.database import upgrade


def _parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before the subcommand is not reset by the subcommand's parser.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", type=Path, help="TOML config (replaces the tables it names)")
    common.add_argument("--data-dir", type=Path, help="data directory (default ./data)")
    parser = argparse.ArgumentParser(
        prog="tts-router", description="Self-hosted text-to-speech gateway.", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service", parents=[common])
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    db = commands.add_parser("db", help="manage the database", parents=[common])
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations up to the latest", parents=[common])
    config = commands.add_parser("config", help="work with config files", parents=[common])
    config_commands = config.add_subparsers(dest="config_command", required=True)
    config_commands.add_parser(
        "check", help="validate a config file and report every error", parents=[common]
    )
    add_account_commands(commands, common)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    config, data_dir = getattr(args, "config", None), getattr(args, "data_dir", None)
    settings = load_settings(config, overrides={"data_dir": data_dir})
    listen = {"host": getattr(args, "host", None), "port": getattr(args, "port", None)}
    server = settings.server.model_copy(
        update={key: value for key, value in listen.items() if value is not None}
    )
    return settings.model_copy(update={"server": server})


def _serve(app: Litestar, settings: Settings, log_level: str) -> None:
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level=log_level,
        access_log=False,
        timeout_keep_alive=settings.server.keep_alive_seconds,
        timeout_graceful_shutdown=10,
    )


def _fail(message: object) -> int:
    print(f"tts-router: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tts-router` console script."""
    args = _parser().parse_args(argv)
    if args.command == "config":
        return _check_config(getattr(args, "config", None))
    try:
        settings = _settings(args)
    except (OSError, ValueError) as exc:
        return _fail(f"invalid configuration: {exc}")
    if args.command == "db":
        upgrade(settings.resolved_database_url)
        return 0
    if args.command in {"tenants", "keys"}:
        return _accounts(settings, args)
    return _start(settings, args.log_level)


def _start(settings: Settings, log_level: str) -> int:
    """`serve`: check what only serving needs, build the app and run it."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    problem = settings.replica_problem()
    if problem is not None:
        return _fail(f"invalid configuration: {problem}")
    try:
        app = create_app(settings)
    except (PluginError, RoutingConfigError, ValueError) as exc:
        return _fail(f"invalid configuration: {exc}")
    if settings.embedded_database:
        _announce(asyncio.run(bootstrap(settings)))
    _serve(app, settings, log_level)
    return 0


def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    try:
        lines = run_account_command(settings, args)
    except RouterError as exc:
        return _fail(exc.message)
    print("\n".join(lines))
    return 0


def _check_config(path: Path | None) -> int:
    source = str(path) if path is not None else "embedded defaults"
    try:
        problems = check_config(path)
    except OSError as exc:
        return _fail(f"cannot read {source}: {exc}")
    for problem in problems:
        print(problem.render(source))
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        print(f"{len(errors)} problem(s) in {source}", file=sys.stderr)
        return 1
    print(f"{source}: ok" + (f" ({len(problems)} warning(s))" if problems else ""))
    return 0


def _announce(secret: str | None) -> None:
    """Show the first key once, on stdout only: it is never logged or stored."""
    if secret is not None:
        print(
            "Created tenant 'default' with an admin API key. It is shown only this once:\n"
            f"\n    {secret}\n",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
