"""The dialer asks which zones are open at every tick: the answer is worked out once a minute
(checking every zone took ~30 ms on the event loop)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.voters import calling_hours


def test_open_zones_are_worked_out_once_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = calling_hours.zones_within_hours

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(calling_hours, "zones_within_hours", counting)
    calling_hours._zones_open_in_minute.cache_clear()
    first = calling_hours.zones_open_now(
        "09:00", "21:00", datetime(2026, 3, 2, 15, 0, 5, tzinfo=UTC)
    )
    again = calling_hours.zones_open_now(
        "09:00", "21:00", datetime(2026, 3, 2, 15, 0, 59, tzinfo=UTC)
    )
    assert first == again and len(calls) == 1
    later = calling_hours.zones_open_now("09:00", "21:00", datetime(2026, 3, 2, 15, 1, tzinfo=UTC))
    assert len(calls) == 2
    assert "America/New_York" in first and "America/New_York" in later


def test_the_answer_is_a_fresh_set_each_time() -> None:
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    zones = calling_hours.zones_open_now("09:00", "21:00", now)
    zones.clear()
    assert calling_hours.zones_open_now("09:00", "21:00", now)
