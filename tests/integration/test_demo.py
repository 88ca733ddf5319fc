"""`python -m testbed demo` on the real PBX pair: the sample campaign is loaded once, and its
simulated volunteers call in with their PINs, take calls and save results."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import Campaign
from testbed.demo import demo_campaign, work_demo
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import running_engine
from tests.helpers import wait_until

DEMO_VOTERS = 40
"""Rows of data/demo_voters.csv."""


async def _results(engine: Engine, campaign: Campaign) -> list[dict[str, Any]]:
    return [row async for row in engine.store.results(campaign.id)]


async def test_the_demo_campaign_is_worked_by_its_simulated_volunteers(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    async with running_engine(pbx_pair, tmp_path / "demo.db") as engine:
        campaign = await demo_campaign(engine)
        assert campaign.dial_mode == "predictive"
        assert (await demo_campaign(engine)).id == campaign.id, "a second load made a copy"
        assert sum((await engine.store.voter_counts(campaign.id)).values()) == DEMO_VOTERS

        worker = asyncio.create_task(work_demo(engine, pbx_pair, *carrier, campaign))
        try:

            async def three_results() -> list[dict[str, Any]] | None:
                rows = await _results(engine, campaign)
                return rows if len(rows) >= 3 else None

            rows = await wait_until(three_results, timeout=120, what="three demo results")
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            for session in await engine.store.live_sessions(campaign.id):
                await engine.volunteers.log_out(session.id)

    assert {row["volunteer"] for row in rows} <= {"Demo Volunteer 1", "Demo Volunteer 2"}
    for row in rows:
        assert row["term_code"] == "talked"
        assert json.loads(row["answers"])["plan"] in {"yes", "maybe", "no"}
        assert row["bridged_at"] is not None
