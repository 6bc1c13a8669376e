"""The served ASGI app: speech requests go straight to their handlers, the rest through Litestar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from litestar import Litestar, Request, Response
from litestar._asgi.utils import is_valid_host
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.types import (
    HTTPScope,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Message,
    Receive,
    Scope,
    Send,
)

from router.dialects.mounts import SPEECH
from router.streamed import Streamed
from router.web import REQUEST_ID_HEADER, add_request_id, request_id

ErrorResponse = Callable[[Request[Any, Any, Any], Exception], Response[Any]]


class DirectSpeech:
    """Calls the speech handlers itself and streams their answers to the server.

    Litestar's routing, middleware and response layers cost a speech request about a tenth of
    a millisecond; a handler needs only its request, and its answer is already a stream.
    Anything else, or anything out of the ordinary (a mount path, a bad `Host`), goes to
    Litestar. A speech route that Litestar would wrap in middleware, guards, hooks or extra
    headers is refused at start-up, since they would not run.
    """

    def __init__(self, app: Litestar, on_error: ErrorResponse) -> None:
        self.app = app
        self._on_error = on_error
        self._handlers = {
            route.path: handler
            for route in app.routes
            if isinstance(route, HTTPRoute)
            for handler in route.route_handlers
            if handler.opt.get(SPEECH) and "POST" in handler.http_methods
        }
        for path, handler in self._handlers.items():
            if skipped := _layers_skipped(handler):
                msg = f"POST {path} is served directly, so its {', '.join(skipped)} would not run"
                raise ValueError(msg)

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        """Serve one request, or the app's lifespan."""
        if scope["type"] == ScopeType.HTTP:
            request_scope = cast("HTTPScope", scope)
            handler = self._speech_handler(request_scope)
            if handler is not None:
                await self._speak(
                    handler, request_scope, cast("Receive", receive), cast("Send", send)
                )
                return
        await self.app(scope, receive, send)

    def _speech_handler(self, scope: HTTPScope) -> HTTPRouteHandler | None:
        if scope["method"] != "POST" or scope.get("root_path"):
            return None
        handler = self._handlers.get(scope["path"])
        if handler is None:
            return None
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        return handler if host is None or is_valid_host(host) else None

    async def _speak(
        self, handler: HTTPRouteHandler, scope: HTTPScope, receive: Receive, send: Send
    ) -> None:
        scope["app"] = scope["litestar_app"] = self.app
        scope.setdefault("state", {})
        scope.setdefault("path_params", {})
        # The request reads its body limit from its handler.
        scope["route_handler"] = handler
        request: Request[Any, Any, Any] = handler.resolve_request_class()(scope, receive, send)
        try:
            response = cast("Response[Any]", await handler.fn(request))
        except Exception as exc:  # noqa: BLE001 (answered, and logged if it is a bug)
            response = self._on_error(request, exc)
        if isinstance(response, Streamed):
            identity = (REQUEST_ID_HEADER.encode(), request_id(request).encode())
            await response.send(send, receive, identity)
            return

        async def send_with_id(message: Message) -> None:
            await add_request_id(message, scope)
            await send(message)

        await response.to_asgi_response(None, request)(scope, receive, send_with_id)


def _layers_skipped(handler: HTTPRouteHandler) -> list[str]:
    """What the app, its routers or `handler` set that serving it directly would leave out."""
    layers = {
        "middleware": handler.resolve_middleware(),
        "guards": handler.resolve_guards(),
        "before_request hook": handler.resolve_before_request(),
        "after_request hook": any(layer.after_request for layer in handler.ownership_layers),
        "after_response hook": handler.resolve_after_response(),
        "response headers": handler.resolve_response_headers(),
        "response cookies": handler.resolve_response_cookies(),
    }
    return [name for name, found in layers.items() if found]
