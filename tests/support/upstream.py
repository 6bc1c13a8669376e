"""A fake OpenAI-style speech upstream on 127.0.0.1 that answers as a test scripts it."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

from providers.api import AUDIO_FORMATS, AudioFormat
from router.speech.audio import AudioEncoder, media_type
from tests.plugins.scripted import tone
from tests.support.server import free_port

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

TONE_SECONDS = 1.0
GARBAGE = b"<html><body>Service temporarily unavailable</body></html>" * 4


@functools.cache
def tone_bytes(fmt: AudioFormat) -> bytes:
    """A whole 1-second 440 Hz tone at 24 kHz, encoded in `fmt`."""
    encoder = AudioEncoder(fmt)
    return encoder.encode(tone(TONE_SECONDS, sample_rate=24_000)) + encoder.finish()


@dataclass(frozen=True)
class Answer:
    """How the upstream answers one request."""

    kind: Literal["audio", "status", "hang", "drop", "garbage", "events"] = "audio"
    status: int = 200
    retry_after: str | None = None
    chunks: int = 4
    gap_seconds: float = 0.0
    # The Content-Type of audio answers, when not the format's own (Aqueduct: text/event-stream).
    content_type: str | None = None


AUDIO = Answer()


def error(status: int, retry_after: str | None = None) -> Answer:
    """An OpenAI-style error answer."""
    return Answer("status", status=status, retry_after=retry_after)


@dataclass
class FakeUpstream:
    """The ASGI app: each request takes the next scripted answer, else `default`."""

    default: Answer = AUDIO
    script: deque[Answer] = field(default_factory=deque)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def answer_next(self, *answers: Answer) -> None:
        """Script the next requests' answers, in order."""
        self.script.extend(answers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body or b"{}")
        self.calls.append(request)
        answer = self.script.popleft() if self.script else self.default
        await _ANSWERS[answer.kind](answer, request, receive, send)


async def _audio(answer: Answer, request: dict[str, Any], receive: Receive, send: Send) -> None:
    fmt: AudioFormat = request.get("response_format", "mp3")
    data = tone_bytes(fmt)
    await send(_start(200, answer.content_type or media_type(fmt)))
    size = -(-len(data) // answer.chunks)
    for index in range(answer.chunks):
        if index and answer.gap_seconds:
            await asyncio.sleep(answer.gap_seconds)
        piece = data[index * size : (index + 1) * size]
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _status(answer: Answer, request: dict[str, Any], receive: Receive, send: Send) -> None:
    body = json.dumps(
        {
            "error": {
                "message": f"scripted failure {answer.status}",
                "type": "invalid_request_error" if answer.status < 500 else "server_error",
                "param": "voice" if answer.status == 400 else None,
                "code": None,
            }
        }
    ).encode()
    headers = [] if answer.retry_after is None else [(b"retry-after", answer.retry_after.encode())]
    await send(_start(answer.status, "application/json", headers))
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _hang(answer: Answer, request: dict[str, Any], receive: Receive, send: Send) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _drop(answer: Answer, request: dict[str, Any], receive: Receive, send: Send) -> None:
    fmt: AudioFormat = request.get("response_format", "mp3")
    data = tone_bytes(fmt)
    await send(_start(200, media_type(fmt)))
    await send({"type": "http.response.body", "body": data[: len(data) // 4], "more_body": True})
    await asyncio.sleep(0.05)
    raise ConnectionAbortedError("scripted drop in the middle of the audio")


async def _garbage(answer: Answer, request: dict[str, Any], receive: Receive, send: Send) -> None:
    await send(_start(200, media_type(request.get("response_format", "mp3"))))
    await send({"type": "http.response.body", "body": GARBAGE, "more_body": False})


async def _events(answer: Answer, request: dict[str, Any], receive: Receive, send: Send) -> None:
    """Server-sent events where raw audio was asked for."""
    event = {"type": "speech.audio.delta", "audio": "AAAA"}
    await send(_start(200, "text/event-stream"))
    body = f"data: {json.dumps(event)}\n\n".encode() * 64
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _start(
    status: int, content_type: str, headers: list[tuple[bytes, bytes]] | None = None
) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type.encode()), *(headers or [])],
    }


_ANSWERS = {
    "audio": _audio,
    "status": _status,
    "hang": _hang,
    "drop": _drop,
    "garbage": _garbage,
    "events": _events,
}


@contextmanager
def serve_in_thread(app: Any) -> Iterator[int]:
    """Serve the ASGI `app` on a free loopback port from a thread; yields the port."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"{type(app).__name__} did not start")
        threading.Event().wait(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serving(upstream: FakeUpstream) -> Iterator[str]:
    """Serve `upstream` on loopback; yields its `/v1` base URL."""
    for fmt in AUDIO_FORMATS:
        tone_bytes(fmt)
    with serve_in_thread(upstream) as port:
        yield f"http://127.0.0.1:{port}/v1"


def main() -> None:
    """Serve a fake upstream from the command line, for benchmarks."""
    parser = argparse.ArgumentParser(description="Fake OpenAI-style speech upstream.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=1)
    parser.add_argument("--gap-ms", type=float, default=0.0)
    args = parser.parse_args()
    for fmt in AUDIO_FORMATS:
        tone_bytes(fmt)
    app = FakeUpstream(Answer(chunks=args.chunks, gap_seconds=args.gap_ms / 1000))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
