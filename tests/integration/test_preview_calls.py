"""Preview (click-to-call) dialing on the real PBX pair: the volunteer sees the voter, presses
Call, hears it ring, and is talking the moment the voter answers — with no AMD — and the
mixed mode where the dialer autodials landlines while mobiles wait for a volunteer's Call."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import AfterResult, Attempt, CallOutcome, SessionState, Voter, VoterStatus
from engine.notifier import Event
from engine.voters.line_types import MOBILE, UNKNOWN
from testbed.audio import rms_dbfs
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, voters_csv
from tests.helpers import wait_until
from tests.integration.test_engine_calls import heard_level, recording_voters


async def previewing(
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    csv: bytes,
    **settings: Any,
) -> SimVolunteer:
    campaign = await make_campaign(engine, csv, **{"dial_mode": "preview", **settings})
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(volunteer.session.id)
    return volunteer


async def card_of(engine: Engine, volunteer: SimVolunteer) -> tuple[Attempt, Voter]:
    """The voter on the volunteer's card, once there is one."""
    session = await volunteer.wait_state(SessionState.PREVIEWING, timeout=10)
    assert session.attempt_id is not None
    attempt = await engine.store.get_attempt(session.attempt_id)
    return attempt, await engine.store.get_voter(attempt.voter_id)


async def no_preview_channels(engine: Engine) -> bool:
    assert engine.telephony is not None
    channels = await engine.telephony.ari.list_channels()
    return not [c for c in channels if c["id"].startswith("preview-")]


async def test_press_call_then_talk_with_audio_both_ways_and_no_amd(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    async with recording_voters(carrier):
        volunteer = await previewing(engine, pbx_pair, carrier, voters_csv([("10", 21)]))
        campaign = await engine.store.get_campaign(volunteer.session.campaign_id)
        attempt, voter = await card_of(engine, volunteer)
        assert voter.phone == voter_number("10", 21)
        assert attempt.originated_at is None  # nobody is dialed before Call
        await engine.volunteers.call_voter(volunteer.session.id)
        session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
        assert volunteer.phone is not None
        recording = await volunteer.phone.start_recording()
        await volunteer.phone.say(1)
        heard_by_volunteer = rms_dbfs(await volunteer.phone.stop_recording(recording))
        await engine.volunteers.end_call(session.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
        heard_by_voter = await heard_level(pbx_pair, voter.phone)
    assert heard_by_volunteer > -40, "the volunteer did not hear the voter"
    assert heard_by_voter > -40, "the voter did not hear the volunteer"
    attempt = await wait_until(lambda: _ended(engine, attempt.id), what="the call to end")
    assert (attempt.outcome, attempt.amd_verdict) == (CallOutcome.CONTACT, "")
    assert attempt.bridged_at is not None and attempt.session_id == volunteer.session.id
    assert await engine.store.abandon_counts(campaign.id, attempt.claimed_at) == (0, 0)


async def test_an_answering_machine_is_put_through_without_amd(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    volunteer = await previewing(engine, pbx_pair, carrier, voters_csv([("20", 22)]))
    attempt, _ = await card_of(engine, volunteer)
    await engine.volunteers.call_voter(volunteer.session.id)
    session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    assert volunteer.phone is not None
    greeting = rms_dbfs(await _record(volunteer, 2.0))
    await engine.volunteers.end_call(session.id)
    await volunteer.wait_state(SessionState.WRAP_UP)
    await engine.volunteers.submit_result(session.id, "no_contact", {}, "machine")
    assert greeting > -40, "the volunteer did not hear the machine's greeting"
    attempt = await wait_until(lambda: _ended(engine, attempt.id), what="the call to end")
    assert (attempt.outcome, attempt.amd_verdict, attempt.amd_at) == (CallOutcome.CONTACT, "", None)


async def test_busy_is_recorded_and_the_next_card_follows(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    csv = voters_csv([("30", 23), ("10", 24)])
    volunteer = await previewing(engine, pbx_pair, carrier, csv)
    with engine.notifier.session_events(volunteer.session.id) as events:
        busy, voter = await card_of(engine, volunteer)
        assert voter.phone == voter_number("30", 23)
        await engine.volunteers.call_voter(volunteer.session.id)
        ended = await _event(events, "preview_ended")
        assert (ended["outcome"], ended["message"]) == ("busy", "Busy")
        card = await _event(events, "voter")
    assert card["preview"] is True
    assert card["voter"]["phone"] == voter_number("10", 24)
    await card_of(engine, volunteer)
    attempt = await engine.store.get_attempt(busy.id)
    assert (attempt.outcome, attempt.hangup_cause) == (CallOutcome.BUSY, 17)
    voter = await engine.store.get_voter(busy.voter_id)
    assert voter.status == VoterStatus.DONE  # max_attempts is 1 in these campaigns
    assert await wait_until(lambda: no_preview_channels(engine), what="no channel left behind")


async def test_skip_returns_the_voter_untouched(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    csv = voters_csv([("10", 25), ("10", 26)])
    volunteer = await previewing(engine, pbx_pair, carrier, csv, max_attempts=3)
    skipped, _ = await card_of(engine, volunteer)
    await engine.volunteers.skip_voter(volunteer.session.id)
    attempt, _ = await card_of(engine, volunteer)
    assert attempt.voter_id != skipped.voter_id
    await engine.volunteers.log_out(volunteer.session.id)
    voter = await engine.store.get_voter(skipped.voter_id)
    assert (voter.status, voter.attempts) == (VoterStatus.PENDING, 0)
    ended = await engine.store.get_attempt(skipped.id)
    assert (ended.outcome, ended.originated_at) == (None, None)
    assert await no_preview_channels(engine)


async def test_the_volunteer_hears_it_ring_and_cancel_leaves_nothing_behind(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    volunteer = await previewing(engine, pbx_pair, carrier, voters_csv([("31", 27)]))
    attempt, _ = await card_of(engine, volunteer)
    assert volunteer.phone is not None
    recording = await volunteer.phone.start_recording()
    await engine.volunteers.call_voter(volunteer.session.id)
    await asyncio.sleep(1.5)  # the first ring of the US cadence lasts 2 s
    ringing = rms_dbfs(await volunteer.phone.stop_recording(recording))
    assert (await volunteer.refresh()).state == SessionState.RINGING
    await engine.volunteers.cancel_call(volunteer.session.id)
    assert (await volunteer.refresh()).state in (SessionState.READY, SessionState.PREVIEWING)
    assert await wait_until(lambda: no_preview_channels(engine), what="the call hung up")
    await engine.volunteers.pause(volunteer.session.id)
    assert ringing > -45, "the volunteer heard no ringing"
    attempt = await engine.store.get_attempt(attempt.id)
    assert attempt.outcome == CallOutcome.NO_ANSWER


async def test_a_mixed_campaign_autodials_landlines_and_previews_mobiles(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """The dialer calls the landlines itself; once none is left to call, the volunteer is
    shown the mobile and unknown numbers and places those calls by hand."""
    kinds = {0: "landline", 1: "cell", 2: "", 3: "Home", 4: "wireless", 5: ""}
    lines = ["first_name,last_name,phone,zip,line_type"]
    for n, kind in kinds.items():
        lines.append(f"V{n},L{n},{voter_number('10', 30 + n)},20001,{kind}")
    campaign = await make_campaign(
        engine, ("\n".join(lines) + "\n").encode(), dial_mode="power", mobile_dial_mode="preview"
    )
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(volunteer.session.id)
    for _ in range(2):  # the dialer's own calls: the two landlines
        session = await volunteer.wait_state(SessionState.TALKING, timeout=40)
        await engine.volunteers.end_call(session.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
        await engine.volunteers.submit_result(session.id, "talked", {}, "", then=AfterResult.READY)
    previewed = []
    for _ in range(4):  # then every other number, by hand
        _, voter = await card_of(engine, volunteer)
        previewed.append(voter)
        await engine.volunteers.call_voter(volunteer.session.id)
        session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
        await engine.volunteers.end_call(session.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
        await engine.volunteers.submit_result(session.id, "talked", {}, "", then=AfterResult.READY)
    await engine.volunteers.pause(volunteer.session.id)
    attempts = {a.phone: a for a in await engine.store.list_attempts(campaign.id)}
    automatic = sorted(p for p, a in attempts.items() if a.amd_verdict)
    assert automatic == [voter_number("10", 30), voter_number("10", 33)]  # the landlines
    assert sorted(v.phone for v in previewed) == sorted(set(attempts) - set(automatic))
    assert {v.line_type for v in previewed} == {MOBILE, UNKNOWN}
    assert all(a.outcome == CallOutcome.CONTACT for a in attempts.values())


async def _ended(engine: Engine, attempt_id: int) -> Attempt | None:
    attempt = await engine.store.get_attempt(attempt_id)
    return attempt if attempt.ended_at else None


async def _event(events: asyncio.Queue[Event], kind: str, timeout: float = 30) -> Event:
    async def next_of_kind() -> Event:
        while True:
            event = await events.get()
            if event["type"] == kind:
                return event

    return await asyncio.wait_for(next_of_kind(), timeout)


async def _record(volunteer: SimVolunteer, seconds: float) -> Path:
    assert volunteer.phone is not None
    recording = await volunteer.phone.start_recording()
    await asyncio.sleep(seconds)
    return await volunteer.phone.stop_recording(recording)


async def test_a_preview_call_that_rings_out_is_no_answer(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """The real PBX reports the ringing of a preview call, so a phone that rang out is the
    voter's "no answer" (a call that never rang would be our failure)."""
    volunteer = await previewing(
        engine, pbx_pair, carrier, voters_csv([("31", 28)]), ring_seconds=3
    )
    attempt, _ = await card_of(engine, volunteer)
    await engine.volunteers.call_voter(volunteer.session.id)

    async def ended() -> CallOutcome | None:
        return (await engine.store.get_attempt(attempt.id)).outcome

    assert await wait_until(ended, 15, "the call to ring out") == CallOutcome.NO_ANSWER
    await engine.volunteers.pause(volunteer.session.id)
