"""Browser softphone credentials on the real dialer PBX: created at a 'browser' sign-in, shown
to the session, deleted at log-out (and never created for a phone sign-in)."""

from __future__ import annotations

import uuid
from pathlib import Path

from engine.app import Engine
from engine.models import Campaign
from testbed.pair import PbxPair
from testbed.shift import make_campaign, running_engine, voters_csv
from tests.helpers import wait_until


async def sign_in(engine: Engine, campaign: Campaign, audio_mode: str) -> int:
    signup = await engine.volunteers.sign_up("Web Vol", f"w{uuid.uuid4().hex[:6]}@x.org", "+1202")
    signin = await engine.volunteers.sign_in(
        signup.login_id, signup.password, campaign.name, audio_mode, "test"
    )
    return signin.session.id


def endpoint_exists(pair: PbxPair, name: str) -> bool:
    return "Unable to find object" not in pair.dialer.cli(f"pjsip show endpoint {name}")


async def test_browser_sign_in_creates_an_endpoint_that_log_out_deletes(
    pbx_pair: PbxPair, tmp_path: Path
) -> None:
    async with running_engine(pbx_pair, tmp_path / "db.sqlite") as engine:
        campaign = await make_campaign(engine, voters_csv([("10", 0)]))
        session_id = await sign_in(engine, campaign, "browser")
        softphone = (await engine.volunteers.view(session_id))["softphone"]
        name = softphone["username"]
        assert name.startswith(f"web-{session_id}-")
        assert len(softphone["password"]) >= 20
        assert softphone["uri"] == "sip:join@127.0.0.1"
        assert softphone["ws_url"] == f"ws://127.0.0.1:{pbx_pair.dialer.spec.http_port}/ws"
        shown = pbx_pair.dialer.cli(f"pjsip show endpoint {name}")
        assert "from-browser" in shown and "transport-ws" in shown, shown

        await engine.volunteers.log_out(session_id)

        await wait_until(
            lambda: not endpoint_exists(pbx_pair, name), timeout=10, what="endpoint deleted"
        )
        assert "Unable to find object" in pbx_pair.dialer.cli(f"pjsip show auth {name}")
        assert (await engine.volunteers.view(session_id))["softphone"] is None


async def test_phone_sign_in_creates_no_endpoint(pbx_pair: PbxPair, tmp_path: Path) -> None:
    async with running_engine(pbx_pair, tmp_path / "db.sqlite") as engine:
        campaign = await make_campaign(engine, voters_csv([("10", 0)]))
        session_id = await sign_in(engine, campaign, "phone")
        assert (await engine.volunteers.view(session_id))["softphone"] is None
        assert f"web-{session_id}-" not in pbx_pair.dialer.cli("pjsip show endpoints")
