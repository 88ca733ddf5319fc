"""What the web API tests share: an engine on an in-memory store, a client for the app, and
shortcuts to a signed-in volunteer and a logged-in operator."""

from __future__ import annotations

import contextlib
import io
import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from engine.app import Engine
from engine.config import load_config
from engine.models import Attempt, Campaign, Session, Voter
from engine.store.sqlite.store import SqliteStore
from web.app import create_app

OPERATOR = ("olive", "correct horse battery")
ALL_ZONES = ["", *zoneinfo.available_timezones()]


@contextlib.asynccontextmanager
async def running_engine() -> AsyncIterator[Engine]:
    cfg = load_config(environ={})
    store = SqliteStore.open(":memory:")
    try:
        async with Engine.running(cfg, store=store) as engine:
            yield engine
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def api_client(engine: Engine) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(engine, load_config(environ={}).web)
    async with TestClient(TestServer(app)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Volunteer:
    token: str
    session_id: int
    pin: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def sign_in(client: TestClient[Any, Any], campaign: str | int) -> Volunteer:
    """Sign up a new volunteer and sign them in to ``campaign`` over the API."""
    signup = await client.post(
        "/api/signup", json={"name": "Ada", "email": "ada@example.org", "phone": "555-0100"}
    )
    assert signup.status == 201, await signup.text()
    creds = await signup.json()
    signin = await client.post(
        "/api/signin",
        json={
            "login_id": creds["login_id"],
            "password": creds["password"],
            "campaign": campaign,
            "audio_mode": "phone",
        },
    )
    assert signin.status == 201, await signin.text()
    data = await signin.json()
    return Volunteer(data["token"], data["session_id"], data["pin"])


async def operator_token(engine: Engine, client: TestClient[Any, Any]) -> str:
    await engine.operators.add_operator(*OPERATOR)
    response = await client.post(
        "/api/operator/login", json={"username": OPERATOR[0], "password": OPERATOR[1]}
    )
    assert response.status == 200, await response.text()
    token: str = (await response.json())["token"]
    return token


async def add_voters(engine: Engine, campaign: Campaign, csv_text: str) -> None:
    await engine.operators.import_list("test", campaign.id, io.BytesIO(csv_text.encode()))


async def claim_one(engine: Engine, campaign: Campaign) -> tuple[Voter, Attempt]:
    """Claim the next voter as the dialer would, making an attempt for it."""
    claimed = await engine.store.claim_voters(
        campaign.id, 1, datetime.now(UTC), ALL_ZONES, max_attempts=3
    )
    assert claimed, "no voter to claim"
    return claimed[0]


async def in_wrap_up(engine: Engine, campaign: Campaign, session_id: int) -> Session:
    """Take a signed-in session through a whole call, as telephony would, to wrap-up."""
    session = await engine.store.get_session(session_id)
    session = await engine.sessions.phone_connected(session, "phone-1", "bridge-1")
    session = await engine.volunteers.start_calling(session.id)
    voter, attempt = await claim_one(engine, campaign)
    attempt = await engine.store.update_attempt(
        attempt.id, session_id=session.id, bridged_at=datetime.now(UTC)
    )
    session = await engine.sessions.call_connected(session, attempt, voter, campaign)
    return await engine.sessions.call_ended(session)
