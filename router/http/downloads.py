"""GET /outputs/{id}.wav: stored audio behind a signed, expiring URL, without an API key."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Stream

from router.http.services import services
from router.speech.outputs import OUTPUTS_PATH


@get(f"{OUTPUTS_PATH}/{{name:str}}")
async def download_output(
    request: Request[Any, Any, Any],
    name: str,
    expires: str | None = None,
    signature: str | None = None,
) -> Stream:
    """GET /outputs/{id}.wav?expires=…&signature=…: stored audio, without an API key."""
    audio, chunks = await services(request).outputs.open(name, expires, signature)
    headers = {"content-length": str(audio.bytes), "cache-control": "private, max-age=3600"}
    return Stream(chunks, media_type=audio.media_type, headers=headers)
