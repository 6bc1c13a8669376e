"""A process's append-only record of answered requests whose usage rows are not yet committed.

Appending a line costs one `write` to the page cache, which a killed process cannot undo, so a
request can be answered without waiting for a database commit. Each process appends to its own
segment files and holds an exclusive `flock` on them while it lives; the segments of a process
that died are unlocked, and any process may claim them and restore the rows they hold.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from storage.models import UsageRecord, UTCDateTime

logger = logging.getLogger("tts_router.usage")

SEGMENT_SUFFIX = ".jsonl"
NEW_SUFFIX = ".new"
SEGMENT_BYTES = 4 * 1024 * 1024
DATETIME_COLUMNS = tuple(
    column.name for column in UsageRecord.__table__.columns if isinstance(column.type, UTCDateTime)
)
_ENCODER = msgspec.json.Encoder()
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One answered request: its usage row as it stood when answered, and its attempts."""

    row: dict[str, Any]
    attempts: list[dict[str, Any]]


@dataclass(slots=True)
class _Segment:
    path: Path
    fd: int
    size: int = 0
    pending: int = 0


@dataclass(slots=True)
class Orphan:
    """A dead process's segment, locked by this process until it is discarded or released."""

    path: Path
    fd: int
    entries: list[JournalEntry] = field(default_factory=list)

    def discard(self) -> None:
        """Delete the segment: its rows are in the database."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.fd)

    def release(self) -> None:
        """Keep the segment for a later claim."""
        os.close(self.fd)


class UsageJournal:
    """Appends entries to this process's segment; a segment goes once all its rows are settled."""

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self.directory = directory
        self._segment_bytes = segment_bytes
        self._current: _Segment | None = None
        self._segments: dict[Path, _Segment] = {}
        self._pending: dict[str, _Segment] = {}

    def open(self) -> None:
        """Create the directory and this process's first segment."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._current = self._new_segment()

    def close(self) -> None:
        """Delete settled segments; leave those with unsettled entries for a later claim."""
        for segment in list(self._segments.values()):
            if segment.pending == 0:
                self._remove(segment)
            else:
                os.close(segment.fd)
        self._segments.clear()
        self._pending.clear()
        self._current = None

    def append(
        self, request_id: str, row: Mapping[str, Any], attempts: Sequence[Mapping[str, Any]]
    ) -> None:
        """Record a request's row, which replaces any earlier entry of `request_id`.

        It stays pending until `settle(request_id)`.
        """
        segment = self._current
        if segment is None:
            raise RuntimeError("the usage journal is not open")
        if segment.size >= self._segment_bytes:
            segment = self._roll(segment)
        data = _ENCODER.encode({"row": row, "attempts": attempts}) + b"\n"
        # One write with O_APPEND: entries from this process never interleave.
        os.write(segment.fd, data)
        segment.size += len(data)
        segment.pending += 1
        self.settle(request_id)
        self._pending[request_id] = segment

    def settle(self, request_id: str) -> None:
        """The row of `request_id` is committed; its segment may go once nothing else pends."""
        segment = self._pending.pop(request_id, None)
        if segment is None:
            return
        segment.pending -= 1
        if segment.pending == 0 and segment is not self._current:
            self._remove(segment)

    def claim_orphans(self) -> list[Orphan]:
        """Lock and read every segment whose process is gone; the caller discards or releases."""
        if not self.directory.is_dir():
            return []
        orphans = []
        for path in sorted(self.directory.iterdir()):
            if path in self._segments or not path.name.endswith((SEGMENT_SUFFIX, NEW_SUFFIX)):
                continue
            orphan = self._claim(path)
            if orphan is not None:
                orphans.append(orphan)
        return orphans

    def _claim(self, path: Path) -> Orphan | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        if os.fstat(fd).st_nlink == 0:
            # Another process claimed and deleted it between our open and our lock.
            os.close(fd)
            return None
        with open(fd, "rb", closefd=False) as stream:
            lines = stream.read().splitlines()
        return Orphan(path, fd, [entry for entry in map(self._decode, lines) if entry])

    def _decode(self, line: bytes) -> JournalEntry | None:
        try:
            data = msgspec.json.decode(line)
            row = dict(data["row"])
            for name in DATETIME_COLUMNS:
                if row.get(name) is not None:
                    row[name] = datetime.fromisoformat(row[name])
            return JournalEntry(row, list(data["attempts"]))
        except (msgspec.DecodeError, ValueError, KeyError, TypeError):
            logger.warning("skipped an unreadable usage journal line")
            return None

    def _new_segment(self) -> _Segment:
        while True:
            name = f"{uuid.uuid4().hex}{SEGMENT_SUFFIX}"
            fresh = self.directory / f".{name}{NEW_SUFFIX}"
            fd = os.open(fresh, _OPEN_FLAGS, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # Locked before it takes the name that others claim by.
                path = self.directory / name
                os.rename(fresh, path)
            except (BlockingIOError, FileNotFoundError):
                # Another process claimed the empty file before our lock; take a new name.
                os.close(fd)
                continue
            segment = _Segment(path, fd)
            self._segments[path] = segment
            return segment

    def _roll(self, full: _Segment) -> _Segment:
        self._current = self._new_segment()
        if full.pending == 0:
            self._remove(full)
        return self._current

    def _remove(self, segment: _Segment) -> None:
        with contextlib.suppress(FileNotFoundError):
            segment.path.unlink()
        os.close(segment.fd)
        self._segments.pop(segment.path, None)
