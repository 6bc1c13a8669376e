"""One frozen Settings object, built once from the embedded defaults, a config file and env."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from router.http.dialects import DEFAULT_DIALECT, DialectName

DATA_DIR_ENV = "TTS_ROUTER_DATA_DIR"
DATABASE_URL_ENV = "TTS_ROUTER_DATABASE_URL"
REDIS_URL_ENV = "TTS_ROUTER_REDIS_URL"
PLUGINS_ENV = "TTS_ROUTER_PLUGINS"


class Price(BaseModel):
    """What a provider costs: per input character, per audio second, with a minimum of seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_character: float = Field(default=0.0, ge=0)
    per_second: float = Field(default=0.0, ge=0)
    minimum_seconds: float = Field(default=0.0, ge=0)

    def cost(self, characters: int, seconds: float) -> float:
        """The cost of a request that produced `seconds` of audio from `characters`."""
        if seconds <= 0:
            return 0.0
        return self.per_character * characters + self.per_second * max(
            seconds, self.minimum_seconds
        )


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerSettings(_Section):
    """Where and how the HTTP server listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The absolute base of URLs the router hands out; by default, the base URL a request came to.
    public_url: str | None = None
    # The dialect of the shared root paths (`/v1/audio/speech`) for keys that name none.
    default_dialect: DialectName = DEFAULT_DIALECT
    # How long an idle keep-alive connection stays open. Longer than clients keep theirs (httpx
    # and the SDKs built on it: 5 s), so that a client never reuses one the server is closing.
    keep_alive_seconds: int = Field(default=75, ge=1)


class BlobSettings(_Section):
    """Where voice files and stored audio live: a local directory or an S3-compatible bucket."""

    kind: Literal["local", "s3"] = "local"
    directory: Path | None = None
    bucket: str | None = None
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    # Every replica mounts the same `directory` (NFS, a shared volume), so that a local store
    # may serve replicas that share a database.
    shared_directory: bool = False

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> BlobSettings:
        if self.kind == "s3" and not self.bucket:
            raise ValueError("blobs: kind 's3' needs a bucket")
        return self


class VoiceFileSettings(_Section):
    """Limits on uploaded reference audio."""

    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    min_seconds: float = Field(default=1.0, ge=0)
    max_seconds: float = Field(default=60.0, gt=0)


class OutputSettings(_Section):
    """Synthesized audio kept for download through signed URLs."""

    url_ttl_seconds: int = Field(default=24 * 3600, ge=1)


class JobSettings(_Section):
    """Durable async speech jobs, processed by workers in every router process."""

    workers: int = Field(default=2, ge=0)
    max_queued: int = Field(default=1000, ge=1)
    lease_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    retention_seconds: int = Field(default=24 * 3600, ge=1)
    poll_seconds: float = Field(default=0.5, gt=0)
    purge_seconds: float = Field(default=60.0, gt=0)


class RoutingSettings(_Section):
    """How a request moves along its chain until a provider makes its first audio."""

    # Over all attempts, until the first audio; a stream that has started is not cut short.
    deadline_seconds: float = Field(default=60.0, gt=0)
    # One provider's time to its first audio.
    attempt_timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=4, ge=1)
    # Before trying a provider again: doubling from `backoff_seconds`, with full jitter.
    backoff_seconds: float = Field(default=0.1, ge=0)
    max_backoff_seconds: float = Field(default=2.0, ge=0)
    # A provider's Retry-After up to this long is waited for; a longer one is not retried.
    max_retry_after_seconds: float = Field(default=5.0, ge=0)


class BreakerSettings(_Section):
    """When a provider's circuit breaker opens, and for how long."""

    enabled: bool = True
    consecutive_failures: int = Field(default=5, ge=1)
    # The failure rate over the last `window` attempts that opens it, once `min_calls` were made.
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    window: int = Field(default=20, ge=1)
    min_calls: int = Field(default=10, ge=1)
    open_seconds: float = Field(default=30.0, gt=0)


class ProviderSettings(_Section):
    """One configured provider: its plugin, the plugin's options, its price and its breaker."""

    plugin: str
    options: dict[str, Any] = Field(default_factory=dict)
    price: Price | None = None
    # This provider's time to first audio, instead of `[routing] attempt_timeout_seconds`.
    timeout_seconds: float | None = Field(default=None, gt=0)
    breaker: BreakerSettings | None = None


class GatewaySettings(_Section):
    """The gateway's own work on each request; each can be switched off."""

    auth: bool = True
    limits: bool = True
    usage: bool = True
    key_cache_seconds: float = Field(default=2.0, ge=0)
    # Usage rows finished within this many seconds of each other share one commit.
    usage_batch_seconds: float = Field(default=0.05, ge=0, le=5)
    # How often a running process looks for usage journals left by processes that died.
    usage_restore_seconds: float = Field(default=30.0, gt=0)
    # With Redis unreachable: refuse requests (503 `limits_unavailable`), or count in the database.
    limits_fallback: Literal["refuse", "database"] = "refuse"
    # How often expired counters and leases are deleted from the database's limit tables.
    limit_purge_seconds: float = Field(default=300.0, gt=0)


class ChainStep(_Section):
    """One provider model in a route's chain, with the voice names it knows ours by."""

    provider: str
    model: str
    voices: dict[str, str] = Field(default_factory=dict)
    # Consecutive steps with a weight share load: each request tries them in an order drawn
    # by weight, at their place in the chain.
    weight: float | None = Field(default=None, gt=0)


class RouteSettings(_Section):
    """A public model name, its aliases and the providers that serve it, in order."""

    model: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    chain: tuple[ChainStep, ...] = Field(min_length=1)


class Settings(_Section):
    """Everything the service needs to run."""

    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    plugins: tuple[str, ...] | None = None
    server: ServerSettings = ServerSettings()
    gateway: GatewaySettings = GatewaySettings()
    blobs: BlobSettings = BlobSettings()
    voice_files: VoiceFileSettings = VoiceFileSettings()
    outputs: OutputSettings = OutputSettings()
    jobs: JobSettings = JobSettings()
    routing: RoutingSettings = RoutingSettings()
    breaker: BreakerSettings = BreakerSettings()
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    routes: tuple[RouteSettings, ...] = ()

    @model_validator(mode="after")
    def _routes_name_providers(self) -> Settings:
        unknown = [
            f"routes[{r}].chain[{s}].provider: unknown provider {step.provider!r}"
            for r, route in enumerate(self.routes)
            for s, step in enumerate(route.chain)
            if step.provider not in self.providers
        ]
        if unknown:
            raise ValueError("; ".join(unknown))
        return self

    def breaker_for(self, provider: str) -> BreakerSettings:
        """The breaker settings of `provider`: its own, else the shared `[breaker]`."""
        config = self.providers.get(provider)
        return (config.breaker if config else None) or self.breaker

    def attempt_timeout_for(self, provider: str) -> float:
        """How long `provider` may take to its first audio."""
        config = self.providers.get(provider)
        own = config.timeout_seconds if config else None
        return own or self.routing.attempt_timeout_seconds

    @property
    def blob_dir(self) -> Path:
        """Where the local blob store keeps voice files and stored audio."""
        return self.blobs.directory or self.data_dir / "blobs"

    @property
    def embedded_database(self) -> bool:
        """Whether the database is the default SQLite file under the data dir."""
        return not self.database_url

    def replica_problem(self) -> str | None:
        """Why replicas sharing this database would lose files, if they would."""
        shared = not self.resolved_database_url.startswith("sqlite")
        if shared and self.blobs.kind == "local" and not self.blobs.shared_directory:
            return (
                "blobs: a shared database with a local blob store: a voice file or audio kept "
                'by one replica would be missing on the others. Use [blobs] kind = "s3", or '
                "set shared_directory = true if every replica mounts the same directory."
            )
        return None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tts-router.sqlite3').resolve()}"


def embedded_defaults() -> dict[str, Any]:
    """The defaults shipped inside the package."""
    text = resources.files("router").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_settings(
    config_file: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from the embedded defaults, then the config file's tables, env and overrides."""
    env = os.environ if env is None else env
    data: dict[str, Any] = embedded_defaults()
    if config_file is not None:
        with config_file.open("rb") as handle:
            data.update(tomllib.load(handle))
    if DATA_DIR_ENV in env:
        data["data_dir"] = env[DATA_DIR_ENV]
    if DATABASE_URL_ENV in env:
        data["database_url"] = env[DATABASE_URL_ENV]
    if REDIS_URL_ENV in env:
        data["redis_url"] = env[REDIS_URL_ENV]
    if PLUGINS_ENV in env:
        data["plugins"] = [name for name in env[PLUGINS_ENV].split(",") if name]
    data.update({key: value for key, value in (overrides or {}).items() if value is not None})
    return Settings.model_validate(data)
