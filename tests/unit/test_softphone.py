"""Browser softphone credentials (engine/telephony/softphone.py) against the fake ARI."""

from __future__ import annotations

from engine.app import softphone_ws_url
from engine.ari import AriClient
from engine.telephony.softphone import Softphones
from tests.unit.fake_ari import FakeAri

DYNAMIC = "/asterisk/config/dynamic/res_pjsip"


async def test_create_puts_auth_aor_and_a_webrtc_endpoint_with_a_fresh_password() -> None:
    async with FakeAri() as fake, AriClient.connect(fake.settings(app="")) as ari:
        softphones = Softphones(ari, "ws://127.0.0.1:8088/ws")
        first = await softphones.create(7)
        second = await softphones.create(8)
    assert first.endpoint.startswith("web-7-") and first.password != second.password
    puts = [r for r in fake.requests if r.method == "PUT"]
    kinds = [r.path.rsplit("/", 2)[-2] for r in puts[:3]]
    assert kinds == ["auth", "aor", "endpoint"]
    endpoint = {f["attribute"]: f["value"] for f in puts[2].json["fields"]}
    assert endpoint["webrtc"] == "yes" and endpoint["context"] == "from-browser"
    assert endpoint["auth"] == endpoint["aors"] == first.endpoint
    assert first.uri == "sip:join@127.0.0.1"
    assert softphones.by_endpoint[first.endpoint] is first


async def test_delete_removes_all_three_objects_and_forgets_the_login() -> None:
    async with FakeAri() as fake, AriClient.connect(fake.settings(app="")) as ari:
        softphones = Softphones(ari, "ws://127.0.0.1:8088/ws")
        login = await softphones.create(3)
        await softphones.delete(3)
        await softphones.delete(3)  # twice is harmless
    deleted = [r.path for r in fake.requests if r.method == "DELETE"]
    assert deleted == [f"{DYNAMIC}/{k}/{login.endpoint}" for k in ("endpoint", "aor", "auth")]
    assert softphones.by_session == {} and softphones.by_endpoint == {}


def test_the_websocket_url_is_the_ari_servers_ws_path() -> None:
    assert softphone_ws_url("http://127.0.0.1:8088") == "ws://127.0.0.1:8088/ws"
    assert softphone_ws_url("https://pbx.example.org/") == "wss://pbx.example.org/ws"
