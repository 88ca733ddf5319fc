"""Issue 14 item 2: the dialer's idle watch counts the voters at most every few seconds per
campaign, tells the campaign's volunteers and dashboards of each change, and takes the
explanation down when calls go out again."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.dialer.idle_watch import IdleWatch
from engine.models import AudioMode
from engine.notifier import Notifier
from engine.store.sqlite.store import SqliteStore
from engine.time_zone import campaign_zone
from tests.unit.store_helpers import Row, phones

NIGHT = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)  # 10 p.m. in New York


async def test_the_watch_explains_throttles_and_clears(store: SqliteStore) -> None:
    campaign = await store.create_campaign("Fall")
    await store.add_voters(campaign.id, [Row(p) for p in phones(4)])
    volunteer = await store.add_volunteer("Ann", "ann@example.org", "+12025550100")
    session = await store.create_session(
        volunteer.id, campaign.id, AudioMode.PHONE, "1234", "token", NIGHT
    )
    clock = [100.0]
    notifier = Notifier()
    watch = IdleWatch(
        store, notifier, campaign_zone, clock=lambda: NIGHT, monotonic=lambda: clock[0]
    )
    with (
        notifier.session_events(session.id) as page,
        notifier.campaign_events(campaign.id) as board,
    ):
        found = await watch.nothing_to_dial(campaign)
        assert found is not None and found.counts["outside_hours"] == 4
        event = page.get_nowait()
        assert event["type"] == "availability" and event["idle"] is True
        assert event["resumes_at"] == "2026-01-15T14:00:00+00:00"
        assert board.get_nowait()["message"] == event["message"]
        view = watch.current(campaign.id)
        assert view is not None and view["reason"] == "outside calling hours"

        clock[0] += 1.0
        assert await watch.nothing_to_dial(campaign) is None  # counted a second ago
        clock[0] += 10.0
        assert await watch.nothing_to_dial(campaign) is not None
        assert page.empty()  # the same answer is not sent again

        await watch.dialing(campaign.id)
        assert page.get_nowait()["idle"] is False
        assert watch.current(campaign.id) is None
        await watch.dialing(campaign.id)
        assert page.empty()

        await watch.nothing_to_dial(campaign)
        watch.keep_only(set())  # nobody signed in any more
        assert watch.current(campaign.id) is None


async def test_an_explanation_goes_once_someone_can_be_called(store: SqliteStore) -> None:
    """A campaign without voters gets a list (during calling hours): the next count takes
    the explanation down even before a call is placed."""
    campaign = await store.create_campaign("Spring")
    now = [NIGHT]
    clock = [0.0]
    notifier = Notifier()
    watch = IdleWatch(
        store, notifier, campaign_zone, clock=lambda: now[0], monotonic=lambda: clock[0]
    )
    with notifier.campaign_events(campaign.id) as board:
        found = await watch.nothing_to_dial(campaign)
        assert found is not None and found.message.startswith("This campaign has no voters yet")
        assert board.get_nowait()["reason"] == "no voters"
        await store.add_voters(campaign.id, [Row(p) for p in phones(2)])
        now[0], clock[0] = datetime(2026, 1, 15, 18, 0, tzinfo=UTC), 60.0
        found = await watch.nothing_to_dial(campaign)
        assert found is not None and not found.idle
        assert board.get_nowait()["idle"] is False
        assert watch.current(campaign.id) is None
