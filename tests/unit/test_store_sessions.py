"""The stores' volunteers, logins and sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import Conflict, NotFound, SessionMoved
from engine.models import AudioMode, SessionState
from engine.store.base import Store
from tests.unit.store_helpers import T0, session_for

pytestmark = pytest.mark.every_store


@pytest.fixture
async def campaign_id(store: Store) -> int:
    return (await store.create_campaign("Fall")).id


async def test_a_known_email_returns_the_volunteer_unchanged(store: Store) -> None:
    """Sign-up is anonymous: someone typing another's email must not rewrite their details."""
    first = await store.add_volunteer("Ann", "ann@example.org", "+12025550100")
    again = await store.add_volunteer("Mallory", " ANN@example.org", "+12025550199")
    assert again.id == first.id
    assert (again.name, again.phone, again.email) == ("Ann", "+12025550100", "ann@example.org")


async def test_unknown_volunteer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_volunteer(42)


async def test_login_ids_are_unique_ignoring_case(store: Store) -> None:
    volunteer = await store.add_volunteer("Ann", "ann@example.org", "")
    login = await store.add_login("BLUE-CAT-42", volunteer.id, "hash")
    assert login.created_at.tzinfo is UTC and login.used_at is None
    assert await store.get_login("blue-cat-42") == login
    with pytest.raises(Conflict):
        await store.add_login("blue-CAT-42", volunteer.id, "other")


async def test_use_login_records_when_it_was_used(store: Store) -> None:
    volunteer = await store.add_volunteer("Ann", "ann@example.org", "")
    await store.add_login("blue-cat-42", volunteer.id, "hash")
    await store.use_login("blue-cat-42", T0)
    login = await store.get_login("blue-cat-42")
    assert login is not None and login.used_at == T0


async def test_new_session_waits_for_the_phone(store: Store, campaign_id: int) -> None:
    session = await store.get_session(await session_for(store, campaign_id, pin="1234"))
    assert (session.state, session.state_since, session.created_at, session.pin) == (
        SessionState.WAITING_FOR_PHONE,
        T0,
        T0,
        "1234",
    )
    assert session.audio_mode is AudioMode.PHONE


async def test_the_pin_of_a_live_session_conflicts(store: Store, campaign_id: int) -> None:
    await session_for(store, campaign_id, pin="1234")
    with pytest.raises(Conflict, match="PIN 1234"):
        await session_for(store, campaign_id, pin="1234", email="bob@example.org")


async def test_the_pin_of_a_logged_out_session_can_be_reused(
    store: Store, campaign_id: int
) -> None:
    old = await session_for(store, campaign_id, pin="1234")
    await store.update_session(old, state=SessionState.LOGGED_OUT)
    new = await session_for(store, campaign_id, pin="1234", email="bob@example.org")
    found = await store.session_by_pin("1234")
    assert found is not None and found.id == new


async def test_reviving_a_session_whose_pin_is_taken_conflicts(
    store: Store, campaign_id: int
) -> None:
    old = await session_for(store, campaign_id, pin="1234")
    await store.update_session(old, state=SessionState.LOGGED_OUT)
    await session_for(store, campaign_id, pin="1234", email="bob@example.org")
    with pytest.raises(Conflict):
        await store.update_session(old, state=SessionState.READY)


async def test_session_by_token_hash(store: Store, campaign_id: int) -> None:
    session_id = await session_for(store, campaign_id, pin="1234")
    session = await store.get_session(session_id)
    assert await store.session_by_token_hash(session.token_hash) == session
    assert await store.session_by_token_hash("nope") is None


async def test_setting_state_sets_state_since_to_now(store: Store, campaign_id: int) -> None:
    session_id = await session_for(store, campaign_id)
    before = datetime.now(UTC)
    session = await store.update_session(session_id, state=SessionState.READY)
    assert session.state is SessionState.READY
    assert before <= session.state_since <= datetime.now(UTC)


async def test_a_given_state_since_is_kept(store: Store, campaign_id: int) -> None:
    session_id = await session_for(store, campaign_id)
    when = T0 + timedelta(minutes=3)
    session = await store.update_session(session_id, state=SessionState.READY, state_since=when)
    assert session.state_since == when


async def test_other_fields_leave_state_since_alone(store: Store, campaign_id: int) -> None:
    session_id = await session_for(store, campaign_id)
    session = await store.update_session(session_id, channel_id="PJSIP/ann-0001")
    assert (session.channel_id, session.state_since) == ("PJSIP/ann-0001", T0)


async def test_unknown_session_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_session(42)
    with pytest.raises(NotFound):
        await store.update_session(42, state=SessionState.READY)


async def test_live_sessions_longest_waiting_first(store: Store, campaign_id: int) -> None:
    ann = await session_for(store, campaign_id, pin="1111", email="ann@example.org")
    bob = await session_for(store, campaign_id, pin="2222", email="bob@example.org")
    cy = await session_for(store, campaign_id, pin="3333", email="cy@example.org")
    await store.update_session(ann, state=SessionState.READY, state_since=T0 + timedelta(2))
    await store.update_session(bob, state=SessionState.READY, state_since=T0 + timedelta(1))
    await store.update_session(cy, state=SessionState.LOGGED_OUT)
    assert [s.id for s in await store.live_sessions()] == [bob, ann]


async def test_live_sessions_of_one_campaign(store: Store, campaign_id: int) -> None:
    spring = (await store.create_campaign("Spring")).id
    ann = await session_for(store, campaign_id, pin="1111", email="ann@example.org")
    await session_for(store, spring, pin="2222", email="bob@example.org")
    assert [s.id for s in await store.live_sessions(campaign_id)] == [ann]


async def test_pins_in_use_are_those_of_live_sessions(store: Store, campaign_id: int) -> None:
    ann = await session_for(store, campaign_id, pin="1111", email="ann@example.org")
    await session_for(store, campaign_id, pin="2222", email="bob@example.org")
    await store.update_session(ann, state=SessionState.LOGGED_OUT)
    assert await store.pins_in_use() == {"2222"}


async def test_a_session_records_the_node_its_leg_lives_on(store: Store, campaign_id: int) -> None:
    """Issue 16: '' until a node is chosen; kept once set, and seen by every reader."""
    session_id = await session_for(store, campaign_id)
    assert (await store.get_session(session_id)).node == ""
    updated = await store.update_session(session_id, node="node2")
    assert updated.node == "node2"
    assert (await store.get_session(session_id)).node == "node2"
    assert [s.node for s in await store.live_sessions(campaign_id)] == ["node2"]


async def test_a_change_worked_out_from_an_older_read_is_refused(
    store: Store, campaign_id: int
) -> None:
    """computed_from: the session must still be in the state and on the phone leg it was
    read in, else SessionMoved and nothing is written."""
    session_id = await session_for(store, campaign_id, pin="1234")
    read = await store.update_session(session_id, state=SessionState.WRAP_UP, channel_id="leg-1")
    await store.update_session(session_id, computed_from=read, channel_id=None)  # as read
    with pytest.raises(SessionMoved):  # the phone leg went meanwhile
        await store.update_session(session_id, computed_from=read, state=SessionState.READY)
    moved = await store.update_session(session_id, state=SessionState.PAUSED)
    with pytest.raises(SessionMoved):  # and the state moved
        await store.update_session(session_id, computed_from=read, missed_wrapups=3)
    assert await store.get_session(session_id) == moved
