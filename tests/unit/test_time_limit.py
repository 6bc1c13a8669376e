"""Every test runs under a time limit, so a hung one fails alone instead of stalling the run."""

from __future__ import annotations

import pytest


def test_every_test_has_a_time_limit(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert 60 <= float(pytestconfig.getini("timeout")) <= 1800
