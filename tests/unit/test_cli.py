"""The command line refuses bad configuration with a clear message and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.cli.main import main

# A file's [providers] replaces the defaults' providers, so it brings its own routes.
KOKORO_ROUTE = '[[routes]]\nmodel = "kokoro"\nchain = [{ provider = "kokoro", model = "kokoro" }]\n'


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[server]\nport = 'x'\n", "port"),
        (
            '[providers.kokoro]\nplugin = "no-such-plugin"\n' + KOKORO_ROUTE,
            "'no-such-plugin' is not installed",
        ),
        (
            '[[routes]]\nmodel = "m"\nchain = [{ provider = "kokoro", model = "missing" }]\n',
            "has no model 'missing'",
        ),
        (
            '[providers.kokoro]\nplugin = "kokoro"\noptions = { engine = "gpu" }\n' + KOKORO_ROUTE,
            "engine",
        ),
    ],
)
def test_bad_config_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, message: str
) -> None:
    path = tmp_path / "router.toml"
    path.write_text(config)
    code = main(["serve", "--config", str(path), "--data-dir", str(tmp_path / "data")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("tts-router: invalid configuration:")
    assert message in err


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    assert (tmp_path / "tts-router.sqlite3").stat().st_size > 0


BAD_CONFIG = """\
[server]
port = 99999

[providers.kokoro]
plugin = "kokoro"

[providers.up]
plugin = "openai-compatible"

[providers.up.options]
base_url = "http://127.0.0.1:9/v1"
formats = ["mp3"]

[providers.ghost]
plugin = "no-such-plugin"

[[routes]]
model = "a"
chain = [{ provider = "kokoro", model = "kokoro", voices = { leo = "nobody" } }]

[[routes]]
model = "b"
aliases = ["a"]
chain = [{ provider = "missing", model = "x" }, { provider = "kokoro", model = "nope" }]
"""


def test_config_check_reports_every_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "router.toml"
    path.write_text(BAD_CONFIG)
    assert main(["config", "check", "--config", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    expected = [
        f"{path}:2: server.port: Input should be less than or equal to 65535",
        f"{path}:10: providers.up.options: invalid options for provider 'up': "
        "formats: must include 'pcm'",
        f"{path}:15: providers.ghost.plugin: plugin 'no-such-plugin' is not installed "
        "or not allowed (available: ",
        f"{path}:17: routes[0].chain[0].voices.leo: model 'kokoro' has no voice 'nobody'",
        f"{path}:21: routes[1]: model name 'a' is already claimed by routes[0]",
        f"{path}:21: routes[1].chain[0].provider: unknown provider 'missing'",
        f"{path}:21: routes[1].chain[1].model: provider 'kokoro' has no model 'nope' "
        "(it has: kokoro)",
    ]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start)


def test_config_check_accepts_the_embedded_defaults_and_good_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check"]) == 0
    path = tmp_path / "router.toml"
    path.write_text("[server]\nport = 9000\n\n[routing]\ndeadline_seconds = 10\n")
    assert main(["config", "check", "--config", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == ["embedded defaults: ok", f"{path}: ok"]


def test_config_check_reports_toml_syntax_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "router.toml"
    path.write_text("[server\nport = 1\n")
    assert main(["config", "check", "--config", str(path)]) == 1
    assert "not valid TOML" in capsys.readouterr().out
