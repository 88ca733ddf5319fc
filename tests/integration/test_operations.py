"""Operating phonebank on the real PBX: a short shift shows in /metrics (scraped over HTTP with
an operator's token), and /api/health follows ARI when the dialer PBX is killed and comes
back."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from engine.ari.client import AriClient
from engine.config import WebConfig
from engine.models import SessionState, VoterStatus
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.conftest import ari_with_events
from tests.helpers import wait_until
from tests.integration.fault_helpers import own_pair, supervised
from tests.integration.test_engine_shift import answer_calls
from web.app import run_web

OPERATOR = ("olive", "correct horse battery")
# Two people, a machine and a busy line.
ROWS = [("10", 20), ("20", 20), ("10", 21), ("30", 20)]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(http: aiohttp.ClientSession, url: str, token: str) -> Samples:
    async with http.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200, await r.text()
        text = await r.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def log_in(http: aiohttp.ClientSession, url: str) -> str:
    body = {"username": OPERATOR[0], "password": OPERATOR[1]}
    async with http.post(f"{url}/api/operator/login", json=body) as response:
        assert response.status == 200, await response.text()
        token: str = (await response.json())["token"]
        return token


async def test_a_short_shift_shows_in_the_metrics(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    async with (
        running_engine(pbx_pair, tmp_path / "metrics.db") as engine,
        run_web(engine, WebConfig(port=0)) as url,
        aiohttp.ClientSession() as http,
    ):
        await engine.operators.add_operator(*OPERATOR)
        token = await log_in(http, url)
        campaign = await make_campaign(engine, voters_csv(ROWS))
        volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
        await volunteer.call_in(pbx_pair, carrier)
        before = await scrape(http, url, token)
        assert value(before, "phonebank_ari_connected") == 1
        assert value(before, "phonebank_volunteers", state="connected") == 1
        assert value(before, "phonebank_originates_total", result="ok") == 0
        await engine.volunteers.start_calling(volunteer.session.id)
        stop = asyncio.Event()
        worker = asyncio.create_task(answer_calls(volunteer, stop))
        telephony = engine.telephony
        assert telephony is not None

        async def list_worked() -> bool:
            counts = await engine.store.voter_counts(campaign.id)
            done = not counts.get(VoterStatus.PENDING) and not counts.get(VoterStatus.IN_FLIGHT)
            return done and not telephony.calls.by_channel

        try:
            await wait_until(list_worked, 120, "the list to be worked")
        finally:
            stop.set()
            taken = await worker

        after = await scrape(http, url, token)
        assert value(after, "phonebank_originates_total", result="ok") == len(ROWS)
        assert value(after, "phonebank_originates_total", result="failed") == 0
        verdicts = {
            labels[0][1]: count
            for (name, labels), count in after.items()
            if name == "phonebank_amd_verdicts_total" and count
        }
        assert verdicts.get("HUMAN", 0) >= 1 and verdicts.get("MACHINE", 0) >= 1, verdicts
        assert sum(verdicts.values()) == 3, verdicts  # the busy line was never answered
        assert value(after, "phonebank_calls_ended_total", outcome="contact") == taken
        assert value(after, "phonebank_calls_ended_total", outcome="busy") == 1
        assert value(after, "phonebank_verdict_to_bridge_seconds_count") >= 1
        bridged = value(after, "phonebank_verdict_to_bridge_seconds_sum")
        mean_bridge = bridged / value(after, "phonebank_verdict_to_bridge_seconds_count")
        assert 0 < mean_bridge < 2.0
        print(f"verdicts {verdicts}; verdict -> bridge mean {mean_bridge * 1000:.1f} ms")
        assert value(after, "phonebank_ari_connected") == 1
        assert value(after, "phonebank_ari_reconnects_total") == 0
        assert value(after, "phonebank_calls_in_flight") == 0
        assert value(after, "phonebank_abandons_total") == 0
        assert value(after, "phonebank_event_loop_lag_seconds_count") >= 1
        assert value(after, "phonebank_volunteers", state=str(SessionState.READY)) == 1
        await engine.volunteers.log_out(volunteer.session.id)
        assert volunteer.phone is not None
        await volunteer.phone.wait_hung_up(timeout=15)


async def health(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(f"{url}/api/health") as response:
        body: dict[str, Any] = await response.json()
        return response.status, body


async def test_health_follows_ari_when_the_dialer_pbx_is_killed_and_restarted(
    tmp_path: Path,
) -> None:
    async with (
        own_pair("health") as pair,
        ari_with_events(pair.carrier),
        supervised(pair) as supervisor,
        running_engine(pair, tmp_path / "health.db") as engine,
        run_web(engine, WebConfig(port=0)) as url,
        aiohttp.ClientSession() as http,
    ):
        assert await health(http, url) == (200, {"status": "ok", "ari": "connected"})
        old_pid = pair.dialer.pid
        assert old_pid is not None
        os.kill(old_pid, signal.SIGKILL)
        killed_at = time.monotonic()

        async def degraded() -> bool:
            return (await health(http, url))[0] == 503

        await wait_until(degraded, 10, "health to say degraded")
        noticed = time.monotonic() - killed_at
        status, body = await health(http, url)
        assert (status, body["status"], body["ari"]) == (503, "degraded", "disconnected")
        assert body["message"] == (
            "phonebank has lost its connection to the phone system (Asterisk ARI): calls are on"
            " hold until it is back; check that the dialer PBX is running."
        )

        async def healthy() -> bool:
            return (await health(http, url))[0] == 200

        await wait_until(healthy, 30, "health to be ok again once the PBX is restarted")
        assert supervisor.restarts == 1
        assert await health(http, url) == (200, {"status": "ok", "ari": "connected"})
        await engine.operators.add_operator(*OPERATOR)
        found = await scrape(http, url, await log_in(http, url))
        assert value(found, "phonebank_ari_reconnects_total") == 1
        assert value(found, "phonebank_ari_connected") == 1
        print(f"health said degraded {noticed * 1000:.0f} ms after the kill")
