"""The playground: streamed playback, capability-driven controls, cloning, snippets, errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import FilePayload, expect

from tests.browser.console import SPEECH_TIMEOUT_MS, Console, tone_wav
from tests.plugins.scripted import expressive_hz
from tests.support.audio import decode, dominant_frequency

AUDIO_STATE = """() => {
  const audio = document.getElementById("speech-audio");
  return {
    readyState: audio.readyState,
    duration: audio.duration,
    error: audio.error && audio.error.code,
    currentTime: audio.currentTime,
  };
}"""
# Times, in the page's clock, of the request, the first `playing` event and the Download link.
MARK_TIMES = """() => {
  window.marks = { start: performance.now() };
  const audio = document.getElementById("speech-audio");
  audio.addEventListener("playing", () => { window.marks.playing ??= performance.now(); });
  const download = document.getElementById("speech-download");
  new MutationObserver(() => {
    if (!download.hidden) window.marks.done ??= performance.now();
  }).observe(download, { attributes: true });
}"""


def play_and_wait(console: Console) -> None:
    """Press Play and wait until the whole file has arrived, with no error shown."""
    console.page.click("#speech-play")
    expect(console.page.locator("#speech-download")).to_be_visible(timeout=SPEECH_TIMEOUT_MS)
    expect(console.page.locator("#speech-error")).to_be_hidden()


def test_speech_plays_and_can_be_downloaded(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    page = console.page
    expect(page.locator("#speech-model")).to_have_value("tts-1")
    expect(page.locator("#speech-format")).to_have_value("mp3")
    page.fill("#speech-text", "The console plays this while it is spoken.")
    expect(page.locator("#speech-count")).to_have_text("42 / 4096 characters")
    play_and_wait(console)
    page.wait_for_function(
        "() => document.getElementById('speech-audio').currentTime > 0.2", timeout=SPEECH_TIMEOUT_MS
    )
    state = page.evaluate(AUDIO_STATE)
    assert state["readyState"] >= 2
    assert state["duration"] > 1
    assert state["error"] is None
    download = page.locator("#speech-download")
    expect(download).to_have_attribute("download", "speech.mp3")
    assert (download.get_attribute("href") or "").startswith("blob:")
    expect(page.locator("#speech-status")).to_contain_text("Done:")
    console.screenshot("playground")


def test_voices_are_offered_with_their_language_and_gender(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    page = console.page
    expect(page.locator("#speech-model")).to_have_value("tts-1")
    options = page.locator("#speech-voice")
    expect(options.locator('option[value="voice:onyx"]')).to_have_text(
        "onyx (American English, male)"
    )
    expect(options.locator('option[value="voice:bf_emma"]')).to_have_text(
        "bf_emma (British English, female)"
    )


def test_playback_starts_before_synthesis_ends(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    page = console.page
    page.select_option("#speech-model", "slow")
    page.evaluate(MARK_TIMES)
    play_and_wait(console)
    marks = page.evaluate("window.marks")
    # `slow` makes its audio over about three seconds.
    assert marks["playing"] < marks["done"] - 1000


@pytest.mark.parametrize("response_format", ["wav", "pcm", "opus"])
def test_formats_the_browser_cannot_stream_play_once_complete(
    console: Console, api_key: str, response_format: str
) -> None:
    console.sign_in(api_key)
    page = console.page
    page.select_option("#speech-model", "tone")
    page.select_option("#speech-format", response_format)
    play_and_wait(console)
    page.wait_for_function("() => document.getElementById('speech-audio').currentTime > 0.1")
    state = page.evaluate(AUDIO_STATE)
    assert state["duration"] == pytest.approx(2.0, abs=0.1)
    assert state["error"] is None
    expect(page.locator("#speech-download")).to_have_attribute(
        "download", f"speech.{response_format}"
    )


def test_the_character_count_follows_the_limit(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    page = console.page
    page.fill("#speech-text", "x" * 4097)
    expect(page.locator("#speech-count")).to_have_text("4097 / 4096 characters: 1 over the limit")
    page.click("#speech-play")
    expect(page.locator("#speech-error")).to_have_text(
        "The text is over this model's limit of 4096 characters by 1."
    )


def test_controls_appear_only_where_the_model_honours_them(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    page = console.page
    expect(page.locator("#speech-controls")).to_be_hidden()
    page.select_option("#speech-model", "Chatterbox")
    expect(page.locator("#speech-controls")).to_be_visible()
    controls = page.locator("[data-control]")
    expect(controls).to_have_count(3)
    assert controls.evaluate_all("inputs => inputs.map(input => input.dataset.control)") == [
        "temperature",
        "exaggeration",
        "cfg_weight",
    ]
    expect(page.get_by_label("Exaggeration")).to_have_attribute("max", "2")
    page.select_option("#speech-model", "tone")
    expect(page.locator("#speech-controls")).to_be_hidden()


def test_snippets_reproduce_the_request_without_the_key(
    console: Console, api_key: str, tmp_path: Path
) -> None:
    console.sign_in(api_key)
    page = console.page
    page.select_option("#speech-model", "Chatterbox")
    page.select_option("#speech-voice", "voice:nora")
    page.fill("#speech-text", 'It\'s "quoted" and\nsplit.')
    page.get_by_label("Exaggeration").fill("0.5")
    curl = page.inner_text("#snippet-curl")
    python = page.inner_text("#snippet-python")
    console.screenshot("playground-snippets")
    for snippet in (curl, python):
        assert api_key not in snippet
        assert "TTS_ROUTER_API_KEY" in snippet
    assert 'extra_body={"exaggeration": 0.5}' in python
    body = re.search(r"-d '(.*)' \\", curl, re.DOTALL)
    assert body is not None
    assert json.loads(body.group(1).replace("'\\''", "'")) == {
        "model": "Chatterbox",
        "voice": "nora",
        "input": 'It\'s "quoted" and\nsplit.',
        "response_format": "mp3",
        "speed": 1,
        "exaggeration": 0.5,
    }
    subprocess.run(
        [sys.executable, "-c", python],
        cwd=tmp_path,
        env={**os.environ, "TTS_ROUTER_API_KEY": api_key},
        check=True,
        timeout=60,
    )
    samples, rate, _ = decode((tmp_path / "speech.mp3").read_bytes(), "mp3")
    assert dominant_frequency(samples, rate) == pytest.approx(expressive_hz(0.5), abs=5)


def test_a_failed_synthesis_shows_the_api_message(
    console: Console, api_key: str, http: httpx.Client
) -> None:
    console.sign_in(api_key)
    page = console.page
    page.select_option("#speech-model", "down")
    page.click("#speech-play")
    body = {"model": "down", "input": "Hello from tts-router.", "voice": "alloy"}
    expected = http.post("/openai/v1/audio/speech", json=body).json()["error"]["message"]
    expect(page.locator("#speech-error")).to_have_text(expected)
    expect(page.locator("#speech-download")).to_be_hidden()
    console.screenshot("playground-failed-synthesis")


def test_an_uploaded_voice_is_chosen_and_spoken_with(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    page = console.page
    expect(page.locator("#voice-upload")).to_be_hidden()
    page.select_option("#speech-model", "Chatterbox")
    expect(page.locator("#voice-upload")).to_be_visible()
    recording: FilePayload = {"name": "me.wav", "mimeType": "audio/wav", "buffer": tone_wav()}
    page.set_input_files("#voice-file", files=recording)
    page.click("#voice-submit")
    expect(page.locator("#voice-status")).to_contain_text("Uploaded me.wav (3.0 s) as file-")
    voice = page.locator("#speech-voice").input_value()
    assert voice.startswith("file:file-")
    file_id = voice.removeprefix("file:")
    assert f'voice={{"id": "{file_id}"}}' in page.inner_text("#snippet-python")
    play_and_wait(console)
    page.wait_for_function("() => document.getElementById('speech-audio').currentTime > 0.1")
    # The scripted model says the reference recording back.
    assert page.evaluate(AUDIO_STATE)["duration"] == pytest.approx(3.0, abs=0.1)
    console.screenshot("playground-uploaded-voice")
