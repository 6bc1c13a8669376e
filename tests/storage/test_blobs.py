"""Both blob stores, the local directory and S3 (a real moto server), behave the same."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from router.settings import BlobSettings
from storage.blobs import (
    BlobNotFoundError,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    check_key,
    open_blob_store,
)
from tests.support.s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, moto_server, s3_client

pytestmark = pytest.mark.anyio

KEY = "voices/ten_abc/file-123.wav"
BAD_KEYS = ["../x", "/abs", "a//b", "a/./b", "a\\b", "a" * 201, "", "a/", "a/..", "voix é.wav"]


@dataclass(frozen=True)
class S3Bucket:
    """A bucket on a running S3 server."""

    endpoint_url: str
    name: str


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free local port."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
async def s3_bucket(s3_endpoint: str) -> S3Bucket:
    """A bucket shared by this module's tests, each under its own prefix."""
    bucket = S3Bucket(s3_endpoint, f"blobs-{secrets.token_hex(6)}")
    async with s3_client(s3_endpoint) as client:
        await client.create_bucket(Bucket=bucket.name)
    return bucket


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"tenant-{secrets.token_hex(6)}"


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_bucket: S3Bucket, prefix: str
) -> AsyncIterator[BlobStore]:
    """Each store kind in turn."""
    opened: BlobStore
    if request.param == "local":
        opened = LocalBlobStore(tmp_path / "blobs")
    else:
        opened = await S3BlobStore.open(
            s3_bucket.name,
            prefix=prefix,
            endpoint_url=s3_bucket.endpoint_url,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )
    yield opened
    await opened.close()


def files_under(root: Path) -> list[Path]:
    """Every file below `root`."""
    return [path for path in root.rglob("*") if path.is_file()]


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    """Every chunk of a stream."""
    return [chunk async for chunk in chunks]


async def test_put_then_get_returns_the_bytes(store: BlobStore) -> None:
    data = secrets.token_bytes(5000)
    await store.put(KEY, data, "audio/wav")
    assert await store.get(KEY) == data


async def test_put_overwrites(store: BlobStore) -> None:
    await store.put(KEY, b"first version", "audio/wav")
    await store.put(KEY, b"second", "audio/wav")
    assert await store.get(KEY) == b"second"


async def test_empty_blob_round_trips(store: BlobStore) -> None:
    await store.put("outputs/empty.bin", b"", "application/octet-stream")
    assert await store.get("outputs/empty.bin") == b""
    assert await collect(await store.stream("outputs/empty.bin")) == []


async def test_stream_yields_the_exact_bytes_in_chunks(store: BlobStore) -> None:
    data = secrets.token_bytes(10_000)
    await store.put(KEY, data, "audio/wav")
    chunks = await collect(await store.stream(KEY, chunk_size=1024))
    assert b"".join(chunks) == data
    assert len(chunks) >= 10
    assert all(0 < len(chunk) <= 1024 for chunk in chunks)


async def test_stream_with_the_default_chunk_size(store: BlobStore) -> None:
    data = secrets.token_bytes(300 * 1024)
    await store.put(KEY, data, "audio/wav")
    assert b"".join(await collect(await store.stream(KEY))) == data


async def test_stream_rejects_a_chunk_size_below_one(store: BlobStore) -> None:
    await store.put(KEY, b"data", "audio/wav")
    with pytest.raises(ValueError, match="chunk_size"):
        await store.stream(KEY, chunk_size=0)


async def test_get_of_a_missing_key_raises(store: BlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        await store.get("voices/missing.wav")


async def test_stream_of_a_missing_key_raises_before_iterating(store: BlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        await store.stream("voices/missing.wav")


async def test_a_key_under_a_blob_is_missing(store: BlobStore) -> None:
    await store.put("voices/a.wav", b"data", "audio/wav")
    with pytest.raises(BlobNotFoundError):
        await store.get("voices/a.wav/b.wav")
    with pytest.raises(BlobNotFoundError):
        await store.stream("voices")


async def test_delete_then_get_raises(store: BlobStore) -> None:
    await store.put(KEY, b"data", "audio/wav")
    await store.delete(KEY)
    with pytest.raises(BlobNotFoundError):
        await store.get(KEY)
    with pytest.raises(BlobNotFoundError):
        await store.stream(KEY)


async def test_delete_of_a_missing_key_is_fine(store: BlobStore) -> None:
    await store.delete("voices/never-stored.wav")
    with pytest.raises(BlobNotFoundError):
        await store.get("voices/never-stored.wav")


async def test_delete_leaves_other_keys(store: BlobStore) -> None:
    await store.put("voices/a.wav", b"a", "audio/wav")
    await store.put("voices/b.wav", b"b", "audio/wav")
    await store.delete("voices/a.wav")
    assert await store.get("voices/b.wav") == b"b"


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_every_method_rejects_a_bad_key(store: BlobStore, key: str) -> None:
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.put(key, b"data", "audio/wav"),
        lambda: store.get(key),
        lambda: store.stream(key),
        lambda: store.delete(key),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="blob key"):
            await call()


@pytest.mark.parametrize("key", BAD_KEYS)
def test_check_key_rejects(key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        check_key(key)


@pytest.mark.parametrize("key", [KEY, "a", "a" * 200, "x/.hidden", "v1.2/take-2_final.WAV"])
def test_check_key_accepts(key: str) -> None:
    assert check_key(key) == key


async def test_local_store_writes_the_file_under_root_and_leaves_no_temporaries(
    tmp_path: Path,
) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put(KEY, b"one", "audio/wav")
    await store.put(KEY, b"two", "audio/wav")
    assert (tmp_path / KEY).read_bytes() == b"two"
    assert files_under(tmp_path) == [tmp_path / KEY]


async def test_s3_store_writes_under_the_prefix_with_the_content_type(
    s3_bucket: S3Bucket, prefix: str
) -> None:
    store = await S3BlobStore.open(
        s3_bucket.name,
        prefix=f"/{prefix}/",
        endpoint_url=s3_bucket.endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    await store.put(KEY, b"data", "audio/wav")
    await store.close()
    async with s3_client(s3_bucket.endpoint_url) as client:
        listing = await client.list_objects_v2(Bucket=s3_bucket.name, Prefix=prefix)
        head = await client.head_object(Bucket=s3_bucket.name, Key=f"{prefix}/{KEY}")
    assert [item.get("Key") for item in listing.get("Contents", [])] == [f"{prefix}/{KEY}"]
    assert head["ContentType"] == "audio/wav"


async def test_s3_store_reports_other_errors(s3_bucket: S3Bucket) -> None:
    store = await S3BlobStore.open(
        f"absent-{secrets.token_hex(6)}",
        endpoint_url=s3_bucket.endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    with pytest.raises(ClientError, match="NoSuchBucket"):
        await store.get(KEY)
    with pytest.raises(ClientError, match="NoSuchBucket"):
        await store.stream(KEY)
    await store.close()


async def test_open_blob_store_defaults_to_a_local_directory(tmp_path: Path) -> None:
    store = await open_blob_store(BlobSettings(), tmp_path / "default")
    assert isinstance(store, LocalBlobStore)
    await store.put(KEY, b"data", "audio/wav")
    assert (tmp_path / "default" / KEY).read_bytes() == b"data"
    await store.close()


async def test_open_blob_store_uses_the_configured_directory(tmp_path: Path) -> None:
    settings = BlobSettings(kind="local", directory=tmp_path / "configured")
    store = await open_blob_store(settings, tmp_path / "default")
    await store.put(KEY, b"data", "audio/wav")
    assert (tmp_path / "configured" / KEY).read_bytes() == b"data"
    assert not (tmp_path / "default").exists()
    await store.close()


async def test_open_blob_store_opens_an_s3_bucket(
    tmp_path: Path, s3_bucket: S3Bucket, prefix: str
) -> None:
    settings = BlobSettings(
        kind="s3",
        bucket=s3_bucket.name,
        prefix=prefix,
        endpoint_url=s3_bucket.endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    store = await open_blob_store(settings, tmp_path)
    assert isinstance(store, S3BlobStore)
    await store.put(KEY, b"data", "audio/wav")
    await store.close()
    async with s3_client(s3_bucket.endpoint_url) as client:
        response = await client.get_object(Bucket=s3_bucket.name, Key=f"{prefix}/{KEY}")
        async with response["Body"] as body:
            assert await body.read() == b"data"
    assert files_under(tmp_path) == []
