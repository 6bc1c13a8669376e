"""A router configured for S3 keeps voice files and stored audio in the bucket, not on disk."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
import pytest

from tests.integration.test_job_durability import config
from tests.integration.test_voice_files import PITCH, pitch_of_wav, recording
from tests.support.s3 import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    create_bucket,
    moto_server,
    s3_client,
)
from tests.support.setups import set_up


async def object_keys(endpoint: str, bucket: str) -> list[str]:
    """Every key in the bucket."""
    async with s3_client(endpoint) as client:
        listed = await client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_voice_files_and_outputs_live_in_s3(tmp_path: Path) -> None:
    bucket = f"router-{secrets.token_hex(4)}"
    with moto_server() as endpoint:
        asyncio.run(create_bucket(endpoint, bucket))
        blobs = f"""
[blobs]
kind = "s3"
bucket = "{bucket}"
prefix = "router/"
endpoint_url = "{endpoint}"
region = "{REGION}"
access_key_id = "{ACCESS_KEY_ID}"
secret_access_key = "{SECRET_ACCESS_KEY}"
"""
        setup = set_up(tmp_path, config("expressive", workers=1) + blobs)
        with setup.router() as router:
            headers = {"authorization": setup.key}
            with httpx.Client(base_url=router.base_url, headers=headers, timeout=60) as client:
                uploaded = client.post(
                    "/v1/files", files={"file": ("me.mp3", recording())}, data={"purpose": "voice"}
                )
                assert uploaded.status_code == 200, uploaded.text
                voice = uploaded.json()["id"]
                body = {"model": "Chatterbox", "input": "From the bucket.", "voice": voice}
                spoken = client.post("/distribute/v1/audio/speech", json=body)
                assert spoken.status_code == 200, spoken.text
                stored = httpx.get(spoken.json()[0]["url"])
                assert stored.status_code == 200
                assert pitch_of_wav(stored.content) == pytest.approx(PITCH, abs=3)
                keys = asyncio.run(object_keys(endpoint, bucket))
                assert [k.split("/")[1] for k in keys] == ["outputs", "voices"]
                assert all(k.startswith("router/") for k in keys)
                assert keys[1].endswith(f"/{voice}.wav")
                assert client.delete(f"/v1/files/{voice}").status_code == 200
                remaining = asyncio.run(object_keys(endpoint, bucket))
                assert [k.split("/")[1] for k in remaining] == ["outputs"]
        assert not (setup.data / "blobs").exists()
