"""GET /outputs/{id}.wav: stored audio behind a signed, expiring URL, without an API key."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

from litestar import Request, get
from litestar.response import Stream

from router.http.services import services
from router.speech.outputs import OUTPUTS_PATH

MAX_CACHE_SECONDS = 3600


@get(f"{OUTPUTS_PATH}/{{name:str}}")
async def download_output(
    request: Request[Any, Any, Any],
    name: str,
    expires: str | None = None,
    signature: str | None = None,
) -> Stream:
    """GET /outputs/{id}.wav?expires=…&signature=…: stored audio, without an API key."""
    audio, chunks = await services(request).outputs.open(name, expires, signature)
    # A cache may keep the audio only while its URL and the audio itself are both valid.
    until = min(int(expires or 0), audio.expires_at.replace(tzinfo=UTC).timestamp())
    fresh = max(0, min(MAX_CACHE_SECONDS, int(until - time.time())))
    headers = {"content-length": str(audio.bytes), "cache-control": f"private, max-age={fresh}"}
    return Stream(chunks, media_type=audio.media_type, headers=headers)
