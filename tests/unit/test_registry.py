"""Plugin discovery through the entry-point group."""

from __future__ import annotations

import pytest

from providers.kokoro import KokoroProvider
from providers.registry import PluginError, discover, load_factory


def test_builtin_kokoro_registers_like_any_plugin() -> None:
    plugins = discover()
    assert plugins["kokoro"].value == "providers.kokoro:KokoroProvider"
    assert load_factory("kokoro", plugins) is KokoroProvider


def test_allowlist_restricts_what_loads() -> None:
    plugins = discover(allow=["something-else"])
    assert "kokoro" not in plugins
    with pytest.raises(PluginError, match="'kokoro' is not installed or not allowed"):
        load_factory("kokoro", plugins)
