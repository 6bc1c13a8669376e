"""Usage writing: journal segments, restoring rows of dead processes, the writer connection."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select

from router.accounts.ledger import INTERRUPTED, DatabaseLedger
from storage.database import create_engine
from storage.models import IN_PROGRESS, ProviderAttempt, UsageRecord
from storage.usage_journal import UsageJournal
from storage.usage_writer import UsageWriter
from tests.support.databases import migrated_database, sessions

STARTED = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def row(request_id: str, status: int = IN_PROGRESS) -> dict[str, Any]:
    """A usage row as the ledger writes it."""
    return {
        "request_id": request_id,
        "created_at": STARTED,
        "day": "2026-03-01",
        "dialect": "openai",
        "tenant_id": "ten_journal",
        "key_id": None,
        "requested_model": "tts-1",
        "voice": "alloy",
        "response_format": "mp3",
        "input_characters": 12,
        "provider": "kokoro",
        "upstream_model": "kokoro-82m",
        "audio_seconds": 0.0 if status == IN_PROGRESS else 1.5,
        "output_bytes": 0,
        "time_to_first_byte_ms": None,
        "latency_ms": None,
        "status": status,
        "error_code": None,
        "cost_usd": 0.0,
        "failovers": 1,
        "finished_at": None if status == IN_PROGRESS else STARTED,
    }


def attempts() -> list[dict[str, Any]]:
    """A failed try, then the one that answered."""
    return [
        {"attempt": 1, "provider": "upstream", "upstream_model": "tts-1", "status": 503,
         "error_code": "provider_unavailable", "latency_ms": 4.0},
        {"attempt": 2, "provider": "kokoro", "upstream_model": "kokoro-82m", "status": 200,
         "error_code": None, "latency_ms": 9.0},
    ]  # fmt: skip


def request_id() -> str:
    """A fresh request id."""
    return f"req_{secrets.token_hex(12)}"


def segments(directory: Path) -> list[Path]:
    """The segment files in `directory`."""
    return sorted(directory.glob("*.jsonl"))


def test_a_settled_segment_is_removed_once_full(tmp_path: Path) -> None:
    journal = UsageJournal(tmp_path, segment_bytes=1)
    journal.open()
    first, second = request_id(), request_id()
    journal.append(first, row(first), [])
    [holding_first] = segments(tmp_path)
    journal.append(second, row(second), [])
    assert len(segments(tmp_path)) == 2
    journal.settle(first)
    assert holding_first not in segments(tmp_path)
    assert len(segments(tmp_path)) == 1
    journal.settle(second)
    journal.close()
    assert list(tmp_path.iterdir()) == []


def test_a_live_process_segments_are_never_claimed(tmp_path: Path) -> None:
    live, other = UsageJournal(tmp_path), UsageJournal(tmp_path)
    live.open()
    other.open()
    answered = request_id()
    live.append(answered, row(answered), attempts())
    assert other.claim_orphans() == []
    live.close()  # as a process that stops with a row still unwritten
    [orphan] = other.claim_orphans()
    assert [entry.row for entry in orphan.entries] == [row(answered)]
    assert orphan.entries[0].attempts == attempts()
    assert UsageJournal(tmp_path).claim_orphans() == []  # locked by `other` until it lets go
    orphan.discard()
    other.close()
    assert list(tmp_path.iterdir()) == []


def test_a_row_journaled_again_replaces_its_earlier_entry(tmp_path: Path) -> None:
    journal = UsageJournal(tmp_path, segment_bytes=1)
    journal.open()
    answered = request_id()
    journal.append(answered, row(answered), attempts())
    [in_progress] = segments(tmp_path)
    journal.append(answered, row(answered, status=200), attempts())
    assert in_progress not in segments(tmp_path)  # nothing in it is pending any more
    journal.settle(answered)
    journal.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("finished_first", [True, False])
def test_restoring_prefers_a_finished_row_over_its_in_progress_entry(
    database_url: str, tmp_path: Path, finished_first: bool
) -> None:
    answered = request_id()
    directory = tmp_path / "journal"
    for name, status in (("a", 200), ("b", IN_PROGRESS)):
        dead = UsageJournal(directory)
        dead.open()
        dead.append(answered, row(answered, status=status), [])
        dead.close()
        [fresh] = [path for path in segments(directory) if len(path.stem) > 1]
        order = name if finished_first else {"a": "b", "b": "a"}[name]
        fresh.rename(directory / f"{order}.jsonl")

    async def main() -> None:
        engine = create_engine(database_url)
        writer = UsageWriter(engine)
        await writer.start()
        try:
            survivor = UsageJournal(directory)
            assert await DatabaseLedger(writer, survivor).restore_orphans() == 1
        finally:
            await writer.close()
            await engine.dispose()
        async with sessions(database_url) as factory, factory() as session:
            stored = await session.scalar(
                select(UsageRecord).where(UsageRecord.request_id == answered)
            )
        assert stored is not None
        assert (stored.status, stored.audio_seconds) == (200, 1.5)

    asyncio.run(main())
    assert list(directory.iterdir()) == []


def test_the_writer_lingers_so_that_rows_share_a_commit(database_url: str) -> None:
    first, second = request_id(), request_id()
    committed: list[str] = []

    async def stored() -> list[str]:
        async with sessions(database_url) as factory, factory() as session:
            found = await session.scalars(
                select(UsageRecord.request_id).where(UsageRecord.request_id.in_([first, second]))
            )
            return sorted(found)

    async def main() -> None:
        engine = create_engine(database_url)
        writer = UsageWriter(engine, linger_seconds=60)
        await writer.start()
        try:
            writer.submit(row(first, status=200), committed=lambda: committed.append(first))
            await asyncio.sleep(0.3)
            writer.submit(row(second, status=200), committed=lambda: committed.append(second))
            assert committed == []
            assert await stored() == []
            await writer.flush()  # a flush does not linger
            assert committed == [first, second]
            assert await stored() == sorted([first, second])
        finally:
            await writer.close()
            await engine.dispose()

    asyncio.run(main())


def test_a_torn_line_is_skipped(tmp_path: Path) -> None:
    dead = UsageJournal(tmp_path)
    dead.open()
    whole = request_id()
    dead.append(whole, row(whole), [])
    [path] = segments(tmp_path)
    dead.close()
    with path.open("a") as stream:
        stream.write('{"row": {"request_id": "req_t')
    [orphan] = UsageJournal(tmp_path).claim_orphans()
    assert [entry.row["request_id"] for entry in orphan.entries] == [whole]
    orphan.release()


def test_restoring_writes_only_rows_the_database_lacks(database_url: str, tmp_path: Path) -> None:
    finished, cut_off = request_id(), request_id()
    directory = tmp_path / "journal"

    async def main() -> None:
        engine = create_engine(database_url)
        writer = UsageWriter(engine)
        await writer.start()
        try:
            dead = UsageJournal(directory)
            dead.open()
            dead.append(finished, row(finished), [])
            dead.append(cut_off, row(cut_off), attempts())
            writer.submit(row(finished, status=200), attempts())
            await writer.flush()
            dead.close()
            survivor = UsageJournal(directory)
            survivor.open()
            ledger = DatabaseLedger(writer, survivor)
            assert await ledger.restore_orphans() == 1
            assert await ledger.restore_orphans() == 0
            survivor.close()
        finally:
            await writer.close()
            await engine.dispose()
        async with sessions(database_url) as factory, factory() as session:
            stored = {
                record.request_id: record
                for record in (await session.scalars(select(UsageRecord))).all()
            }
            tries = (await session.scalars(select(ProviderAttempt))).all()
        assert set(stored) == {finished, cut_off}
        assert stored[finished].status == 200
        assert stored[finished].audio_seconds == 1.5
        # The dead process's request that never finished ended with it.
        assert (stored[cut_off].status, stored[cut_off].error_code) == (INTERRUPTED, "interrupted")
        assert stored[cut_off].finished_at is not None
        assert stored[cut_off].created_at == STARTED
        assert stored[cut_off].provider == "kokoro"
        per_row = sorted((attempt.usage_id, attempt.attempt) for attempt in tries)
        ids = {stored[finished].id, stored[cut_off].id}
        assert per_row == sorted((usage_id, n) for usage_id in ids for n in (1, 2))

    asyncio.run(main())
    assert list(directory.iterdir()) == []


def test_the_writer_replaces_a_lost_connection(tmp_path: Path) -> None:
    before, after = request_id(), request_id()

    async def main(url: str) -> None:
        engine = create_engine(url)
        writer = UsageWriter(engine)
        await writer.start()
        try:
            writer.submit(row(before, status=200))
            await writer.flush()
            dsn = url.replace("postgresql+asyncpg://", "postgresql://")
            admin = await asyncpg.connect(dsn)
            try:
                killed = await admin.fetchval(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                    " where datname = current_database() and pid <> pg_backend_pid()"
                )
            finally:
                await admin.close()
            assert killed >= 1
            writer.submit(row(after, status=200))
            await writer.flush()
        finally:
            await writer.close()
            await engine.dispose()
        async with sessions(url) as factory, factory() as session:
            stored = (await session.scalars(select(UsageRecord.request_id))).all()
        assert sorted(stored) == sorted([before, after])

    with migrated_database("postgresql", tmp_path) as url:
        asyncio.run(main(url))
