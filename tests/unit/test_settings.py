"""Settings: embedded defaults, config files, env and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.settings import load_settings


def test_embedded_defaults_route_openai_names_to_kokoro_and_chatterbox_then_kokoro() -> None:
    settings = load_settings(env={})
    assert settings.data_dir == Path("data")
    assert settings.server.port == 8000
    route, chatterbox, turbo = settings.routes
    assert [step.provider for step in route.chain] == ["kokoro"]
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"} <= set(route.aliases)
    assert chatterbox.model == "Chatterbox"
    assert [(step.provider, step.model) for step in chatterbox.chain] == [
        ("chatterbox", "chatterbox"),
        ("kokoro", "kokoro"),
    ]
    assert [step.provider for step in turbo.chain] == ["chatterbox", "kokoro"]
    assert settings.providers["chatterbox"].options["load_on_cpu"] is False
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url.endswith("/data/tts-router.sqlite3")


def test_config_file_replaces_the_tables_it_names(tmp_path: Path) -> None:
    config = tmp_path / "router.toml"
    config.write_text("[server]\nport = 9000\n")
    settings = load_settings(config, env={})
    assert settings.server.port == 9000
    assert settings.server.host == "127.0.0.1"
    assert "kokoro" in settings.providers


def test_env_then_overrides(tmp_path: Path) -> None:
    env = {"TTS_ROUTER_DATA_DIR": "/srv/tts", "TTS_ROUTER_PLUGINS": "kokoro,other"}
    settings = load_settings(env=env)
    assert settings.data_dir == Path("/srv/tts")
    assert settings.plugins == ("kokoro", "other")
    overridden = load_settings(env=env, overrides={"data_dir": tmp_path, "redis_url": None})
    assert overridden.data_dir == tmp_path
    assert overridden.redis_url is None


def test_route_naming_an_unknown_provider_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "router.toml"
    config.write_text('[[routes]]\nmodel = "m"\nchain = [{ provider = "ghost", model = "m" }]\n')
    with pytest.raises(ValueError, match="unknown provider 'ghost'"):
        load_settings(config, env={})


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "router.toml"
    config.write_text("[server]\nprot = 1\n")
    with pytest.raises(ValueError, match="prot"):
        load_settings(config, env={})
