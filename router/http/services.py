"""The long-lived objects every HTTP handler reaches through the app's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from litestar import Request

from providers.api import Provider
from router.accounts.auth import Authenticator
from router.accounts.management import Accounts
from router.metrics import Metrics
from router.speech.breaker import Breakers
from router.speech.jobs import SpeechJobs
from router.speech.outputs import AudioOutputs
from router.speech.service import SpeechService
from router.speech.voices import VoiceLibrary
from storage.usage_records import UsageRepository


@dataclass(frozen=True, slots=True)
class Services:
    """The long-lived objects handlers use, built once at startup."""

    speech: SpeechService
    jobs: SpeechJobs
    authenticator: Authenticator
    accounts: Accounts
    usage: UsageRepository
    providers: Mapping[str, Provider]
    outputs: AudioOutputs
    voices: VoiceLibrary
    breakers: Breakers
    metrics: Metrics
    started_at: int
    default_dialect: str


def services(request: Request[Any, Any, Any]) -> Services:
    """The app's services."""
    return cast("Services", request.app.state["services"])
