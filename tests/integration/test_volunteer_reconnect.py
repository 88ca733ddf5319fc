"""A volunteer whose phone drops is never left 'ready' with no phone, and calling back in with
the PIN puts them straight back to taking calls (issue 11, item 13)."""

from __future__ import annotations

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import AfterResult, SessionState
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import SimVolunteer, make_campaign, voters_csv
from tests.helpers import wait_until


async def phone_gone(volunteer: SimVolunteer) -> bool:
    return (await volunteer.refresh()).channel_id is None


async def call_back(
    volunteer: SimVolunteer, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    volunteer.phone = await VolunteerPhone.call_in(pbx_pair, *carrier)
    await volunteer.phone.send_dtmf(volunteer.session.pin)


async def voter_on_the_line(engine: Engine, volunteer: SimVolunteer) -> str:
    session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    assert session.attempt_id is not None
    return (await engine.store.get_attempt(session.attempt_id)).phone


async def test_a_phone_dropped_in_wrap_up_then_a_result_then_a_call_back_gets_the_next_call(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 60), ("10", 61)]))
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(volunteer.session.id)
    first = await voter_on_the_line(engine, volunteer)
    await engine.volunteers.end_call(volunteer.session.id)
    await volunteer.wait_state(SessionState.WRAP_UP)
    assert volunteer.phone is not None
    await volunteer.phone.hangup()
    await wait_until(lambda: phone_gone(volunteer), what="the engine to see the phone go")

    await engine.volunteers.submit_result(
        volunteer.session.id, "talked", {}, "", then=AfterResult.READY
    )

    session = await volunteer.refresh()
    assert session.state == SessionState.PHONE_DISCONNECTED  # not 'ready': no phone
    view = await engine.volunteers.view(session.id)
    assert view["phone"] is False and "phone is disconnected" in view["message"]
    await call_back(volunteer, pbx_pair, carrier)
    second = await voter_on_the_line(engine, volunteer)
    assert {first, second} == {voter_number("10", 60), voter_number("10", 61)}


async def test_a_ready_volunteer_whose_phone_drops_takes_calls_again_after_calling_back(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    # Preview dialing: the volunteer is ready with the voter's card, nobody is called yet.
    campaign = await make_campaign(engine, voters_csv([("10", 62)]), dial_mode="preview")
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(volunteer.session.id)
    await volunteer.wait_state(SessionState.PREVIEWING, timeout=10)
    assert volunteer.phone is not None
    await volunteer.phone.hangup()

    await volunteer.wait_state(SessionState.PHONE_DISCONNECTED)
    assert await engine.sessions.ready_sessions(campaign.id) == []
    await call_back(volunteer, pbx_pair, carrier)

    session = await volunteer.wait_state(SessionState.PREVIEWING, timeout=20)
    assert session.channel_id is not None
    await engine.volunteers.call_voter(session.id)
    assert await voter_on_the_line(engine, volunteer) == voter_number("10", 62)
