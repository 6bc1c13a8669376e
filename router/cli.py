"""The `tts-router` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from litestar import Litestar

from providers.registry import PluginError
from router.app import create_app
from router.routing import RoutingConfigError
from router.settings import Settings, load_settings
from storage.database import upgrade


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tts-router", description="Self-hosted text-to-speech gateway."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    _add_common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    db = commands.add_parser("db", help="manage the database")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    _add_common(db_commands.add_parser("upgrade", help="apply migrations up to the latest"))
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="TOML config file (replaces the default tables it names)"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="data directory (env TTS_ROUTER_DATA_DIR, default ./data)"
    )


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config, overrides={"data_dir": args.data_dir})
    server = settings.server.model_copy(
        update={
            key: value
            for key, value in {
                "host": getattr(args, "host", None),
                "port": getattr(args, "port", None),
            }.items()
            if value is not None
        }
    )
    return settings.model_copy(update={"server": server})


def _serve(app: Litestar, settings: Settings, log_level: str) -> None:
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tts-router` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except (OSError, ValueError) as exc:
        print(f"tts-router: invalid configuration: {exc}", file=sys.stderr)
        return 2
    if args.command == "db":
        upgrade(settings.resolved_database_url)
        return 0
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app = create_app(settings)
    except (PluginError, RoutingConfigError, ValueError) as exc:
        print(f"tts-router: invalid configuration: {exc}", file=sys.stderr)
        return 2
    _serve(app, settings, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
