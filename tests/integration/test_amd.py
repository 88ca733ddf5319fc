"""app_amd on the dialer PBX tells the simulator's people from its machines."""

from __future__ import annotations

import json
from pathlib import Path

from engine.ari.client import AriClient
from testbed.amd_survey import summarize, survey
from testbed.events import EventLog
from testbed.pair import PbxPair


async def test_amd_tells_people_from_machines_over_every_greeting(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], artifacts: Path
) -> None:
    ari, events = dialer
    results = await survey(pbx_pair, ari, events)
    summary = summarize(results)
    report = {"summary": summary, "calls": [r.__dict__ for r in results]}
    (artifacts / "amd-survey.json").write_text(json.dumps(report, indent=1))
    wrong = [(r.number, r.text, r.verdict, r.cause) for r in results if not r.right]
    print(json.dumps(summary), wrong)
    assert summary["calls"] == 36
    assert summary["humans_called_machine"] == 0, wrong
    assert summary["accuracy_pct"] >= 90, wrong
    # AMD decides HUMAN 800 ms after the greeting ends; the slowest greeting starts after 1 s of
    # silence and lasts 2.4 s, so every verdict must come before app_amd's 5 s analysis limit.
    assert summary["human_verdict_p95_s"] < 4.5
