"""What a target model can do: refuse the rest, and put the request in the target's terms."""

from __future__ import annotations

from typing import Any

from providers.api import SAMPLING_CONTROLS, BuiltinVoice, ModelCard, SpeechRequest, UploadedVoice
from providers.voice_blend import BlendError, is_blend, parse_blend
from router.errors import InvalidRequestError
from router.speech.routing import Target


def fit_request(request: SpeechRequest, target: Target) -> SpeechRequest:
    """`request` as `target` takes it, or the refusal of what its model cannot do."""
    voice = request.voice
    if isinstance(voice, BuiltinVoice) and voice.name != target.voice_for(voice.name):
        mapped = BuiltinVoice(name=target.voice_for(voice.name))
        request = request.model_copy(update={"voice": mapped})
    check_request(request, target.card)
    return for_provider(request, target.card)


def check_request(request: SpeechRequest, card: ModelCard) -> None:
    """Refuse what the target model cannot do, before any audio is made."""
    if len(request.input) > card.max_input_chars:
        msg = (
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"{card.max_input_chars}, but got a string with length {len(request.input)} instead."
        )
        raise InvalidRequestError(msg, param="input", code="string_above_max_length")
    if request.word_timestamps and not card.word_timestamps:
        msg = f"Model `{request.model}` cannot time words; leave 'timestamps' out for it."
        raise InvalidRequestError(msg, param="timestamps", code="unsupported_value")
    voice = request.voice
    if isinstance(voice, UploadedVoice):
        if not card.voice_cloning:
            msg = f"Model `{request.model}` does not support custom voices."
            raise InvalidRequestError(msg, param="voice", code="unsupported_value")
    elif card.voice_blends and is_blend(voice.name):
        _check_blend(voice.name, request.model, card)
    elif not card.has_voice(voice.name):
        raise _unknown_voice(voice.name, request.model, card)


def _check_blend(name: str, model: str, card: ModelCard) -> None:
    try:
        parts = parse_blend(name)
    except BlendError as exc:
        raise InvalidRequestError(f"Invalid 'voice': {exc}.", param="voice") from None
    for part in parts:
        if not card.has_voice(part.voice):
            raise _unknown_voice(part.voice, model, card, blend=name)


def _unknown_voice(
    name: str, model: str, card: ModelCard, blend: str | None = None
) -> InvalidRequestError:
    known = ", ".join(v.id for v in card.voices)
    where = f" (in the blend `{blend}`)" if blend else ""
    msg = f"Voice `{name}`{where} is not available for model `{model}`. Available voices: {known}."
    return InvalidRequestError(msg, param="voice", code="invalid_value")


def for_provider(request: SpeechRequest, card: ModelCard) -> SpeechRequest:
    """The request as the provider model sees it: its own id, and only the controls it honours."""
    update: dict[str, Any] = {"model": card.id}
    if not card.native_speed:
        update["speed"] = 1.0
    if not card.instructions:
        update["instructions"] = None
    for control in SAMPLING_CONTROLS:
        if control not in card.sampling_controls:
            update[control] = None
    return request.model_copy(update=update)
