"""Stored audio behind signed URLs: caches keep it no longer than the URL is valid."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.setups import set_up

URL_TTL_SECONDS = 30
CONFIG = f"""
[outputs]
url_ttl_seconds = {URL_TTL_SECONDS}

[providers.scripted]
plugin = "scripted"

[[routes]]
model = "Chatterbox"
chain = [{{ provider = "scripted", model = "expressive" }}]
"""


def test_cache_lifetime_ends_with_the_url(tmp_path: Path) -> None:
    setup = set_up(tmp_path, CONFIG)
    with setup.router() as router:
        answer = httpx.post(
            f"{router.base_url}/distribute/v1/audio/speech",
            json={"model": "Chatterbox", "input": "Kept for a while.", "voice": "leo"},
            headers={"authorization": setup.key},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        url = answer.json()[0]["url"]
        expires = int(parse_qs(urlsplit(url).query)["expires"][0])
        download = httpx.get(url, timeout=30)
    assert download.status_code == 200
    cache = download.headers["cache-control"]
    assert cache.startswith("private, max-age=")
    max_age = int(cache.rsplit("=", 1)[1])
    assert 0 < max_age <= expires - time.time() + 1
    assert max_age <= URL_TTL_SECONDS
