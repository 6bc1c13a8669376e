"""Malformed bodies, headers and uploads in every dialect: no 5xx, no traceback, its errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.server import RunningRouter

EXAMPLES = 2000


def _openai_shape(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and set(error) == {"message", "type", "param", "code"}


def _aqueduct_shape(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and isinstance(error.get("message"), str) and "type" in error


def _dedalus_shape(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"detail"}


def _distribute_shape(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"message"}


@dataclass(frozen=True)
class Dialect:
    """Where a dialect answers, and what its error bodies look like."""

    name: str
    prefix: str
    shape: Callable[[Any], bool]
    auth: str  # the header scheme its SDK sends the key with


DIALECTS = [
    Dialect("openai", "/openai/v1", _openai_shape, "bearer"),
    Dialect("aqueduct", "/aqueduct/v1", _aqueduct_shape, "bearer"),
    Dialect("dedalus", "/dedalus/v1", _dedalus_shape, "bearer"),
    Dialect("distribute", "/distribute/v1", _distribute_shape, "raw"),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=5,
)
texts = st.text(st.characters(codec="utf-8"), max_size=20)
# Fields of every dialect's body, with values near and far from valid. Valid bodies name only
# quick scripted models, so that the rare one that passes answers in milliseconds.
fields = {
    "model": st.sampled_from(["instant", "Chatterbox", "tts-1-nope", "", "scripted/instant"])
    | json_values,
    "input": texts | json_values,
    "voice": st.sampled_from(["alloy", "leo", "", "file-nope", "nova(0)+onyx"])
    | st.builds(lambda v: {"id": v}, texts)
    | json_values,
    "response_format": st.sampled_from(["mp3", "wav", "pcm", "srt", "ogg", ""]) | json_values,
    "speed": st.floats(min_value=-1.0, max_value=9.0) | json_values,
    "stream_format": st.sampled_from(["audio", "sse", "x"]) | json_values,
    "stream": json_values,
    "temperature": json_values,
    "timestamps": st.sampled_from(["word", "none", "x"]) | json_values,
    "normalize": json_values,
}
json_bodies = st.fixed_dictionaries({}, optional={**fields, "unexpected": json_values}).map(
    lambda body: json.dumps(body).encode()
)
raw_bodies = st.binary(max_size=120) | st.text(max_size=120).map(str.encode)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "multipart/form-data",
        "application/json; charset=latin-1",
        "",
    ]
)
keys = st.sampled_from(["valid", "", "sk-nope", "Bearer", "\u00e9t\u00e9"])


@dataclass(frozen=True)
class Probe:
    """One malformed request: to speech or to the Files API."""

    target: str  # "speech" or "files"
    body: bytes
    content_type: str
    key: str
    upload: tuple[str, bytes, str] | None = None
    purpose: str | None = None


speech_probes = st.builds(Probe, st.just("speech"), json_bodies | raw_bodies, content_types, keys)
upload_probes = st.builds(
    Probe,
    st.just("files"),
    st.just(b""),
    st.just(""),
    keys,
    upload=st.tuples(
        st.text(max_size=20),
        st.binary(max_size=200),
        st.sampled_from(["audio/mpeg", "audio/wav", "text/plain", "", "application/octet-stream"]),
    ),
    purpose=st.sampled_from(["voice", "assistants", ""]) | st.none(),
)


def _headers(dialect: Dialect, key: str, secret: str, content_type: str) -> dict[bytes, bytes]:
    value = secret if key == "valid" else key
    header = value if dialect.auth == "raw" else f"Bearer {value}"
    # Raw bytes, as a client that sends UTF-8 in a header would.
    headers = {b"authorization": header.strip().encode()} if header.strip() else {}
    if content_type:
        headers[b"content-type"] = content_type.encode()
    return headers


def _send(client: httpx.Client, dialect: Dialect, probe: Probe, secret: str) -> httpx.Response:
    headers = _headers(dialect, probe.key, secret, probe.content_type)
    if probe.target == "speech":
        return client.post(f"{dialect.prefix}/audio/speech", content=probe.body, headers=headers)
    headers.pop(b"content-type", None)
    data = {} if probe.purpose is None else {"purpose": probe.purpose}
    files = {"file": probe.upload} if probe.upload is not None else None
    return client.post(f"{dialect.prefix}/files", data=data, files=files, headers=headers)


@pytest.mark.parametrize("dialect", DIALECTS, ids=[dialect.name for dialect in DIALECTS])
def test_malformed_requests_get_the_dialects_errors(
    router: RunningRouter, api_key: str, dialect: Dialect
) -> None:
    seen = len(router.log())
    statuses: list[int] = []
    with httpx.Client(base_url=router.base_url, timeout=60) as client:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(probe=speech_probes | upload_probes)
        def probe_once(probe: Probe) -> None:
            response = _send(client, dialect, probe, api_key)
            statuses.append(response.status_code)
            assert response.status_code < 500, (probe, response.text)
            if response.status_code >= 400:
                assert dialect.shape(response.json()), (probe, response.text)

        probe_once()
    assert len(statuses) >= EXAMPLES
    assert sum(status >= 400 for status in statuses) > EXAMPLES // 2
    assert "Traceback" not in router.log()[seen:]
