"""AMD accuracy and speed over every synthetic greeting, on the real PBX pair.

Starts its own dialer PBX and carrier simulator (free ports), calls each person and machine
greeting ROUNDS times through the SIP trunk into AMD(), and prints the accuracy and the time
from answer to verdict. Figures go to docs/testbed.md.

    .venv/bin/python bench/amd_accuracy.py [ROUNDS] [AMD_ARGS]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from engine.ari.client import AriClient, AriSettings
from engine.config import load_config
from testbed.amd_survey import summarize, survey
from testbed.events import EventLog
from testbed.pair import running_pair


async def main(rounds: int, amd_args: str | None) -> None:
    cfg = load_config().pbx
    with running_pair(cfg, f"bench-amd-{os.getpid()}") as pair:
        spec = pair.dialer.spec
        settings = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
        async with AriClient.connect(settings) as ari, EventLog.running(ari) as events:
            results = await survey(pair, ari, events, rounds=rounds, amd_args=amd_args)
    summary = summarize(results)
    print(f"AMD({amd_args or cfg.amd_args}) over {rounds} round(s) of every greeting:")
    print(json.dumps(summary, indent=1))
    for r in results:
        if not r.right:
            print(f"  wrong: {r.number} {r.text[:50]!r} -> {r.verdict} ({r.cause})")


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 3, sys.argv[2] if len(sys.argv) > 2 else None
        )
    )
