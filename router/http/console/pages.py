"""The console's page and static files, served with a strict Content-Security-Policy."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.static_files import create_static_files_router

CONSOLE_DIR = Path(__file__).parent
STATIC_DIR = CONSOLE_DIR / "static"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        # Forms are handled in script; a fallback submission must never carry the key anywhere.
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


@cache
def _page() -> str:
    return (CONSOLE_DIR / "console.html").read_text(encoding="utf-8")


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def console_page() -> Response[str]:
    """The console's single page; its views are chosen in the browser."""
    headers = {**SECURITY_HEADERS, "cache-control": "no-cache"}
    return Response(_page(), media_type=MediaType.HTML, headers=headers)


def _secure(response: Response[object]) -> Response[object]:
    response.headers.update(SECURITY_HEADERS)
    return response


def static_router() -> Router:
    """The console's scripts, styles and vendored libraries, from the package directory."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="console-static",
        cache_control=CacheControlHeader(no_cache=True),
        after_request=_secure,
    )
