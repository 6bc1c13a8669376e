"""What a running router tidies up on its own: expired limit counters and leases."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.setups import set_up

CONFIG = """
[gateway]
limit_purge_seconds = 0.2

[providers.scripted]
plugin = "scripted"

[[routes]]
model = "tone"
chain = [{ provider = "scripted", model = "tone" }]
"""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_expired_limit_counters_and_leases_are_purged(tmp_path: Path) -> None:
    setup = set_up(tmp_path, CONFIG)
    now = datetime.now(UTC).replace(tzinfo=None)
    with setup.router():
        with sqlite3.connect(setup.database) as db:
            db.executemany(
                "insert into limit_counters (key, value, expires_at) values (?, ?, ?)",
                [
                    ("rpm:old", 3, _stamp(now - timedelta(minutes=2))),
                    ("rpm:live", 1, _stamp(now + timedelta(hours=1))),
                ],
            )
            db.execute(
                "insert into concurrency_leases (key, holder, expires_at) values (?, ?, ?)",
                ("conc:old", "req_gone", _stamp(now - timedelta(minutes=1))),
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with sqlite3.connect(setup.database) as db:
                counters = {row[0] for row in db.execute("select key from limit_counters")}
                leases = db.execute("select count(*) from concurrency_leases").fetchone()[0]
            if "rpm:old" not in counters and leases == 0:
                break
            time.sleep(0.1)
    assert counters == {"rpm:live"}
    assert leases == 0
