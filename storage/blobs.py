"""Blob stores for voice files and stored audio: a local directory or an S3-compatible bucket."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import anyio
import anyio.to_thread
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import GetObjectOutputTypeDef

__all__ = [
    "BlobLocation",
    "BlobNotFoundError",
    "BlobStore",
    "LocalBlobStore",
    "S3BlobStore",
    "check_key",
    "open_blob_store",
]

DEFAULT_CHUNK_SIZE = 256 * 1024
MAX_KEY_LENGTH = 200
KEY_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
S3_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class BlobNotFoundError(LookupError):
    """No blob is stored under the key."""


class BlobStore(Protocol):
    """Bytes stored under relative, slash-separated keys."""

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; BlobNotFoundError if there are none."""

    async def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The bytes under `key` in chunks; BlobNotFoundError, raised here, if there are none."""

    async def delete(self, key: str) -> None:
        """Remove the blob under `key`, if there is one."""

    async def close(self) -> None:
        """Release the store's connections."""


class BlobLocation(Protocol):
    """Where blobs live: the fields of the router's blob settings."""

    @property
    def kind(self) -> str: ...
    @property
    def directory(self) -> Path | None: ...
    @property
    def bucket(self) -> str | None: ...
    @property
    def prefix(self) -> str: ...
    @property
    def endpoint_url(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def access_key_id(self) -> str | None: ...
    @property
    def secret_access_key(self) -> str | None: ...


def check_key(key: str) -> str:
    """`key` if it is a safe relative path of `[A-Za-z0-9._-]` segments; ValueError otherwise."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"blob key must be 1 to {MAX_KEY_LENGTH} characters")
    for segment in key.split("/"):
        if segment in {".", ".."} or not KEY_SEGMENT.fullmatch(segment):
            raise ValueError(f"invalid blob key {key!r}")
    return key


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")


async def _started(chunks: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes, None]:
    # Each generator first yields b"" once the blob is open, so a missing blob raises here.
    await anext(chunks)
    return chunks


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class LocalBlobStore:
    """Blobs as files under a root directory, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""
        path = self._path(key)
        await anyio.to_thread.run_sync(_write_atomically, path, data)

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; BlobNotFoundError if there are none."""
        path = self._path(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise BlobNotFoundError(key) from error

    async def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The bytes under `key` in chunks; BlobNotFoundError, raised here, if there are none."""
        _check_chunk_size(chunk_size)
        return await _started(self._chunks(self._path(key), key, chunk_size))

    async def _chunks(self, path: Path, key: str, chunk_size: int) -> AsyncGenerator[bytes, None]:
        try:
            file = await anyio.open_file(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise BlobNotFoundError(key) from error
        async with file:
            yield b""
            while chunk := await file.read(chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        """Remove the blob under `key`, if there is one."""
        path = self._path(key)
        await anyio.to_thread.run_sync(partial(path.unlink, missing_ok=True))

    async def close(self) -> None:
        """Nothing to release."""


class S3BlobStore:
    """Blobs as objects in an S3-compatible bucket, under an optional key prefix."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        *,
        owned: AsyncExitStack | None = None,
    ) -> None:
        self._client = client
        self._owned = owned or AsyncExitStack()
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    async def open(
        cls,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> S3BlobStore:
        """A store with its own client; no credentials means the default AWS credential chain."""
        owned = AsyncExitStack()
        client = await owned.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
            )
        )
        return cls(client, bucket, prefix, owned=owned)

    def _object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""
        await self._client.put_object(
            Bucket=self.bucket, Key=self._object_key(key), Body=data, ContentType=media_type
        )

    async def _get_object(self, key: str) -> GetObjectOutputTypeDef:
        try:
            return await self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as error:
            if _is_missing(error):
                raise BlobNotFoundError(key) from error
            raise

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; BlobNotFoundError if there are none."""
        response = await self._get_object(key)
        async with response["Body"] as body:
            return await body.read()

    async def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The bytes under `key` in chunks; BlobNotFoundError, raised here, if there are none."""
        _check_chunk_size(chunk_size)
        check_key(key)
        return await _started(self._chunks(key, chunk_size))

    async def _chunks(self, key: str, chunk_size: int) -> AsyncGenerator[bytes, None]:
        response = await self._get_object(key)
        async with response["Body"] as body:
            yield b""
            async for chunk in body.iter_chunks(chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        """Remove the blob under `key`, if there is one."""
        try:
            await self._client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as error:
            if not _is_missing(error):
                raise

    async def close(self) -> None:
        """Close the client this store opened."""
        await self._owned.aclose()


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in S3_MISSING_CODES


async def open_blob_store(settings: BlobLocation, default_dir: Path) -> BlobStore:
    """The store `settings` describe; a local one under `default_dir` unless they name another."""
    if settings.kind == "local":
        return LocalBlobStore(settings.directory or default_dir)
    if settings.kind == "s3":
        if not settings.bucket:
            raise ValueError("an S3 blob store needs a bucket")
        return await S3BlobStore.open(
            settings.bucket,
            prefix=settings.prefix,
            endpoint_url=settings.endpoint_url,
            region=settings.region,
            access_key_id=settings.access_key_id,
            secret_access_key=settings.secret_access_key,
        )
    raise ValueError(f"unknown blob store kind {settings.kind!r}")
