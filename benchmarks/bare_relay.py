"""The least a Python relay does (uvicorn and aiohttp, nothing else), as a floor for the router.

Run by `benchmarks.upstream` as `python -m benchmarks.bare_relay --port N --routes JSON`, where
JSON maps a model name to an upstream speech URL: each POST goes to the URL its body's `model`
names, and the answer streams back chunk by chunk.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import aiohttp
import uvicorn

Message = dict[str, Any]


class BareRelay:
    """An ASGI app that forwards speech requests by model name."""

    def __init__(self, routes: dict[str, str]) -> None:
        self._routes = routes
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        """Serve the lifespan, or relay one request."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._relay(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._session = aiohttp.ClientSession()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._session is not None:
                    await self._session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _relay(self, receive: Any, send: Any) -> None:
        assert self._session is not None
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        url = self._routes[json.loads(body)["model"]]
        headers = {"content-type": "application/json"}
        async with self._session.post(url, data=bytes(body), headers=headers) as response:
            content_type = response.headers.get("content-type", "audio/mpeg").encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": [(b"content-type", content_type)],
                }
            )
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def main() -> None:
    """Serve the relay on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--routes", required=True, help="JSON: model name -> upstream URL")
    args = parser.parse_args()
    app = BareRelay(json.loads(args.routes))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
