"""The command line refuses bad configuration with a clear message and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.cli import main


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[server]\nport = 'x'\n", "port"),
        ('[providers.kokoro]\nplugin = "no-such-plugin"\n', "'no-such-plugin' is not installed"),
        (
            '[[routes]]\nmodel = "m"\nchain = [{ provider = "kokoro", model = "missing" }]\n',
            "has no model 'missing'",
        ),
        ('[providers.kokoro]\nplugin = "kokoro"\noptions = { engine = "gpu" }\n', "engine"),
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
