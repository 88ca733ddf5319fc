"""Drive the real engine on the real PBX pair, acting as volunteers and operators.

Used by the integration tests and the benches: the engine runs in the caller's event loop as
app 'phonebank' on the dialer PBX; volunteers' phones are played by the carrier simulator.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from typing import Any

from engine.app import Engine
from engine.ari.client import AriClient, AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import TrunkConfig, load_config
from engine.models import Campaign, Session, SessionState
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.waiting import wait_until

SOUNDS = PurePosixPath("/srv/phonebank/sounds")


@contextlib.asynccontextmanager
async def running_engine(
    pair: PbxPair, database: Path, trunk: TrunkConfig | None = None
) -> AsyncIterator[Engine]:
    """The engine on ``pair`` with its database at ``database`` (and a carrier ``trunk``)."""
    cfg = load_config()
    cfg = dataclasses.replace(cfg, engine=dataclasses.replace(cfg.engine, database=str(database)))
    if trunk is not None:
        cfg = dataclasses.replace(cfg, trunk=trunk)
    runtime = pair.dialer.runtime
    sounds = SoundLibrary(runtime.host_path(SOUNDS), SOUNDS)
    spec = pair.dialer.spec
    ari = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    async with Engine.running(cfg, ari, sounds) as engine:
        yield engine


def voters_csv(rows: list[tuple[str, int]]) -> bytes:
    """A voter CSV with one row per (behaviour code, variant)."""
    lines = ["first_name,last_name,phone,zip,precinct"]
    for n, (code, variant) in enumerate(rows):
        lines.append(f"Voter{n},B{code}V{variant},{voter_number(code, variant)},20001,P{n % 7}")
    return ("\n".join(lines) + "\n").encode()


async def make_campaign(engine: Engine, csv: bytes, **settings: Any) -> Campaign:
    name = f"Test {uuid.uuid4().hex[:6]}"
    defaults: dict[str, Any] = {
        "script": "Hi {{ first_name }}, this is {{ volunteer }} with the campaign.",
        "calling_hours_start": "00:00",
        "calling_hours_end": "23:59",
        "ring_seconds": 6,
        "max_attempts": 1,
        "retry_minutes": 600,
    }
    campaign = await engine.operators.create_campaign("test", name, **{**defaults, **settings})
    summary = await engine.operators.import_list("test", campaign.id, io.BytesIO(csv))
    assert summary.invalid == 0, summary.errors
    return campaign


@dataclasses.dataclass
class SimVolunteer:
    """One volunteer: signed in, phone on the line, answering calls through the API."""

    engine: Engine
    session: Session
    phone: VolunteerPhone | None = None

    @classmethod
    async def sign_in(cls, engine: Engine, campaign: Campaign, n: int) -> SimVolunteer:
        signup = await engine.volunteers.sign_up(
            f"Vol {n}", f"vol{n}-{uuid.uuid4().hex[:6]}@x.org", "+12025550111"
        )
        signin = await engine.volunteers.sign_in(
            f"  {signup.login_id.lower()} ", signup.password, campaign.name, "phone", f"test-{n}"
        )
        return cls(engine, signin.session)

    async def call_in(
        self, pair: PbxPair, carrier: tuple[AriClient, EventLog], mistype: bool = False
    ) -> None:
        self.phone = await VolunteerPhone.call_in(pair, *carrier)
        if mistype:
            digit = "9" if self.session.pin[0] != "9" else "8"
            wrong = digit * len(self.session.pin)
            await self.phone.send_dtmf(wrong)
        await self.phone.send_dtmf(self.session.pin)
        await self.wait_state(SessionState.CONNECTED, timeout=20)

    async def refresh(self) -> Session:
        self.session = await self.engine.store.get_session(self.session.id)
        return self.session

    async def wait_state(self, *states: SessionState, timeout: float = 30) -> Session:
        async def reached() -> bool:
            return (await self.refresh()).state in states

        await wait_until(reached, timeout, f"session {self.session.id} to be {states}")
        return self.session
