"""The first serve of an empty embedded database creates a tenant and prints its key once."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.server import register_plugins, run_router
from tests.support.setups import SCRIPTED_PLUGIN

CONFIG = """
[providers.scripted]
plugin = "scripted"

[[routes]]
model = "tone"
chain = [{ provider = "scripted", model = "tone" }]
"""
BANNER = re.compile(r"^\s+(tr-\S+)\s*$", re.MULTILINE)


def test_first_serve_prints_a_working_admin_key_once(tmp_path: Path) -> None:
    plugins = register_plugins(tmp_path / "plugins", SCRIPTED_PLUGIN)
    config = tmp_path / "router.toml"
    config.write_text(CONFIG)
    data = tmp_path / "data"
    with run_router(data, config=config, python_path=plugins) as first:
        (key,) = BANNER.findall(first.log())
        headers = {"authorization": f"Bearer {key}"}
        body = {"model": "tone", "input": "Hello.", "voice": "alloy"}
        assert (
            httpx.post(f"{first.base_url}/v1/audio/speech", json=body, headers=headers).status_code
            == 200
        )
        tenants = httpx.get(f"{first.base_url}/admin/v1/tenants", headers=headers).json()["data"]
        assert [tenant["name"] for tenant in tenants] == ["default"]
    with run_router(data, config=config, python_path=plugins) as again:
        assert BANNER.findall(again.log()) == []
        assert "tr-" not in again.log()
