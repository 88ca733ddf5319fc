"""Every behaviour in the carrier simulator's number table gives its documented outcome."""

from __future__ import annotations

import asyncio
import uuid

from engine.ari.client import AriClient
from testbed.behaviours import BEHAVIOURS, Behaviour, Outcome, voter_number
from testbed.events import EventLog

NO_ANSWER_TIMEOUT = 4
"""Seconds the dialer lets the no-answer number ring before giving up (the originate timeout)."""
RING_TIMEOUT = 30
"""Originate timeout for every other number: longer than the slow answer's 20 s of ringing."""


async def call(ari: AriClient, events: EventLog, behaviour: Behaviour) -> dict[str, object]:
    """Originate to the behaviour's number; report whether it was answered and how it ended."""
    channel_id = f"out-{behaviour.code}-{uuid.uuid4().hex[:8]}"
    timeout = NO_ANSWER_TIMEOUT if behaviour.outcome is Outcome.NO_ANSWER else RING_TIMEOUT
    await ari.originate(
        f"PJSIP/{voter_number(behaviour.code)}@carrier",
        channel_id=channel_id,
        app="phonebank",
        app_args="outcome-test",
        timeout=timeout,
    )
    first = await events.wait_for(
        lambda e: (
            e.get("channel", {}).get("id") == channel_id
            and e["type"] in ("StasisStart", "ChannelDestroyed")
        ),
        timeout=timeout + 10,
        what=f"answer or hangup of {behaviour.name}",
    )
    answered = first["type"] == "StasisStart"
    hung_up_by_far_end = False
    if answered:
        try:
            await events.wait_type("ChannelDestroyed", channel_id, timeout=1.5)
            hung_up_by_far_end = True
        except TimeoutError:
            await ari.hangup(channel_id)
    destroyed = await events.wait_type("ChannelDestroyed", channel_id, timeout=10)
    return {
        "answered": answered,
        "cause": destroyed["cause"],
        "hung_up_by_far_end": hung_up_by_far_end,
    }


async def test_every_behaviour_gives_its_documented_outcome(
    dialer: tuple[AriClient, EventLog],
) -> None:
    ari, events = dialer
    results = await asyncio.gather(*(call(ari, events, b) for b in BEHAVIOURS))
    for behaviour, result in zip(BEHAVIOURS, results, strict=True):
        expected_answered = behaviour.outcome is Outcome.ANSWERED
        assert result["answered"] == expected_answered, (behaviour.name, result)
        if not expected_answered:
            assert result["cause"] == behaviour.cause, (behaviour.name, result)
        # Only "answers then hangs up" ends the call within 1.5 s of answering.
        assert result["hung_up_by_far_end"] == (behaviour.code == "35"), (behaviour.name, result)
