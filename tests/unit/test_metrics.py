"""/metrics: Prometheus' text format (parsed with prometheus_client's own parser), for
operators only on the web app or on the separate listener of web.metrics_address; the calls'
counters, the ARI link, the event-loop lag and the volunteers by state. /api/health says
whether ARI is connected."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from engine.app import Engine
from engine.config import WebConfig, load_config
from engine.errors import ConfigError, SetupError
from engine.metrics.calls import CallMetrics
from engine.metrics.loop_lag import LoopLag
from engine.metrics.telephony import TelephonyCollector
from engine.models import CallOutcome, Campaign
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri
from tests.unit.web_support import api_client, bearer, operator_token, sign_in
from web.app import run_web

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


# --- the calls' counters -------------------------------------------------------------------


def test_call_counts_become_prometheus_counters_and_a_histogram() -> None:
    registry = CollectorRegistry()
    counts = CallMetrics(registry)
    counts.originated(ok=True)
    counts.originated(ok=True)
    counts.originated(ok=False)
    counts.verdict("HUMAN")
    counts.verdict("MACHINE")
    counts.verdict("NOTSURE")
    counts.verdict("garbage from a dialplan")
    counts.bridged(0.003)
    counts.bridged(0.4)
    counts.ended(CallOutcome.ABANDONED)
    counts.ended(CallOutcome.HUNG_UP_DURING_AMD)
    counts.ended(CallOutcome.CONTACT)

    found = samples(generate_latest(registry).decode())

    assert value(found, "phonebank_originates_total", result="ok") == 2
    assert value(found, "phonebank_originates_total", result="failed") == 1
    for verdict in ("HUMAN", "MACHINE", "NOTSURE", "HANGUP", "OTHER"):
        assert value(found, "phonebank_amd_verdicts_total", verdict=verdict) == 1, verdict
    assert value(found, "phonebank_abandons_total") == 1
    assert value(found, "phonebank_calls_ended_total", outcome="contact") == 1
    assert value(found, "phonebank_verdict_to_bridge_seconds_count") == 2
    assert value(found, "phonebank_verdict_to_bridge_seconds_bucket", le="0.005") == 1
    assert value(found, "phonebank_verdict_to_bridge_seconds_bucket", le="0.5") == 2
    assert value(found, "phonebank_verdict_to_bridge_seconds_sum") == pytest.approx(0.403)


def test_every_verdict_and_originate_result_is_shown_before_the_first_call() -> None:
    """A rate() over a series that appears only at its first increment misses that one."""
    found = samples(generate_latest(registry := CollectorRegistry()).decode())
    assert not found
    CallMetrics(registry)
    found = samples(generate_latest(registry).decode())
    assert value(found, "phonebank_originates_total", result="failed") == 0
    assert value(found, "phonebank_amd_verdicts_total", verdict="HANGUP") == 0


def block_the_loop(seconds: float) -> None:
    time.sleep(seconds)


class Link:
    connected = True
    reconnects = 3


def test_the_telephony_collector_reads_the_ari_link_and_the_calls_at_each_scrape() -> None:
    registry = CollectorRegistry()
    link = Link()
    in_flight = [7]
    registry.register(TelephonyCollector(link, lambda: in_flight[0]))
    found = samples(generate_latest(registry).decode())
    assert value(found, "phonebank_ari_connected") == 1
    assert value(found, "phonebank_ari_reconnects_total") == 3
    assert value(found, "phonebank_calls_in_flight") == 7
    link.connected = False
    in_flight[0] = 0
    found = samples(generate_latest(registry).decode())
    assert value(found, "phonebank_ari_connected") == 0
    assert value(found, "phonebank_calls_in_flight") == 0


async def test_the_event_loop_lag_shows_a_blocked_loop() -> None:
    registry = CollectorRegistry()
    lag = LoopLag(registry, interval=0.02)
    task = asyncio.create_task(lag.run())
    try:

        def probes() -> float:
            return registry.get_sample_value("phonebank_event_loop_lag_seconds_count") or 0

        await wait_until(lambda: probes() >= 1, 5, "a first probe", 0.01)
        seen = probes()
        block_the_loop(0.15)  # the probe due meanwhile wakes ~0.13 s late
        await wait_until(lambda: probes() > seen, 5, "the next probe", 0.01)
        late = registry.get_sample_value("phonebank_event_loop_lag_seconds_bucket", {"le": "0.1"})
        assert late is not None and probes() - late >= 1  # one probe was over 0.1 s late
        last = registry.get_sample_value("phonebank_event_loop_lag_last_seconds")
        assert last is not None and last >= 0
    finally:
        task.cancel()


# --- GET /metrics on the web app: operators only -------------------------------------------


async def test_metrics_need_an_operators_token(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    anonymous = await client.get("/metrics")
    assert anonymous.status == 401
    volunteer = await sign_in(client, campaign.id)
    as_volunteer = await client.get("/metrics", headers=volunteer.headers)
    assert as_volunteer.status == 401
    token = await operator_token(engine, client)
    response = await client.get("/metrics", headers=bearer(token))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(await response.text())
    assert value(found, "phonebank_volunteers", state="waiting for phone") == 1
    assert value(found, "phonebank_volunteers", state="ready") == 0
    assert value(found, "phonebank_originates_total", result="ok") == 0
    assert ("phonebank_ari_connected", ()) not in found  # no PBX attached: no ARI to report


async def test_metrics_on_a_fake_pbx_show_ari_connected_then_a_reconnect(
    fake_pbx: tuple[Engine, FakeAri],
) -> None:
    engine, fake = fake_pbx
    async with api_client(engine) as client:
        token = await operator_token(engine, client)

        async def scrape() -> Samples:
            response = await client.get("/metrics", headers=bearer(token))
            assert response.status == 200
            return samples(await response.text())

        found = await scrape()
        assert value(found, "phonebank_ari_connected") == 1
        assert value(found, "phonebank_ari_reconnects_total") == 0
        assert value(found, "phonebank_calls_in_flight") == 0
        fake.refuse_websockets = True
        await fake.drop_websockets()

        async def disconnected() -> bool:
            return value(await scrape(), "phonebank_ari_connected") == 0

        await wait_until(disconnected, 5, "ARI to show as disconnected", 0.02)
        fake.refuse_websockets = False

        async def reconnected() -> bool:
            found = await scrape()
            return value(found, "phonebank_ari_connected") == 1 and (
                value(found, "phonebank_ari_reconnects_total") == 1
            )

        await wait_until(reconnected, 10, "ARI to come back, counted once", 0.05)


# --- web.metrics_address: a separate listener without authentication ----------------------


async def test_the_metrics_address_serves_metrics_alone_without_a_token(engine: Engine) -> None:
    port = free_port()
    cfg = WebConfig(port=0, metrics_address=f"127.0.0.1:{port}")
    async with run_web(engine, cfg) as url, aiohttp.ClientSession() as http:
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        async with http.get(metrics_url) as response:
            assert response.status == 200
            found = samples(await response.text())
        assert value(found, "phonebank_originates_total", result="ok") == 0
        async with http.get(f"http://127.0.0.1:{port}/api/health") as other:
            assert other.status == 404
        async with http.get(url + "/metrics") as main:
            assert main.status == 401
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as http, http.get(metrics_url):
            pass  # closed with the web app


async def test_a_metrics_address_in_use_is_one_sentence(engine: Engine) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = WebConfig(port=0, metrics_address=f"127.0.0.1:{port}")
        with pytest.raises(SetupError, match=rf"web.metrics_address 127.0.0.1:{port} cannot be"):
            async with run_web(engine, cfg):
                raise AssertionError("the web app started without its metrics listener")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("address", ["9464", "localhost:", ":9464", "host:99999", "a:b"])
def test_a_bad_metrics_address_stops_start_up_naming_the_key(address: str) -> None:
    with pytest.raises(ConfigError, match=r"web.metrics_address .* must be host:port"):
        load_config(environ={"PHONEBANK_WEB_METRICS_ADDRESS": address})


def test_a_metrics_address_may_be_ipv6() -> None:
    cfg = load_config(environ={"PHONEBANK_WEB_METRICS_ADDRESS": "[::1]:9464"})
    assert cfg.web.metrics_listen() == ("::1", 9464)


# --- GET /api/health -------------------------------------------------------------------------


async def test_health_without_a_pbx_is_ok(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "ari": "not used"}


async def test_health_says_when_ari_is_disconnected(fake_pbx: tuple[Engine, FakeAri]) -> None:
    engine, fake = fake_pbx
    async with api_client(engine) as client:
        response = await client.get("/api/health")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "ari": "connected"}
        fake.refuse_websockets = True
        await fake.drop_websockets()

        async def degraded() -> bool:
            return (await client.get("/api/health")).status == 503

        await wait_until(degraded, 5, "health to say degraded", 0.02)
        body = await (await client.get("/api/health")).json()
        assert body["status"] == "degraded" and body["ari"] == "disconnected"
        assert body["message"].startswith("phonebank has lost its connection to the phone system")
