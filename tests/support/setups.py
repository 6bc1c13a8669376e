"""A router set up in a temporary directory: config, plugins, data, one tenant and its key."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import RunningRouter, cli, register_plugins, run_router

SCRIPTED_PLUGIN = {"scripted": "tests.plugins.scripted:ScriptedProvider"}


def write_config(
    directory: Path, text: str, plugins: Mapping[str, str] = SCRIPTED_PLUGIN
) -> tuple[Path, Path]:
    """The config file and the plugin registration, written under `directory`."""
    path = directory / "router.toml"
    path.write_text(text)
    return path, register_plugins(directory / "plugins", plugins)


@dataclass(frozen=True)
class Setup:
    """A config, a data directory with one tenant, and that tenant's key."""

    config: Path
    plugins: Path
    data: Path
    key: str
    env: Mapping[str, str] = field(default_factory=dict)

    def router(self) -> AbstractContextManager[RunningRouter]:
        """Start a router on this setup."""
        return run_router(self.data, config=self.config, python_path=self.plugins, env=self.env)

    @property
    def database(self) -> Path:
        """The embedded SQLite database."""
        return self.data / "tts-router.sqlite3"


def set_up(directory: Path, text: str, env: Mapping[str, str] | None = None) -> Setup:
    """Write `text`, and a tenant and key under `directory`, on the database `env` names."""
    path, plugins = write_config(directory, text)
    data = directory / "data"
    env = dict(env or {})
    if env:
        cli("db", "upgrade", env=env)
    cli("tenants", "create", "jobs", "--data-dir", str(data), env=env)
    key = cli("keys", "create", "--tenant", "jobs", "--data-dir", str(data), env=env)[-1]
    return Setup(path, plugins, data, key, env)
