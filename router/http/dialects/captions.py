"""POST …/audio/captions: speech with the time of every word, or subtitles of it."""

from __future__ import annotations

import base64
from typing import Any

from litestar import Request, Response
from pydantic import Field, ValidationError

from providers.api import MAX_SPEED, MIN_SPEED, AudioFormat, SpeechRequest, WordTime
from router.accounts.auth import Principal
from router.http.dialects.openai import SpokenText, check_text, voice_of, word_list
from router.http.dialects.registry import dialect_of
from router.http.dialects.validation import invalid_request
from router.http.responses import request_id
from router.http.services import services
from router.speech.captions import (
    SUBTITLE_MEDIA_TYPES,
    SubtitleFormat,
    is_subtitle_format,
    subtitles,
)
from router.speech.service import SpeechCall
from router.speech.stream import Speech

CAPTIONS_PATH = "/audio/captions"
JSON = "application/json"


class CaptionsBody(SpokenText):
    """The text to speak and how to answer: audio with its words, or subtitles."""

    response_format: AudioFormat | SubtitleFormat = "mp3"
    speed: float = Field(default=1.0, ge=MIN_SPEED, le=MAX_SPEED)
    normalize: bool = True


def parse_body(raw: bytes) -> CaptionsBody:
    """Validate a captions body, raising OpenAI-worded errors."""
    try:
        body = CaptionsBody.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid_request(exc) from None
    check_text(body)
    return body


def to_internal(body: CaptionsBody) -> SpeechRequest:
    """The speech request behind the captions: timed words, and raw audio for subtitles."""
    fmt = body.response_format
    return SpeechRequest(
        model=body.model,
        input=body.input,
        voice=voice_of(body),
        response_format="pcm" if is_subtitle_format(fmt) else fmt,
        speed=body.speed,
        instructions=body.instructions,
        normalize=body.normalize,
        word_timestamps=True,
    )


async def create(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """Speak the body's text; answer its audio in base64 with its words, or its subtitles."""
    found = services(request)
    call = SpeechCall(request_id(request), dialect_of(request).name, principal)
    async with found.speech.recording_refusals(call):
        body = parse_body(await request.body())
        speech = await found.speech.open(call, to_internal(body))
    audio, words = await _collect(speech)
    headers = speech.headers
    fmt = body.response_format
    if is_subtitle_format(fmt):
        text = subtitles(words, fmt)
        return Response(text, media_type=SUBTITLE_MEDIA_TYPES[fmt], headers=headers)
    answer = {
        "object": "audio.captions",
        "model": body.model,
        "format": fmt,
        "audio": base64.b64encode(audio).decode(),
        "words": word_list(words),
    }
    return Response(answer, media_type=JSON, headers=headers)


async def _collect(speech: Speech) -> tuple[bytes, list[WordTime]]:
    audio = bytearray()
    words: list[WordTime] = []
    async for data, timed in speech.pieces():
        audio += data
        words.extend(timed)
    return bytes(audio), words
