"""Fuzzed request bodies never produce a 500 and always get an answer in OpenAI's shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = ("model", "input", "voice", "instructions", "response_format", "speed", "stream_format")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
# Short texts, including control characters, so that valid bodies synthesize quickly.
texts = st.text(st.characters(codec="utf-8"), min_size=0, max_size=30)
plausible = {
    "model": st.sampled_from(["tts-1", "gpt-4o-mini-tts", "kokoro", "tone", "", "nope"]),
    "input": texts,
    "voice": st.sampled_from(["alloy", "nova", "am_onyx", "", "nobody"])
    | st.builds(lambda v: {"id": v}, texts),
    "instructions": texts,
    "response_format": st.sampled_from(["mp3", "opus", "aac", "flac", "wav", "pcm", "ogg", ""]),
    "speed": st.floats(min_value=0.0, max_value=5.0) | st.integers(-5, 5),
    "stream_format": st.sampled_from(["audio", "sse", "x"]),
}
bodies = st.fixed_dictionaries(
    {},
    optional={name: plausible[name] | json_values for name in FIELDS} | {"unexpected": json_values},
)


def check(response: httpx.Response) -> None:
    """A success, or an error in OpenAI's envelope; never a server error."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_fuzzed_json_bodies(http: httpx.Client, body: dict[str, Any]) -> None:
    check(
        http.post(
            "/v1/audio/speech",
            content=json.dumps(body),
            headers={"content-type": "application/json"},
        )
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzzed_raw_bodies(http: httpx.Client, raw: bytes) -> None:
    check(http.post("/v1/audio/speech", content=raw, headers={"content-type": "application/json"}))


def test_huge_strings(http: httpx.Client) -> None:
    for field in ("model", "voice", "instructions", "input", "response_format"):
        body = {"model": "tts-1", "input": "Hi.", "voice": "alloy", field: "\u0007" * 300_000}
        check(http.post("/v1/audio/speech", json=body))
