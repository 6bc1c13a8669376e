"""Voice blends are read into voices and shares, and bad ones are refused with a reason."""

from __future__ import annotations

import pytest

from providers.voice_blend import BlendError, is_blend, parse_blend


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("af_bella(2)+af_sky(1)", [("af_bella", 2 / 3), ("af_sky", 1 / 3)]),
        ("nova + onyx", [("nova", 0.5), ("onyx", 0.5)]),
        ("af_heart(0.5)+am_adam(1.5)", [("af_heart", 0.25), ("am_adam", 0.75)]),
        ("af_heart(1)+af_heart(1)+am_adam(2)", [("af_heart", 0.5), ("am_adam", 0.5)]),
        ("af_heart(3)", [("af_heart", 1.0)]),
    ],
)
def test_a_blend_is_its_voices_and_their_shares(name: str, parts: list[tuple[str, float]]) -> None:
    assert is_blend(name)
    parsed = parse_blend(name)
    assert [part.voice for part in parsed] == [voice for voice, _ in parts]
    assert [part.share for part in parsed] == pytest.approx([share for _, share in parts])


@pytest.mark.parametrize("name", ["alloy", "af_heart", "file-abc"])
def test_a_plain_name_is_not_a_blend(name: str) -> None:
    assert not is_blend(name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("af_bella(0)+af_sky", "weight of `af_bella`.*above 0"),
        ("af_bella(-1)+af_sky", "weight of `af_bella`.*above 0"),
        ("af_bella++af_sky", "empty part"),
        ("af_bella+", "empty part"),
        ("(2)+af_sky", r"`\(2\)`.*not a voice name"),
        ("af_bella(2", r"`af_bella\(2`.*not a voice name"),
        ("af_bella(x)+af_sky", r"`af_bella\(x\)`.*not a voice name"),
    ],
)
def test_a_bad_blend_says_what_is_wrong(name: str, reason: str) -> None:
    with pytest.raises(BlendError, match=reason):
        parse_blend(name)
