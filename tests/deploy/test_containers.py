"""docker/ for real: the images build with podman (layers cached), the compose stack runs
with host networking, Caddy serves the app and the PBX's SIP WebSocket over HTTPS with its
internal CA, the data survives `down`/`up`, a crashed app is brought back by the restart
policy, coturn accepts the TURN credentials phonebank mints (and only those), and a
volunteer calls in through the carrier simulator (the stack's SIP trunk) to the containers' PBX.

The first build takes minutes (packages come from the mirrors); later runs reuse every layer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from engine.ari.client import AriClient
from engine.security.turn_credentials import mint, turn_password, turn_username
from testbed.carrier import CARRIER_APP
from testbed.containers.podman import ContainerError
from testbed.containers.stack import ComposeStack
from testbed.containers.turn_probe import TurnRefused, allocate
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from tests.deploy.conftest import trust
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(900)

OPERATOR = "olive"
PASSWORD = "correct horse battery staple"
VOTERS_CSV = "phone,first_name,last_name,zip\n2025550101,Ada,Lovelace,20001\n" + (
    "2025550102,Alan,Turing,20001\n2025550103,Grace,Hopper,20001\n"
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def https(stack: ComposeStack, tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A client context trusting Caddy's internal CA (made at Caddy's first start), once the
    app answers through the proxy."""

    def root_ca() -> str:
        try:
            return stack.root_ca()
        except ContainerError:
            return ""

    pem = await wait_until(root_ca, timeout=60, what="Caddy's internal CA", interval=0.3)
    context = trust(pem, tmp_path_factory.mktemp("ca"))
    await wait_until(lambda: healthy(stack, context), 90, "the app's health through Caddy", 0.3)
    return context


@pytest.fixture(scope="module")
def operator(stack: ComposeStack) -> str:
    """An operator made with the CLI inside the app container."""
    stack.exec(
        "app", "phonebank", "operator", "add", OPERATOR, "--password-stdin", input=PASSWORD + "\n"
    )
    return OPERATOR


async def healthy(stack: ComposeStack, context: ssl.SSLContext) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{stack.url}/api/health", ssl=context) as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, OSError):
        return False


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    stack: ComposeStack, https: ssl.SSLContext, operator: str
) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTPS session through Caddy carrying a fresh operator token."""
    async with aiohttp.ClientSession(stack.url, connector=aiohttp.TCPConnector(ssl=https)) as http:
        login = {"username": operator, "password": PASSWORD}
        async with http.post("/api/operator/login", json=login) as response:
            assert response.status == 200, await response.text()
            token = (await response.json())["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


async def create_campaign(api: aiohttp.ClientSession, name: str) -> int:
    async with api.post("/api/operator/campaigns", json={"name": name}) as response:
        assert response.status == 201, await response.text()
        campaign_id: int = (await response.json())["id"]
    headers = {"Content-Type": "text/csv"}
    url = f"/api/operator/campaigns/{campaign_id}/voters"
    async with api.post(url, data=VOTERS_CSV, headers=headers) as response:
        assert response.status == 200, await response.text()
        assert (await response.json())["imported"] == 3
    return campaign_id


async def pending_voters(api: aiohttp.ClientSession, campaign_id: int) -> int:
    async with api.get(f"/api/operator/campaigns/{campaign_id}/stats") as response:
        assert response.status == 200, await response.text()
        pending: int = (await response.json())["voters"]["pending"]
        return pending


async def test_the_app_answers_over_https_through_caddy_with_hsts(
    stack: ComposeStack, https: ssl.SSLContext
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.url}/api/health", ssl=https) as response,
    ):
        assert response.status == 200
        assert await response.json() == {"status": "ok", "ari": "connected"}
        # public_url reached the app from the compose environment: it is behind the proxy.
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


async def test_sip_over_websocket_reaches_the_containers_pbx_through_caddy(
    stack: ComposeStack, https: ssl.SSLContext
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{stack.url}/ws", ssl=https, protocols=("sip",)) as ws,
    ):
        assert ws.protocol == "sip"


async def test_an_operator_imports_a_list_over_https(api: aiohttp.ClientSession) -> None:
    campaign_id = await create_campaign(api, "Imported over HTTPS")
    assert await pending_voters(api, campaign_id) == 3


async def test_campaign_and_voters_survive_down_and_up(
    stack: ComposeStack, https: ssl.SSLContext, api: aiohttp.ClientSession, tmp_path: Path
) -> None:
    campaign_id = await create_campaign(api, "Kept across down and up")
    await asyncio.to_thread(stack.down)
    with pytest.raises(ContainerError):
        stack.inspect("app")  # the containers are gone; only the volumes stay
    await asyncio.to_thread(stack.up)
    await wait_until(lambda: healthy(stack, https), 90, "the app's health after up", 0.3)
    # The same CA (its volume) and the operator's account and token (the database) are back.
    assert await pending_voters(api, campaign_id) == 3


async def test_a_crashed_app_is_brought_back_by_the_restart_policy(
    stack: ComposeStack, https: ssl.SSLContext
) -> None:
    pid = stack.main_pid("app")
    restarts = int(str(stack.inspect("app")["RestartCount"]))
    assert pid > 0
    os.kill(pid, signal.SIGKILL)  # a crash, not `podman stop`
    started = time.monotonic()
    await wait_until(lambda: stack.main_pid("app") not in (0, pid), 60, "a new app process", 0.2)
    await wait_until(lambda: healthy(stack, https), 90, "the app's health after the crash", 0.3)
    print(f"app back {time.monotonic() - started:.1f} s after SIGKILL")
    assert int(str(stack.inspect("app")["RestartCount"])) == restarts + 1


async def test_turn_accepts_credentials_phonebank_mints_and_refuses_others(
    stack: ComposeStack,
) -> None:
    secret = stack.settings.turn_secret
    port = stack.settings.ports.turn
    low, high = stack.settings.ports.turn_relay

    async def answering() -> bool:
        try:
            await allocate("127.0.0.1", port, "probe", "probe", timeout=1)
        except TurnRefused:
            return True
        except TimeoutError:
            return False
        return True

    await wait_until(answering, 30, "coturn answering", 0.2)
    good = mint(secret, 7, time.time(), 600)
    host, relay_port = await allocate("127.0.0.1", port, good.username, good.credential)
    assert host == "127.0.0.1" and low <= relay_port <= high
    forged_password = turn_password("not the secret", good.username)
    with pytest.raises(TurnRefused) as forged:
        await allocate("127.0.0.1", port, good.username, forged_password)
    assert forged.value.code == 401
    expired = turn_username(int(time.time()) - 60, 7)
    with pytest.raises(TurnRefused) as late:
        await allocate("127.0.0.1", port, expired, turn_password(secret, expired))
    assert late.value.code == 401


async def sign_in_by_phone(http: aiohttp.ClientSession, campaign_id: int) -> dict[str, Any]:
    person = {"name": "Ada", "email": "ada@example.org", "phone": "202-555-0100"}
    async with http.post("/api/signup", json=person) as response:
        assert response.status == 201, await response.text()
        login = await response.json()
    body = {"login_id": login["login_id"], "password": login["password"]}
    body |= {"campaign": campaign_id, "audio_mode": "phone"}
    async with http.post("/api/signin", json=body) as response:
        assert response.status == 201, await response.text()
        signed: dict[str, Any] = await response.json()
    return signed


async def test_a_volunteer_calls_in_through_the_carrier_to_the_containers_pbx(
    stack: ComposeStack,
    https: ssl.SSLContext,
    api: aiohttp.ClientSession,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
) -> None:
    campaign_id = await create_campaign(api, "Called in")
    connector = aiohttp.TCPConnector(ssl=https)
    async with aiohttp.ClientSession(stack.url, connector=connector) as http:
        signed = await sign_in_by_phone(http, campaign_id)
        auth = {"Authorization": f"Bearer {signed['token']}"}
        ari, events = carrier
        channel_id = f"phone-{uuid.uuid4().hex[:12]}"
        pbx = f"127.0.0.1:{stack.settings.ports.pbx_sip}"
        started = time.monotonic()
        await ari.originate(
            f"PJSIP/dialer/sip:{signed['callin_number']}@{pbx}",
            channel_id=channel_id,
            app=CARRIER_APP,
            app_args="phone",
            caller_id="Volunteer <+12025550199>",
            timeout=10,
        )
        await events.wait_type("StasisStart", channel_id, timeout=12)
        phone = VolunteerPhone(pbx_pair, ari, events, channel_id)
        await phone.send_dtmf(signed["pin"])

        async def connected() -> bool:
            async with http.get("/api/session", headers=auth) as response:
                view: dict[str, Any] = await response.json()
                return bool(view["state"] == "connected")

        await wait_until(connected, 30, "the volunteer's phone connected", 0.2)
        print(f"called in and connected {time.monotonic() - started:.1f} s after dialing")
        await ari.hangup(channel_id)
