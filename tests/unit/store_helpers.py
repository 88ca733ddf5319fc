"""Shared by the tests/unit/test_store_*.py files: import rows and a ready-made campaign."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.models import AudioMode, VoterDetails
from engine.store.sqlite.store import SqliteStore

T0 = datetime(2024, 10, 1, 16, 0, tzinfo=UTC)
NY = "America/New_York"


def Row(phone: str, **fields: Any) -> VoterDetails:
    """A VoterInput, as engine.voters.importer produces it; in New York unless told."""
    return VoterDetails(phone=phone, **{"timezone": NY, **fields})


def phones(count: int, start: int = 0) -> list[str]:
    return [f"+1202555{n:04d}" for n in range(start, start + count)]


async def campaign_with_voters(store: SqliteStore, numbers: list[str], name: str = "Fall") -> int:
    campaign = await store.create_campaign(name)
    await store.add_voters(campaign.id, [Row(phone) for phone in numbers])
    return campaign.id


async def session_for(
    store: SqliteStore, campaign_id: int, pin: str = "1234", email: str = "ann@example.org"
) -> int:
    volunteer = await store.add_volunteer("Ann", email, "+12025550100")
    session = await store.create_session(
        volunteer.id, campaign_id, AudioMode.PHONE, pin, f"token-{pin}-{email}", T0
    )
    return session.id
