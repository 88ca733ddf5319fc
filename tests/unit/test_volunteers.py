"""VolunteerService over the real in-memory store, with a recording fake for the telephony side."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.errors import InvalidInput, LoginFailed, NotAllowed, NotFound, RateLimited
from engine.models import (
    AfterResult,
    Attempt,
    Campaign,
    EndReason,
    Session,
    SessionState,
    TermCodeKind,
)
from engine.notifier import DialingView, Notifier
from engine.security import credentials
from engine.sessions import service as volunteers
from engine.sessions.control import BrowserLogin
from engine.sessions.ledger import SessionLedger
from engine.sessions.service import SignIn, VolunteerService
from engine.sessions.states import SessionEvent
from engine.store.sqlite.store import SqliteStore
from tests.helpers import wait_until
from tests.unit.store_helpers import NY, Row

T0 = datetime(2024, 10, 1, 16, 0, tzinfo=UTC)
CALLIN = "+18005550100"
VOTER_PHONE = "+12025550123"
CLIENT = "203.0.113.7"


class Clock:
    """A clock that stands still unless a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingCalls:
    """The telephony side (CallControl), recording what the service asks of it."""

    def __init__(self) -> None:
        self.ended: list[int] = []
        self.released: list[tuple[int, str]] = []
        self.woken: list[int] = []
        self.browsers: dict[int, BrowserLogin] = {}

    async def end_call(self, session: Session) -> None:
        self.ended.append(session.id)

    async def release_session(self, session: Session, reason: EndReason) -> None:
        self.released.append((session.id, reason))

    def wake(self, campaign_id: int) -> None:
        self.woken.append(campaign_id)

    async def open_browser_audio(self, session: Session) -> None:
        self.browsers[session.id] = BrowserLogin(
            session.id, f"web-{session.id}-test", "secret", "ws://127.0.0.1:1/ws"
        )

    def browser_login(self, session_id: int) -> BrowserLogin | None:
        return self.browsers.get(session_id)

    def dialing(self) -> DialingView:
        return {"paused": False, "message": ""}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full-strength scrypt costs ~50 ms a hash; these tests are about the service."""
    monkeypatch.setattr(credentials, "SCRYPT_N", 2**4)


@pytest.fixture
def calls() -> RecordingCalls:
    return RecordingCalls()


@pytest.fixture
def notifier() -> Notifier:
    return Notifier()


@pytest.fixture
async def service(
    store: SqliteStore, notifier: Notifier, calls: RecordingCalls
) -> AsyncIterator[VolunteerService]:
    clock = Clock(T0)
    ledger = SessionLedger(store, notifier, calls, calls, clock=clock)
    service = VolunteerService(store, ledger, calls, callin_number=CALLIN, clock=clock)
    yield service
    for session in await store.live_sessions():  # cancels pending wrap-up deadlines
        await service.log_out(session.id)


@pytest.fixture
async def campaign(store: SqliteStore) -> Campaign:
    return await store.create_campaign(
        "Spring Canvass", script="<p>Hello {{ first_name }}, this is {{ volunteer }}.</p>"
    )


async def sign_in(
    service: VolunteerService, campaign: Campaign, email: str = "ann@example.org"
) -> SignIn:
    signup = await service.sign_up("Ann Lee", email, "+12025550100")
    return await service.sign_in(signup.login_id, signup.password, campaign.name, "phone", CLIENT)


async def ready(service: VolunteerService, campaign: Campaign) -> Session:
    signed = await sign_in(service, campaign)
    session = await service.ledger.phone_connected(signed.session, "phone-1", "bridge-1")
    return await service.start_calling(session.id)


async def talking(
    service: VolunteerService, campaign: Campaign, first_name: str = "Ana"
) -> tuple[Session, Attempt]:
    """A session on a call with a freshly claimed voter."""
    session = await ready(service, campaign)
    store = service.store
    await store.add_voters(campaign.id, [Row(VOTER_PHONE, first_name=first_name, timezone=NY)])
    [(voter, attempt)] = await store.claim_voters(
        campaign.id, 1, T0, {"", NY}, campaign.max_attempts
    )
    # As telephony does: the voter is put through to this volunteer, then the page is told.
    attempt = await store.update_attempt(attempt.id, session_id=session.id, bridged_at=T0)
    session = await service.ledger.call_connected(session, attempt, voter, campaign)
    return session, attempt


async def in_wrap_up(service: VolunteerService, campaign: Campaign) -> tuple[Session, Attempt]:
    session, attempt = await talking(service, campaign)
    return await service.ledger.call_ended(session), attempt


def events(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    while not queue.empty():
        found.append(queue.get_nowait())
    return found


# --- sign-up and sign-in ----------------------------------------------------------------------


async def test_sign_up_hands_out_a_login_id_and_password(
    service: VolunteerService, store: SqliteStore
) -> None:
    signup = await service.sign_up(" Ann Lee ", "ann@example.org", "+12025550100")
    login = await store.get_login(signup.login_id)
    assert login is not None and login.volunteer_id == signup.volunteer.id
    assert len(signup.login_id) == credentials.LOGIN_ID_LENGTH
    assert credentials.verify_secret(signup.password, login.password_hash)
    assert signup.volunteer.name == "Ann Lee"


async def test_sign_up_names_the_missing_fields(service: VolunteerService) -> None:
    with pytest.raises(InvalidInput, match="please fill in your name, phone"):
        await service.sign_up("  ", "ann@example.org", "")


async def test_sign_up_rejects_an_email_without_a_domain(service: VolunteerService) -> None:
    with pytest.raises(InvalidInput, match="'ann@example' does not look like an email"):
        await service.sign_up("Ann", "ann@example", "+12025550100")


async def test_sign_in_forgives_stray_spaces_and_case(
    service: VolunteerService, campaign: Campaign
) -> None:
    signup = await service.sign_up("Ann", "ann@example.org", "+12025550100")
    login_id = f" {signup.login_id[:4].lower()} {signup.login_id[4:].lower()} "
    password = f"  {signup.password.upper()} "
    signed = await service.sign_in(login_id, password, campaign.name, "phone", CLIENT)
    assert signed.session.volunteer_id == signup.volunteer.id


async def test_sign_in_hands_out_a_pin_and_the_callin_number(
    service: VolunteerService, campaign: Campaign
) -> None:
    signed = await sign_in(service, campaign)
    assert (signed.session.pin, signed.callin_number) == (signed.pin, CALLIN)
    assert len(signed.pin) == volunteers.PIN_LENGTH
    assert signed.session.state == SessionState.WAITING_FOR_PHONE


async def test_a_wrong_password_says_what_to_check(
    service: VolunteerService, campaign: Campaign
) -> None:
    signup = await service.sign_up("Ann", "ann@example.org", "+12025550100")
    with pytest.raises(LoginFailed, match="check both against what sign-up showed you"):
        await service.sign_in(signup.login_id, "not-the-one", campaign.name, "phone", CLIENT)


async def test_repeated_failures_from_one_client_are_rate_limited(
    service: VolunteerService, campaign: Campaign
) -> None:
    signup = await service.sign_up("Ann", "ann@example.org", "+12025550100")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await service.sign_in(signup.login_id, "wrong", campaign.name, "phone", CLIENT)
    with pytest.raises(RateLimited, match="Try again in 5 minutes"):
        await service.sign_in(signup.login_id, signup.password, campaign.name, "phone", CLIENT)


async def test_the_lockout_is_per_client(service: VolunteerService, campaign: Campaign) -> None:
    signup = await service.sign_up("Ann", "ann@example.org", "+12025550100")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await service.sign_in("NOSUCHID", "wrong", campaign.name, "phone", CLIENT)
    signed = await service.sign_in(
        signup.login_id, signup.password, campaign.name, "phone", "198.51.100.2"
    )
    assert signed.session.campaign_id == campaign.id


async def test_an_unknown_campaign_lists_the_campaigns(
    service: VolunteerService, campaign: Campaign
) -> None:
    signup = await service.sign_up("Ann", "ann@example.org", "+12025550100")
    with pytest.raises(NotFound, match=r"'Autumn Drive': choose one of \['Spring Canvass'\]"):
        await service.sign_in(signup.login_id, signup.password, "Autumn Drive", "phone", CLIENT)


async def test_a_campaign_may_be_given_by_id(service: VolunteerService, campaign: Campaign) -> None:
    signup = await service.sign_up("Ann", "ann@example.org", "+12025550100")
    signed = await service.sign_in(
        signup.login_id, signup.password, str(campaign.id), "browser", CLIENT
    )
    assert (signed.session.campaign_id, signed.session.audio_mode) == (campaign.id, "browser")


async def test_a_bad_audio_mode_is_invalid_input(
    service: VolunteerService, campaign: Campaign
) -> None:
    signup = await service.sign_up("Ann", "ann@example.org", "+12025550100")
    with pytest.raises(InvalidInput, match="audio mode must be 'phone' or 'browser'"):
        await service.sign_in(signup.login_id, signup.password, campaign.name, "radio", CLIENT)


async def test_pins_are_unique_among_live_sessions(
    service: VolunteerService, campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one-digit PINs there are nine: nine sessions must take all of them."""
    monkeypatch.setattr(volunteers, "PIN_LENGTH", 1)
    signed = [await sign_in(service, campaign, f"v{n}@example.org") for n in range(9)]
    assert sorted(s.pin for s in signed) == list("123456789")


async def test_session_for_token_finds_the_session(
    service: VolunteerService, campaign: Campaign
) -> None:
    signed = await sign_in(service, campaign)
    assert (await service.session_for_token(signed.token)).id == signed.session.id


async def test_an_unknown_token_is_login_failed(service: VolunteerService) -> None:
    with pytest.raises(LoginFailed, match="sign in again"):
        await service.session_for_token("not-a-token")


# --- state changes --------------------------------------------------------------------------


async def test_start_calling_before_the_phone_connects_says_how_to_connect(
    service: VolunteerService, campaign: Campaign
) -> None:
    signed = await sign_in(service, campaign)
    with pytest.raises(
        NotAllowed, match=re.escape(f"call {CALLIN} and enter your PIN {signed.pin} first")
    ):
        await service.start_calling(signed.session.id)


async def test_a_connected_phone_makes_the_session_connected(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    signed = await sign_in(service, campaign)
    session = await service.ledger.phone_connected(signed.session, "phone-1", "bridge-1")
    assert (session.state, session.channel_id, session.bridge_id) == (
        SessionState.CONNECTED,
        "phone-1",
        "bridge-1",
    )
    assert await store.get_session(session.id) == session


async def test_start_calling_makes_the_session_ready_and_wakes_the_dialer(
    service: VolunteerService, campaign: Campaign, calls: RecordingCalls
) -> None:
    session = await ready(service, campaign)
    assert session.state == SessionState.READY
    assert calls.woken == [campaign.id]


async def test_a_connected_call_makes_the_session_talking(
    service: VolunteerService, campaign: Campaign
) -> None:
    session, attempt = await talking(service, campaign)
    assert (session.state, session.attempt_id) == (SessionState.TALKING, attempt.id)


async def test_a_connected_call_publishes_the_voter_and_the_rendered_script(
    service: VolunteerService, campaign: Campaign, notifier: Notifier
) -> None:
    session = await ready(service, campaign)
    store = service.store
    await store.add_voters(campaign.id, [Row(VOTER_PHONE, first_name="Ana <b>", timezone=NY)])
    [(voter, attempt)] = await store.claim_voters(campaign.id, 1, T0, {"", NY}, 3)
    with notifier.session_events(session.id) as queue:
        await service.ledger.call_connected(session, attempt, voter, campaign)
    [card] = [e for e in events(queue) if e["type"] == "voter"]
    assert (card["session_id"], card["attempt_id"]) == (session.id, attempt.id)
    assert card["voter"]["phone"] == VOTER_PHONE
    assert card["voter"]["phone_display"] == "(202) 555-0123"
    assert card["script"] == "<p>Hello Ana &lt;b&gt;, this is Ann.</p>"


async def test_a_state_change_is_published(
    service: VolunteerService, campaign: Campaign, notifier: Notifier
) -> None:
    signed = await sign_in(service, campaign)
    with notifier.session_events(signed.session.id) as queue:
        await service.ledger.phone_connected(signed.session, "phone-1", "bridge-1")
    [event] = events(queue)
    assert (event["type"], event["state"]) == ("session", "connected")
    assert event["message"].startswith("You're connected.")


async def test_a_call_ending_starts_wrap_up_with_a_deadline(
    service: VolunteerService, campaign: Campaign
) -> None:
    session, _ = await in_wrap_up(service, campaign)
    assert session.state == SessionState.WRAP_UP
    assert session.wrapup_deadline == T0 + timedelta(seconds=campaign.wrapup_seconds)


async def test_a_result_then_ready_makes_the_session_ready_and_wakes_the_dialer(
    service: VolunteerService, campaign: Campaign, store: SqliteStore, calls: RecordingCalls
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    calls.woken.clear()
    result = await service.submit_result(
        session.id, "talked", {"q1": "yes"}, " nice ", AfterResult.READY
    )
    assert (result.attempt_id, result.term_code, result.answers, result.notes) == (
        attempt.id,
        "talked",
        {"q1": "yes"},
        "nice",
    )
    after = await store.get_session(session.id)
    assert (after.state, after.wrapup_deadline) == (SessionState.READY, None)
    assert calls.woken == [campaign.id]


async def test_a_result_then_pause_pauses_the_session(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, _ = await in_wrap_up(service, campaign)
    await service.submit_result(session.id, "talked", {}, "", AfterResult.PAUSE)
    assert (await store.get_session(session.id)).state == SessionState.PAUSED


async def test_a_result_then_logout_logs_out_and_releases_the_session(
    service: VolunteerService, campaign: Campaign, store: SqliteStore, calls: RecordingCalls
) -> None:
    session, _ = await in_wrap_up(service, campaign)
    await service.submit_result(session.id, "talked", {}, "", AfterResult.LOGOUT)
    after = await store.get_session(session.id)
    assert (after.state, after.end_reason, after.ended_at) == (
        SessionState.LOGGED_OUT,
        "logout",
        T0,
    )
    assert calls.released == [(session.id, "logout")]


async def test_editing_a_result_keeps_the_earlier_version(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, _ = await in_wrap_up(service, campaign)
    first = await service.submit_result(session.id, "no_contact", {}, "first", AfterResult.READY)
    edited = await service.edit_result(session.id, "talked", {"q1": "no"}, "second")
    assert (edited.id, edited.term_code, edited.notes) == (first.id, "talked", "second")
    [earlier] = await store.result_history(first.id)
    assert (earlier["term_code"], earlier["notes"]) == ("no_contact", "first")
    assert (await store.get_session(session.id)).state == SessionState.READY


async def test_an_unknown_term_code_is_invalid_input(
    service: VolunteerService, campaign: Campaign
) -> None:
    session, _ = await in_wrap_up(service, campaign)
    with pytest.raises(InvalidInput, match="unknown term code 'maybe': use one of"):
        await service.submit_result(session.id, "maybe", {}, "")


async def test_a_result_without_a_call_is_not_allowed(
    service: VolunteerService, campaign: Campaign
) -> None:
    session = await ready(service, campaign)
    with pytest.raises(NotAllowed, match="no answered call"):
        await service.submit_result(session.id, "talked", {}, "")


async def test_remove_number_puts_the_number_on_the_campaign_list(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, _ = await in_wrap_up(service, campaign)
    await service.submit_result(session.id, "remove", {}, "", AfterResult.READY)
    assert [e.phone for e in await store.list_dnc(campaign.id)] == [VOTER_PHONE]
    assert await store.list_dnc(None) == []


async def test_remove_number_uses_the_global_list_when_the_campaign_says_so(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    campaign = await store.update_campaign(campaign.id, dnc_scope="global")
    session, _ = await in_wrap_up(service, campaign)
    await service.submit_result(session.id, "remove", {}, "", AfterResult.READY)
    [entry] = await store.list_dnc(None)
    assert (entry.phone, entry.reason, entry.created_by) == (
        VOTER_PHONE,
        "Remove Number",
        f"session {session.id}",
    )
    assert await store.list_dnc(campaign.id) == []


async def test_a_contact_term_code_adds_nothing_to_the_dnc_list(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    assert {t.code: t.kind for t in campaign.term_codes}["talked"] == TermCodeKind.CONTACT
    session, _ = await in_wrap_up(service, campaign)
    await service.submit_result(session.id, "talked", {}, "", AfterResult.READY)
    assert not await store.is_dnc(VOTER_PHONE, campaign.id)


async def test_a_missed_wrapup_deadline_logs_the_session_out_when_the_campaign_says_so(
    service: VolunteerService, campaign: Campaign, store: SqliteStore, calls: RecordingCalls
) -> None:
    campaign = await store.update_campaign(
        campaign.id, wrapup_seconds=1, logout_after_missed_wrapups=1
    )
    session, _ = await in_wrap_up(service, campaign)
    await wait_until(lambda: calls.released, timeout=5, what="the wrap-up deadline")
    after = await store.get_session(session.id)
    assert (after.state, after.end_reason) == (SessionState.LOGGED_OUT, "timeout")
    assert after.missed_wrapups == 1
    assert calls.released == [(session.id, "timeout")]


async def test_a_phone_dropped_mid_call_starts_wrap_up(
    service: VolunteerService, campaign: Campaign
) -> None:
    session, _ = await talking(service, campaign)
    session = await service.ledger.phone_dropped(session)
    assert (session.state, session.channel_id) == (SessionState.WRAP_UP, None)
    assert session.wrapup_deadline is not None


async def test_a_result_saved_after_the_phone_dropped_does_not_make_the_volunteer_ready(
    service: VolunteerService, campaign: Campaign
) -> None:
    """Issue 11, item 13: the volunteer stayed 'ready' with no phone and was never called."""
    session, _ = await in_wrap_up(service, campaign)
    await service.ledger.phone_dropped(session)
    await service.submit_result(session.id, "talked", {}, "", then=AfterResult.READY)
    session = await service.store.get_session(session.id)
    assert (session.state, session.channel_id) == (SessionState.PHONE_DISCONNECTED, None)
    assert await service.ledger.ready_sessions(campaign.id) == []
    view = await service.view(session.id)
    assert view["phone"] is False
    assert "phone is disconnected" in view["message"]


async def test_a_phone_drop_worked_out_before_the_result_was_saved_does_not_undo_it(
    service: VolunteerService, campaign: Campaign
) -> None:
    """The phone leg's loss, read while in wrap-up, is written after the volunteer's Next
    made them ready: it applies to 'ready' (phone disconnected), never brings the wrap-up
    back, so the same call's result cannot be taken twice (seen with a node killed mid-call,
    tests/integration/test_multinode_shift.py)."""
    session, _ = await in_wrap_up(service, campaign)
    stale = await service.store.get_session(session.id)  # as the phone's loss read it
    await service.submit_result(session.id, "talked", {}, "", then=AfterResult.READY)
    after = await service.ledger.transition(stale, SessionEvent.PHONE_DROPPED, channel_id=None)
    assert (after.state, after.channel_id) == (SessionState.PHONE_DISCONNECTED, None)
    with pytest.raises(NotAllowed):
        await service.submit_result(session.id, "talked", {}, "", then=AfterResult.READY)


async def test_calling_back_with_the_pin_puts_the_volunteer_back_to_taking_calls(
    service: VolunteerService, campaign: Campaign, calls: RecordingCalls
) -> None:
    session = await ready(service, campaign)
    session = await service.ledger.phone_dropped(session)
    assert session.state == SessionState.PHONE_DISCONNECTED
    calls.woken.clear()
    session = await service.ledger.phone_connected(session, "phone-2", "bridge-1")
    assert (session.state, session.channel_id) == (SessionState.READY, "phone-2")
    assert calls.woken == [campaign.id]
    assert [s.id for s in await service.ledger.ready_sessions(campaign.id)] == [session.id]


async def test_a_session_left_ready_without_a_phone_waits_for_it_after_a_restart(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session = await ready(service, campaign)
    await store.update_session(session.id, channel_id=None)  # as an older version left it
    await service.ledger.recover()
    assert (await store.get_session(session.id)).state == SessionState.PHONE_DISCONNECTED


async def test_a_second_call_in_while_ready_keeps_the_volunteer_ready(
    service: VolunteerService, campaign: Campaign
) -> None:
    session = await ready(service, campaign)
    session = await service.ledger.phone_connected(session, "phone-2", "bridge-1")
    assert (session.state, session.channel_id) == (SessionState.READY, "phone-2")


async def test_resuming_a_break_without_a_phone_waits_for_the_phone(
    service: VolunteerService, campaign: Campaign
) -> None:
    session = await ready(service, campaign)
    await service.pause(session.id)
    session = await service.ledger.phone_dropped(await service.store.get_session(session.id))
    assert session.state == SessionState.PAUSED
    assert "phone is disconnected" in (await service.view(session.id))["message"]
    session = await service.start_calling(session.id)
    assert session.state == SessionState.PHONE_DISCONNECTED
    with pytest.raises(NotAllowed, match="PIN"):
        await service.start_calling(session.id)


async def test_logging_out_mid_call_hangs_up_the_voter(
    service: VolunteerService, campaign: Campaign, calls: RecordingCalls
) -> None:
    session, _ = await talking(service, campaign)
    session = await service.log_out(session.id)
    assert (session.state, session.end_reason) == (SessionState.LOGGED_OUT, "logout")
    assert (calls.ended, calls.released) == ([session.id], [(session.id, "logout")])


# --- the volunteer's page -----------------------------------------------------------------


async def test_view_shows_the_call_card_and_the_saved_result(
    service: VolunteerService, campaign: Campaign
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await service.submit_result(session.id, "talked", {"q1": "yes"}, "call back", AfterResult.PAUSE)
    view = await service.view(session.id)
    assert (view["state"], view["pin"], view["callin_number"]) == ("paused", session.pin, CALLIN)
    assert view["call"]["attempt_id"] == attempt.id
    assert view["call"]["voter"]["first_name"] == "Ana"
    assert "Hello Ana" in view["call"]["script"]
    assert view["result"] == {
        "term_code": "talked",
        "answers": {"q1": "yes"},
        "notes": "call back",
        "status": "final",
    }
    assert view["wrapup_missed"] is None
    assert [t["code"] for t in view["campaign"]["term_codes"]] == ["talked", "no_contact", "remove"]


async def test_view_before_any_call_has_no_card(
    service: VolunteerService, campaign: Campaign
) -> None:
    signed = await sign_in(service, campaign)
    view = await service.view(signed.session.id)
    assert (view["state"], view["call"], view["result"]) == ("waiting for phone", None, None)


async def test_a_browser_sign_in_opens_softphone_credentials_shown_in_the_view(
    service: VolunteerService, campaign: Campaign, calls: RecordingCalls
) -> None:
    signup = await service.sign_up("Ann Lee", "ann@example.org", "+12025550100")
    signed = await service.sign_in(signup.login_id, signup.password, campaign.name, "browser", "c")
    view = await service.view(signed.session.id)
    assert view["softphone"] == {
        "ws_url": "ws://127.0.0.1:1/ws",
        "uri": "sip:join@127.0.0.1",
        "username": f"web-{signed.session.id}-test",
        "password": "secret",
    }


async def test_a_phone_sign_in_has_no_softphone_and_a_logged_out_view_hides_it(
    service: VolunteerService, campaign: Campaign, calls: RecordingCalls
) -> None:
    signed = await sign_in(service, campaign)
    assert (await service.view(signed.session.id))["softphone"] is None
    assert calls.browsers == {}
    calls.browsers[signed.session.id] = BrowserLogin(signed.session.id, "web-x", "pw", "ws://h/ws")
    await service.log_out(signed.session.id)
    assert (await service.view(signed.session.id))["softphone"] is None
