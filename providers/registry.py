"""Provider plugins, found through the `tts_router.providers` entry-point group."""

from __future__ import annotations

from collections.abc import Collection
from importlib.metadata import EntryPoint, entry_points

from providers.api import ProviderFactory

ENTRY_POINT_GROUP = "tts_router.providers"


class PluginError(Exception):
    """A plugin is missing, duplicated, not allowed or failed to load."""


class PluginImportError(PluginError):
    """An installed plugin needs a package that is not installed: an extra left out."""


# The extra of this package that each bundled plugin needs.
_EXTRAS = {"kokoro": "kokoro", "chatterbox": "chatterbox"}


def discover(allow: Collection[str] | None = None) -> dict[str, EntryPoint]:
    """Every installed plugin by name, restricted to `allow` when given."""
    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if allow is not None and entry_point.name not in allow:
            continue
        previous = found.get(entry_point.name)
        if previous is not None and previous.value != entry_point.value:
            msg = (
                f"plugin {entry_point.name!r} is registered twice: "
                f"{previous.value} and {entry_point.value}"
            )
            raise PluginError(msg)
        found[entry_point.name] = entry_point
    return found


def load_factory(name: str, plugins: dict[str, EntryPoint]) -> ProviderFactory:
    """Import the factory of plugin `name`."""
    entry_point = plugins.get(name)
    if entry_point is None:
        known = ", ".join(sorted(plugins)) or "none"
        msg = f"plugin {name!r} is not installed or not allowed (available: {known})"
        raise PluginError(msg)
    try:
        factory: ProviderFactory = entry_point.load()
    except ImportError as exc:
        msg = f"plugin {name!r} failed to import: {exc}"
        extra = _EXTRAS.get(name)
        if extra is not None:
            msg += f"; install it with: pip install 'tts-router[{extra}]'"
        raise PluginImportError(msg) from exc
    return factory
