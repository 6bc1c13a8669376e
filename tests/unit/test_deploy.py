"""deploy/compose.yaml runs the topology the replica tests run, with a config that checks clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from router.cli.config_check import check_config
from router.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_the_compose_file_has_replicas_and_their_shared_stores() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "minio", "bucket", "migrate", "balancer"} <= set(services)
    replicas = [name for name in services if name.startswith("router-")]
    assert len(replicas) >= 2
    environments = [services[name]["environment"] for name in replicas]
    assert all(env == environments[0] for env in environments)
    assert environments[0]["TTS_ROUTER_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environments[0]["TTS_ROUTER_REDIS_URL"].startswith("redis://redis:")
    journals = {volume for name in replicas for volume in services[name]["volumes"]}
    assert len(journals) == len(replicas) + 1  # the shared config and one data volume each
    balanced = services["balancer"]["command"]
    assert [balanced[i + 1] for i, arg in enumerate(balanced) if arg == "--to"] == [
        f"{name}:8000" for name in replicas
    ]


def test_the_replicas_config_checks_clean_and_shares_its_blobs() -> None:
    config = DEPLOY / "router.toml"
    assert [problem for problem in check_config(config) if not problem.warning] == []
    env = _compose()["services"]["router-1"]["environment"]
    settings = load_settings(config, env=env)
    assert settings.blobs.kind == "s3"
    assert settings.replica_problem() is None
    bucket = _compose()["services"]["bucket"]["entrypoint"][-1]
    assert f"store/{settings.blobs.bucket}" in bucket
