"""The web console at /console: pages, static files and the JSON endpoints the pages need."""

from __future__ import annotations

from litestar import Router

from router.http.console.api import api_router
from router.http.console.pages import console_page, static_router

__all__ = ["console_router"]


def console_router() -> Router:
    """Everything under /console."""
    return Router(path="/console", route_handlers=[console_page, static_router(), api_router()])
