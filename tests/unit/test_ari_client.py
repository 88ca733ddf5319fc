"""AriClient against the fake ARI in fake_ari.py."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from engine.ari import AriClient, AriSettings, media, rest
from engine.ari import settings as settings_module
from engine.ari.asterisk import Asterisk
from engine.ari.bridges import Bridges
from engine.ari.channels import Channels
from engine.errors import AriError, AriNotFound, AriUnauthorized, AriUnavailable
from tests.helpers import wait_until
from tests.unit.fake_ari import INFO, FakeAri

LOGGER = "engine.ari"  # client.py, rest.py and events.py log under it


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    async with FakeAri() as server:
        yield server


async def next_event(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(events), timeout=2.0)


def failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum("reconnect failed" in r.message for r in caplog.records)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connect_checks_info_and_returns_it(fake: FakeAri) -> None:
    async with AriClient.connect(fake.settings()) as ari:
        assert await ari.info() == INFO
        assert ari.connected
    assert len(fake.requests_to("GET", "/asterisk/info")) == 2


async def test_events_websocket_names_the_app_and_keeps_credentials_out_of_the_url(
    fake: FakeAri,
) -> None:
    async with AriClient.connect(fake.settings(app="dialer", subscribe_all=True)):
        assert fake.websocket_queries == [{"app": "dialer", "subscribeAll": "true"}]


async def test_wrong_password_raises_unauthorized_naming_url_and_user(fake: FakeAri) -> None:
    settings = fake.settings(password="wrong")
    with pytest.raises(AriUnauthorized) as caught:
        async with AriClient.connect(settings):
            pass
    message = str(caught.value)
    assert fake.url in message
    assert "'phonebank'" in message
    assert "check the ARI username and password" in message


async def test_unreachable_port_raises_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AriUnavailable, match="is the PBX running") as caught:
        async with AriClient.connect(AriSettings(url, "phonebank", "secret", "phonebank")):
            pass
    assert url in str(caught.value)


async def test_originate_sends_query_parameters_and_variables_body(fake: FakeAri) -> None:
    async with AriClient.connect(fake.settings()) as ari:
        channel = await ari.originate(
            "PJSIP/5551234@trunk",
            channel_id="call-1",
            app="phonebank",
            app_args="voter,42",
            caller_id="Campaign <5550000>",
            timeout=30,
            variables={"PB_ATTEMPT": "7"},
        )
    assert channel["id"] == "call-1"
    [request] = fake.requests_to("POST", "/channels")
    assert dict(request.query) == {
        "endpoint": "PJSIP/5551234@trunk",
        "channelId": "call-1",
        "app": "phonebank",
        "appArgs": "voter,42",
        "callerId": "Campaign <5550000>",
        "timeout": "30",
    }
    assert request.json == {"variables": {"PB_ATTEMPT": "7"}}


async def test_query_booleans_are_lowercase_and_none_is_dropped(fake: FakeAri) -> None:
    async with AriClient.connect(fake.settings()) as ari:
        await ari.record("bridges", "b1", "call-1", beep=True, max_silence_s=None)
    [request] = fake.requests_to("POST", "/bridges/b1/record")
    assert request.query["beep"] == "true"
    assert "maxSilenceSeconds" not in request.query


async def test_play_sends_one_media_parameter_per_item(fake: FakeAri) -> None:
    async with AriClient.connect(fake.settings()) as ari:
        playback = await ari.play("channels", "c1", ["sound:hello", "sound:bye"], playback_id="p1")
    assert playback["id"] == "p1"
    [request] = fake.requests_to("POST", "/channels/c1/play")
    assert request.query.getall("media") == ["sound:hello", "sound:bye"]


async def test_ids_are_quoted_as_one_path_segment(fake: FakeAri) -> None:
    async with AriClient.connect(fake.settings()) as ari:
        await ari.hangup("odd/id", "busy")
    [request] = fake.requests_to("DELETE", "/channels/odd/id")
    assert request.raw_path == "/ari/channels/odd%2Fid"
    assert request.query["reason"] == "busy"


async def test_404_raises_not_found_with_method_path_and_ari_message(fake: FakeAri) -> None:
    fake.respond("POST", "/channels/gone/answer", status=404, body={"message": "Channel not found"})
    async with AriClient.connect(fake.settings()) as ari:
        with pytest.raises(AriNotFound, match="POST /channels/gone/answer: Channel not found"):
            await ari.answer("gone")


async def test_500_raises_ari_error_with_status_and_message(fake: FakeAri) -> None:
    fake.respond("POST", "/bridges", status=500, body={"message": "Allocation failed"})
    async with AriClient.connect(fake.settings()) as ari:
        with pytest.raises(AriError, match="HTTP 500: Allocation failed") as caught:
            await ari.create_bridge()
    assert not isinstance(caught.value, AriNotFound)


async def test_unset_variable_is_none_but_missing_channel_raises_not_found(fake: FakeAri) -> None:
    """ARI answers 404 for both; only the message says which."""
    path = "/channels/c1/variable"
    fake.respond("GET", path, status=404, body={"message": "Provided variable was not found"})
    fake.respond(
        "GET",
        "/channels/gone/variable",
        status=404,
        body={"message": "Provided channel was not found"},
    )
    async with AriClient.connect(fake.settings()) as ari:
        assert await ari.get_variable("c1", "PB_RESULT") is None
        with pytest.raises(AriNotFound):
            await ari.get_variable("gone", "PB_RESULT")
        fake.respond("GET", path, body={"value": "answered"})
        assert await ari.get_variable("c1", "PB_RESULT") == "answered"


async def test_events_arrive_in_order(fake: FakeAri) -> None:
    async with AriClient.connect(fake.settings()) as ari:
        events = ari.events()
        for n in range(5):
            await fake.push_event({"type": "ChannelDtmfReceived", "digit": str(n)})
        digits = [(await next_event(events))["digit"] for _ in range(5)]
    assert digits == ["0", "1", "2", "3", "4"]


async def test_dropped_websocket_reconnects_and_announces_it(fake: FakeAri) -> None:
    async with AriClient.connect(fake.settings(), reconnect_max_delay=0.2) as ari:
        events = ari.events()
        await fake.drop_websockets()
        lost = await next_event(events)
        assert lost["type"] == "PhonebankDisconnected" and lost["reason"]
        assert await next_event(events) == {"type": "PhonebankReconnected"}
        assert len(fake.websocket_queries) == 2
        await fake.push_event({"type": "StasisStart", "channel": {"id": "c1"}})
        assert (await next_event(events))["type"] == "StasisStart"


async def test_outage_logs_one_warning_then_info_when_back(
    fake: FakeAri, caplog: pytest.LogCaptureFixture
) -> None:
    """Asterisk being down for a while must not flood the log."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    async with AriClient.connect(fake.settings(), reconnect_max_delay=0.05) as ari:
        events = ari.events()
        fake.refuse_websockets = True
        await fake.drop_websockets(abrupt=False)
        await wait_until(lambda: failures(caplog) >= 3, 2.0, "three failed reconnects", 0.01)
        with pytest.raises(AriUnavailable, match="still down"):
            await ari.wait_connected(timeout=0.01)
        fake.refuse_websockets = False
        assert (await next_event(events))["type"] == "PhonebankDisconnected"
        assert await next_event(events) == {"type": "PhonebankReconnected"}
        await ari.wait_connected(timeout=1.0)
    mine = [r for r in caplog.records if r.name.startswith(LOGGER + ".")]
    assert [r.levelno for r in mine].count(logging.WARNING) == 1
    assert any(r.levelno == logging.INFO and "is back" in r.message for r in mine)


async def test_slow_request_logs_a_warning(
    fake: FakeAri, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rest, "SLOW_REQUEST_S", 0.01)
    fake.respond("GET", "/bridges", body=[], delay=0.05)
    async with AriClient.connect(fake.settings()) as ari:
        await ari.list_bridges()
    assert any(r.message.startswith("ARI GET /bridges took") for r in caplog.records)


async def test_connection_pool_caps_concurrent_requests_at_ten(fake: FakeAri) -> None:
    """Asterisk's HTTP server queues at most ~10 connections; more cost a 1 s SYN retry.

    The events websocket has its own session, so all ten serve requests: the first ten reach
    the fake within about a millisecond, well inside its 50 ms delay.
    """
    fake.respond("GET", "/channels", body=[], delay=0.05)
    async with AriClient.connect(fake.settings()) as ari:
        await asyncio.gather(*(ari.list_channels() for _ in range(30)))
    assert len(fake.requests_to("GET", "/channels")) == 30
    assert fake.max_in_flight == 10


async def test_exit_cancels_reader_closes_session_and_ends_events(fake: FakeAri) -> None:
    before = asyncio.all_tasks()  # other tests' session-scoped clients may be running
    async with AriClient.connect(fake.settings()) as ari:
        events = ari.events()
        await wait_until(lambda: fake.connected_websockets == 1, 2.0, "events websocket", 0.01)
    assert [e async for e in events] == []
    pending = [
        task
        for task in asyncio.all_tasks() - before
        if getattr(task.get_coro(), "__qualname__", "").startswith(("AriClient.", "EventStream."))
    ]
    assert pending == []
    await wait_until(lambda: fake.connected_websockets == 0, 2.0, "websocket closed", 0.01)
    with pytest.raises(AriError, match="closed"):
        await ari.info()


async def test_put_config_object_sends_fields_as_attribute_value_pairs(fake: FakeAri) -> None:
    path = "/asterisk/config/dynamic/res_pjsip/auth/web-1-ab"
    fake.respond("PUT", path, body=[{"attribute": "username", "value": "web-1-ab"}])
    async with AriClient.connect(fake.settings()) as ari:
        stored = await ari.put_config_object(
            "res_pjsip", "auth", "web-1-ab", {"username": "web-1-ab", "password": "pw"}
        )
    assert stored == [{"attribute": "username", "value": "web-1-ab"}]
    [request] = fake.requests_to("PUT", path)
    assert request.json == {
        "fields": [
            {"attribute": "username", "value": "web-1-ab"},
            {"attribute": "password", "value": "pw"},
        ]
    }


async def test_delete_config_object_of_a_missing_object_raises_not_found(fake: FakeAri) -> None:
    path = "/asterisk/config/dynamic/res_pjsip/endpoint/web-9-zz"
    fake.respond("DELETE", path, status=404, body={"message": "Object not found"})
    async with AriClient.connect(fake.settings()) as ari:
        with pytest.raises(AriNotFound):
            await ari.delete_config_object("res_pjsip", "endpoint", "web-9-zz")


def test_the_public_names_still_come_from_engine_ari_client() -> None:
    """client.py re-exports what callers import from it since before the split."""
    from engine.ari import client

    assert client.AriSettings is settings_module.AriSettings
    assert (client.DISCONNECTED, client.RECONNECTED) == (
        "PhonebankDisconnected",
        "PhonebankReconnected",
    )
    assert client.TargetKind is media.TargetKind
    assert issubclass(client.AriClient, (Channels, Bridges, media.Media, Asterisk))


async def test_a_resource_wrapper_works_alone_over_one_ari_rest(fake: FakeAri) -> None:
    """Each typed wrapper needs only an AriRest: no events websocket, no AriClient."""
    settings = fake.settings()
    auth = aiohttp.encode_basic_auth(settings.username, settings.password)
    async with aiohttp.ClientSession(headers={"Authorization": auth}) as session:
        ari_rest = rest.AriRest(settings, session)
        bridge = await Bridges(ari_rest).create_bridge(bridge_id="b/1")
        await Channels(ari_rest).answer("c-1")
        fake.respond("DELETE", "/playbacks/p-1", status=404, body={"message": "gone"})
        with pytest.raises(AriNotFound, match="HTTP 404"):
            await media.Media(ari_rest).stop_playback("p-1")
    assert bridge["id"] == "b/1"
    assert [r.raw_path for r in fake.requests] == [
        "/ari/bridges",
        "/ari/channels/c-1/answer",
        "/ari/playbacks/p-1",
    ]
    assert fake.connected_websockets == 0
