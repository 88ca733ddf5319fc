"""A volunteer on the phone, ready to work a campaign of two voters, for the engine tests on
a fake ARI (the `fake_pbx` fixture)."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

from engine.app import Engine
from engine.models import Campaign
from engine.notifier import Event

CSV = "first_name,phone,zip\nAnn,+12025550101,20001\nBob,+12025550102,20001\n"


@contextlib.asynccontextmanager
async def phone_volunteer(
    engine: Engine, name: str, **settings: Any
) -> AsyncIterator[tuple[Campaign, int, asyncio.Queue[Event]]]:
    """Campaign ``name`` (open all day, CSV's two voters, ``settings``) and a volunteer signed
    in to it whose phone is connected: (campaign, session id, the session's event queue)."""
    campaign = await engine.operators.create_campaign(
        "test", name, calling_hours_start="00:00", calling_hours_end="24:00", **settings
    )
    await engine.operators.import_list("test", campaign.id, io.BytesIO(CSV.encode()))
    signup = await engine.volunteers.sign_up("Ada", "ada@example.org", "+12025550100")
    signin = await engine.volunteers.sign_in(
        signup.login_id, signup.password, campaign.id, "phone", "test"
    )
    session = await engine.sessions.phone_connected(signin.session, "phone-1", "br-1")
    with engine.notifier.session_events(session.id) as queue:
        yield campaign, session.id, queue
