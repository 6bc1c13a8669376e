"""`tts-router config check`: every mistake in a config file, each with where it is."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from providers.api import Provider, ProviderContext
from providers.registry import PluginError, PluginImportError, discover, load_factory
from router.plugins import MissingProvider
from router.settings import ProviderSettings, RouteSettings, Settings, embedded_defaults
from router.speech.routing import route_problems

_PLACE = re.compile(r"^(?P<table>[A-Za-z_][\w-]*)(?:\[(?P<index>\d+)\])?(?:\.(?P<key>[\w-]+))?")


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake: its place in the settings and, when found, its line in the file."""

    place: str
    message: str
    line: int | None = None
    # Something the service works without, as a plugin whose extra is not installed.
    warning: bool = False

    def render(self, source: str) -> str:
        """`file:line: place: message`, the message marked when it is only a warning."""
        where = source if self.line is None else f"{source}:{self.line}"
        place = f"{self.place}: " if self.place else ""
        mark = "warning: " if self.warning else ""
        return f"{where}: {place}{mark}{self.message}"


def check_config(path: Path | None) -> list[Problem]:
    """Every problem in `path` (or the embedded defaults), without starting anything."""
    text = path.read_text(encoding="utf-8") if path is not None else ""
    data = embedded_defaults()
    if path is not None:
        try:
            data.update(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            return [Problem("", f"not valid TOML: {exc}")]
    problems: list[Problem] = []
    try:
        replicas = Settings.model_validate(data).replica_problem()
        if replicas is not None:
            problems.append(_problem(replicas))
    except ValidationError as exc:
        # Errors without a place come from the whole-settings checks, which follow below.
        problems += [
            problem
            for error in exc.errors()
            if error["loc"]
            for problem in _validation_problems(error)
        ]
    routes = _valid_routes(data)
    providers, plugin_problems = _providers(data, routes or [])
    problems += plugin_problems
    if routes is not None:
        problems += [_problem(message) for message in route_problems(routes, providers)]
    return [_located(text, problem) for problem in problems]


def _valid_routes(data: dict[str, Any]) -> list[RouteSettings] | None:
    """The routes, if every one of them is well formed (else their errors are reported)."""
    try:
        return [RouteSettings.model_validate(route) for route in data.get("routes", [])]
    except (ValidationError, TypeError):
        return None


def _providers(
    data: dict[str, Any], routes: list[RouteSettings]
) -> tuple[dict[str, Provider], list[Problem]]:
    """Each well-formed provider built from its options (not started), and each failure."""
    problems: list[Problem] = []
    providers: dict[str, Provider] = {}
    try:
        plugins = discover(data.get("plugins"))
    except PluginError as exc:
        return providers, [Problem("plugins", str(exc))]
    data_dir = Path(str(data.get("data_dir", "data")))
    for name, raw in dict(data.get("providers") or {}).items():
        try:
            config = ProviderSettings.model_validate(raw)
        except ValidationError:
            continue  # reported with the settings' own errors
        try:
            factory = load_factory(config.plugin, plugins)
        except PluginImportError as exc:
            problems.append(Problem(f"providers.{name}.plugin", str(exc), warning=True))
            models = [
                step.model for route in routes for step in route.chain if step.provider == name
            ]
            providers[name] = MissingProvider(name, models, str(exc))
            continue
        except PluginError as exc:
            problems.append(Problem(f"providers.{name}.plugin", str(exc)))
            continue
        try:
            providers[name] = factory(ProviderContext(name, data_dir, config.options))
        except (ValueError, TypeError, OSError) as exc:
            problems.append(Problem(f"providers.{name}.options", str(exc)))
    return providers, problems


def _validation_problems(error: Any) -> list[Problem]:
    parts: list[str] = []
    for part in error["loc"]:
        if isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if parts:
        return [Problem(".".join(parts), message)]
    # A whole-settings check reports each of its problems, `; `-separated, with its place.
    return [_problem(each) for each in message.split("; ")]


def _problem(message: str, place: str = "") -> Problem:
    """A problem whose message may start with its place, as `route_problems` writes them."""
    if not place and ": " in message and _PLACE.match(message):
        place, message = message.split(": ", 1)
    return Problem(place, message)


def _located(text: str, problem: Problem) -> Problem:
    """`problem` with the line of the table it is in, when the file has that table."""
    match = _PLACE.match(problem.place)
    if not text or match is None:
        return problem
    table, index = match["table"], match["index"]
    lines = [line.strip() for line in text.splitlines()]
    if index is not None:
        headers = [number for number, line in enumerate(lines, 1) if line == f"[[{table}]]"]
        found = headers[int(index)] if int(index) < len(headers) else None
        return Problem(problem.place, problem.message, found)
    number = _line_of(lines, problem.place.split("."))
    return Problem(problem.place, problem.message, number) if number else problem


def _line_of(lines: list[str], parts: list[str]) -> int | None:
    """The line of the deepest table of `parts` in the file, or of its key within that table."""
    for end in range(len(parts), 0, -1):
        header = f"[{'.'.join(parts[:end])}]"
        if header not in lines:
            continue
        start = lines.index(header)
        if end < len(parts):
            key = re.compile(rf"{re.escape(parts[end])}\s*=")
            for number in range(start + 1, len(lines)):
                if lines[number].startswith("["):
                    break
                if key.match(lines[number]):
                    return number + 1
        return start + 1
    return None
