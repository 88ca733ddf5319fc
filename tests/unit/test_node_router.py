"""NodeRouter (engine/nodes/router.py) over stand-in nodes: which node each request about a
session goes to, and what the pages are told about dialing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.models import AudioMode, EndReason, Session, SessionState
from engine.nodes.router import NO_NODE, NodeRouter
from engine.notifier import DialingView
from engine.sessions.control import BrowserLogin
from engine.sessions.placement import NodeLoad
from engine.store.base import Store
from engine.store.sqlite.store import SqliteStore

MakeRouter = Callable[..., NodeRouter]

SESSION = Session(
    7, 1, 1, AudioMode.PHONE, "1234", "hash", SessionState.READY, datetime(2026, 1, 1, tzinfo=UTC)
)


@dataclass
class StandIn:
    """A node's telephony, legs and dialer in one, recording what it is asked."""

    name: str | None
    view: DialingView = field(default_factory=lambda: DialingView(paused=False, message=""))
    summary: dict[str, Any] | None = None
    asked: list[str] = field(default_factory=list)

    @property
    def telephony(self) -> StandIn:
        return self

    @property
    def legs(self) -> StandIn:
        return self

    @property
    def dialer(self) -> StandIn:
        return self

    def load(self) -> NodeLoad:
        return NodeLoad(self.name or "", True, 0)

    async def end_call(self, session: Session) -> None:
        self.asked.append(f"end {session.id}")

    def wake(self, campaign_id: int) -> None:
        self.asked.append(f"wake {campaign_id}")

    async def open_browser_audio(self, session: Session) -> None:
        self.asked.append(f"browser {session.id}")

    def browser_login(self, session_id: int) -> BrowserLogin | None:
        return None

    def dialing(self) -> DialingView:
        return self.view

    async def place_preview_call(self, session: Session) -> str | None:
        self.asked.append(f"preview {session.id}")
        return None

    async def release_preview(self, session: Session) -> bool:
        return True

    async def release_session(self, session: Session, reason: EndReason) -> None:
        self.asked.append(f"release {session.id}")

    def pacing_summary(self, campaign_id: int) -> dict[str, Any] | None:
        return self.summary


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = SqliteStore.open(":memory:")
    yield opened
    await opened.close()


@pytest.fixture
def router(store: Store) -> MakeRouter:
    def make(*nodes: StandIn) -> NodeRouter:
        routed = NodeRouter(store)
        for node in nodes:
            routed.nodes[node.name] = node
        return routed

    return make


async def test_requests_about_a_session_go_to_its_node_only(
    router: MakeRouter,
) -> None:
    one, two = StandIn("node1"), StandIn("node2")
    routed = router(one, two)
    session = replace(SESSION, node="node2")
    await routed.end_call(session)
    await routed.release_session(session, EndReason.LOGOUT)
    await routed.place_preview_call(session)
    assert two.asked == ["end 7", "release 7", "preview 7"]
    assert one.asked == []


async def test_a_session_whose_node_is_detached_finds_nothing_to_do(
    router: MakeRouter,
) -> None:
    one = StandIn("node1")
    routed = router(one)
    await routed.release_session(replace(SESSION, node="node2"), EndReason.LOGOUT)
    await routed.end_call(replace(SESSION, node="node2"))
    assert one.asked == []


async def test_the_single_unnamed_node_takes_every_session(
    router: MakeRouter,
) -> None:
    only = StandIn(None)
    routed = router(only)
    await routed.end_call(replace(SESSION, node="anything"))
    await routed.end_call(SESSION)
    assert only.asked == ["end 7", "end 7"]


async def test_a_volunteer_becoming_ready_wakes_every_node(
    router: MakeRouter,
) -> None:
    one, two = StandIn("node1"), StandIn("node2")
    router(one, two).wake(3)
    assert one.asked == two.asked == ["wake 3"]


async def test_dialing_is_held_only_while_every_node_holds_it(
    router: MakeRouter,
) -> None:
    held: DialingView = {"paused": True, "message": "The phone line is down."}
    one, two = StandIn("node1", view=held), StandIn("node2")
    assert router(one, two).dialing() == {"paused": False, "message": ""}
    two.view = held
    assert router(one, two).dialing() == held
    assert router().dialing() == {"paused": True, "message": NO_NODE}


async def test_pacing_comes_from_the_first_node_that_paced_the_campaign(
    router: MakeRouter,
) -> None:
    one, two = StandIn("node1"), StandIn("node2", summary={"mode": "power"})
    assert router(one, two).pacing_summary(1) == {"mode": "power"}
    assert router(one).pacing_summary(1) is None
