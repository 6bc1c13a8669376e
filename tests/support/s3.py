"""A real S3-compatible server (moto) for tests, and a plain client to look into it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiobotocore.session import ClientCreatorContext, get_session
from moto.server import ThreadedMotoServer
from types_aiobotocore_s3 import S3Client

REGION = "us-east-1"
ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key"  # noqa: S105


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server on a free local port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> ClientCreatorContext[S3Client]:
    """A plain S3 client on the server, to look behind a store's back."""
    return get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


async def create_bucket(endpoint: str, name: str) -> None:
    """Create a bucket on the server."""
    async with s3_client(endpoint) as client:
        await client.create_bucket(Bucket=name)
