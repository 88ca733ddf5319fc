"""The time now, in UTC: one definition for the code that stamps calls and attempts."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
