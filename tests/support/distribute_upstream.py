"""A fake Distribute.AI speech upstream on 127.0.0.1 that fails as a test tells it to."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.upstream import serve_in_thread

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

GARBAGE_PATH = "/files/garbage.wav"
GARBAGE = b"<html><body>Service temporarily unavailable</body></html>" * 4
JOB_ID = "0b7f6a52-3c1e-4d8a-9f2b-5e6c7d8e9f01"


@dataclass(frozen=True)
class Call:
    """One request the upstream received."""

    method: str
    path: str
    authorization: str | None
    body: dict[str, Any]


@dataclass
class FakeDistribute:
    """The ASGI app: speech answers a URL to garbage, jobs end in ERROR, or every key is refused."""

    refuse_key: bool = False
    # How many polls see the job PROCESSING before it ends in ERROR.
    pending_polls: int = 1
    calls: list[Call] = field(default_factory=list)

    def reset(self) -> None:
        """Back to answering, with no calls counted."""
        self.refuse_key = False
        self.calls.clear()

    def paths(self) -> list[tuple[str, str]]:
        """(method, path) of every call, in order."""
        return [(call.method, call.path) for call in self.calls]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        path: str = scope["path"]
        self.calls.append(
            Call(scope["method"], path, headers.get("authorization"), json.loads(raw or b"{}"))
        )
        status, content_type, body = self._answer(path, headers["host"])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _answer(self, path: str, host: str) -> tuple[int, str, bytes]:
        if path == GARBAGE_PATH:
            return 200, "audio/wav", GARBAGE
        if self.refuse_key:
            return _json(401, {"message": "Unauthorized"})
        if path == "/v1/audio/speech":
            return _json(200, [{"url": f"http://{host}{GARBAGE_PATH}"}])
        if path == "/async/speech/create":
            return _json(200, {"id": JOB_ID})
        if path == "/async/speech/result":
            return _json(200, self._job())
        return _json(404, {"message": f"Route POST:{path} not found"})

    def _job(self) -> dict[str, Any]:
        polls = sum(call.path == "/async/speech/result" for call in self.calls)
        status = "PROCESSING" if polls <= self.pending_polls else "ERROR"
        return {"id": JOB_ID, "status": status, "created": 1, "model": "Chatterbox", "results": []}


def _json(status: int, payload: Any) -> tuple[int, str, bytes]:
    return status, "application/json; charset=utf-8", json.dumps(payload).encode()


@contextmanager
def serving(upstream: FakeDistribute) -> Iterator[str]:
    """Serve `upstream` on loopback; yields its base URL."""
    with serve_in_thread(upstream) as port:
        yield f"http://127.0.0.1:{port}"
