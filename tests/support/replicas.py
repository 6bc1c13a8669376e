"""Router replicas as a deployment runs them: one PostgreSQL, one Redis and one S3 bucket."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.support.databases import REDIS_URL, postgres_database
from tests.support.s3 import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    create_bucket,
    moto_server,
)
from tests.support.server import RunningRouter, cli, run_router
from tests.support.setups import write_config
from tests.support.tcp_proxy import TcpProxy, proxy_to

CONFIG = """
[providers.scripted]
plugin = "scripted"
options = {{ expressive_delay = {delay} }}

[[routes]]
model = "tone"
chain = [{{ provider = "scripted", model = "tone" }}]

[[routes]]
model = "slow"
chain = [{{ provider = "scripted", model = "slow" }}]

[[routes]]
model = "Chatterbox"
chain = [{{ provider = "scripted", model = "expressive" }}]

[jobs]
poll_seconds = 0.1
workers = {workers}
lease_seconds = 2

[blobs]
kind = "s3"
bucket = "{bucket}"
endpoint_url = "{endpoint}"
region = "{region}"
access_key_id = "{access_key_id}"
secret_access_key = "{secret_access_key}"
"""


@dataclass(frozen=True)
class Topology:
    """The shared stores, a config over them, and an admin key of tenant `acme`."""

    root: Path
    config: Path
    plugins: Path
    env: dict[str, str]
    admin_key: str
    # The routers reach PostgreSQL through this proxy, which a test may cut.
    database: TcpProxy

    def replica(self, index: int) -> AbstractContextManager[RunningRouter]:
        """Start replica `index`; the same index again is that replica restarted."""
        return run_router(
            self.root / f"data{index}", config=self.config, python_path=self.plugins, env=self.env
        )


@contextmanager
def topology(root: Path, *, workers: int = 1, delay: float = 0.0) -> Iterator[Topology]:
    """Fresh PostgreSQL database, the shared Redis, a moto S3 bucket, and a config for them."""
    bucket = f"replicas-{secrets.token_hex(4)}"
    with moto_server() as endpoint, postgres_database() as url:
        asyncio.run(create_bucket(endpoint, bucket))
        text = CONFIG.format(
            delay=delay,
            workers=workers,
            bucket=bucket,
            endpoint=endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )
        config, plugins = write_config(root, text)
        direct = {"TTS_ROUTER_DATABASE_URL": url}
        cli("db", "upgrade", env=direct)
        cli("tenants", "create", "acme", env=direct)
        admin = cli("keys", "create", "--tenant", "acme", "--admin", env=direct)[-1]
        parts = urlsplit(url)
        with proxy_to(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
            proxied = urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
            env = {"TTS_ROUTER_DATABASE_URL": proxied, "TTS_ROUTER_REDIS_URL": REDIS_URL}
            yield Topology(root, config, plugins, env, admin, proxy)
