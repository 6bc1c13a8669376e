"""The console's time-to-first-byte percentiles: nearest rank, None without samples."""

from __future__ import annotations

import pytest

from router.console.views import percentile


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.95, 7.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
        ([float(n) for n in range(1, 101)], 0.5, 50.0),
        ([float(n) for n in range(1, 101)], 0.95, 95.0),
        ([float(n) for n in range(1, 11)], 0.95, 10.0),
    ],
)
def test_nearest_rank(values: list[float], share: float, expected: float | None) -> None:
    assert percentile(values, share) == expected
