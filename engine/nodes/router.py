"""The session's node, for everything the shared services ask of the telephony side.

The session ledger and the volunteer service are shared by every node; each of their
CallControl, PreviewControl, Waker and PhoneRelease requests for a session goes to the
runtime of the node the session lives on (``Session.node``). A new browser volunteer gets
the healthy node with the fewest live channels (placement.choose_node). With a single,
unnamed node every request goes to it, as before there were nodes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Protocol

from engine.errors import AriUnavailable, RemoteCallFailed
from engine.models import EndReason, Session
from engine.notifier import DialingView
from engine.sessions.control import BrowserLogin
from engine.sessions.placement import NodeLoad, choose_node
from engine.store.base import Store

log = logging.getLogger(__name__)

NO_NODE = "No dialer node is connected: calls cannot be placed right now."


class NodeTelephony(Protocol):
    """A node's telephony, as the router uses it (engine/telephony/runtime.py Telephony)."""

    async def end_call(self, session: Session) -> None: ...

    def wake(self, campaign_id: int) -> None: ...

    async def open_browser_audio(self, session: Session) -> None: ...

    def browser_login(self, session_id: int) -> BrowserLogin | None: ...

    def dialing(self) -> DialingView: ...

    async def place_preview_call(self, session: Session) -> str | None: ...

    async def release_preview(self, session: Session) -> bool: ...


class NodeLegs(Protocol):
    async def release_session(self, session: Session, reason: EndReason) -> None: ...


class NodeDialer(Protocol):
    def pacing_summary(self, campaign_id: int) -> dict[str, Any] | None: ...


class RoutedNode(Protocol):
    """A node's runtime, as the router sees it (engine/nodes/runtime.py NodeRuntime)."""

    @property
    def name(self) -> str | None: ...

    @property
    def telephony(self) -> NodeTelephony: ...

    @property
    def legs(self) -> NodeLegs: ...

    @property
    def dialer(self) -> NodeDialer: ...

    def load(self) -> NodeLoad: ...


class RemoteNode(Protocol):
    """The way to a session's node that another engine drives (engine/cluster/wiring.py)."""

    async def end_call(self, session: Session) -> None: ...

    async def release_session(self, session: Session, reason: EndReason) -> None: ...

    async def place_preview_call(self, session: Session) -> str | None: ...

    async def release_preview(self, session: Session) -> bool: ...


class NodeRouter:
    """CallControl, PreviewControl, Waker and PhoneRelease over the attached nodes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.nodes: dict[str | None, RoutedNode] = {}
        """The attached nodes by name (None: the only node); the engine attaches and
        detaches them."""
        self.remote: RemoteNode | None = None
        """With several engines: a session whose node is not attached here is served by the
        engine that drives it."""

    def _remote_for(self, session: Session) -> RemoteNode | None:
        """The other engines, when the session's named node is not attached here."""
        if self.remote is None or not session.node or None in self.nodes:
            return None
        return None if session.node in self.nodes else self.remote

    def node_of(self, session: Session) -> RoutedNode | None:
        """The node the session lives on: its recorded node if attached, else the only,
        unnamed node; None when its node is gone (detached) or none was chosen."""
        if None in self.nodes:
            return self.nodes[None]
        return self.nodes.get(session.node) if session.node else None

    def _all(self) -> Iterator[RoutedNode]:
        return iter(list(self.nodes.values()))

    # --- Waker, PhoneRelease -------------------------------------------------------------
    def wake(self, campaign_id: int) -> None:
        for node in self._all():
            node.telephony.wake(campaign_id)

    async def release_session(self, session: Session, reason: EndReason) -> None:
        node = self.node_of(session)
        remote = self._remote_for(session)
        if remote is not None:
            try:
                await remote.release_session(session, reason)
            except RemoteCallFailed as error:  # its new owner's recovery settles the legs
                log.warning("session %d: release on node %s: %s", session.id, session.node, error)
            return
        if node is None:
            log.info(
                "session %d: its node %r is gone; nothing to release", session.id, session.node
            )
            return
        await node.legs.release_session(session, reason)

    # --- CallControl ---------------------------------------------------------------------
    async def end_call(self, session: Session) -> None:
        node = self.node_of(session)
        remote = self._remote_for(session)
        if remote is not None:
            await remote.end_call(session)
        elif node is not None:
            await node.telephony.end_call(session)

    async def open_browser_audio(self, session: Session) -> None:
        """Create the browser's credentials on the session's node, choosing one (the healthy
        node with the fewest live channels) when it has none. Raises AriUnavailable when no
        node is healthy, AriError when the node refuses."""
        node = self.nodes.get(None)
        if node is None:
            chosen = choose_node(n.load() for n in self._all())
            if chosen is None:
                raise AriUnavailable("no dialer node is available for browser audio")
            node = self.nodes[chosen]
            if session.node != chosen:
                session = await self.store.update_session(session.id, node=chosen)
                log.info("session %d: browser audio on node %s", session.id, chosen)
        await node.telephony.open_browser_audio(session)

    def browser_login(self, session_id: int) -> BrowserLogin | None:
        for node in self._all():
            login = node.telephony.browser_login(session_id)
            if login is not None:
                return login
        return None

    def dialing(self) -> DialingView:
        """Held only when every node holds dialing (or none is attached)."""
        views = [node.telephony.dialing() for node in self._all()]
        if not views:
            return {"paused": True, "message": NO_NODE}
        open_views = [view for view in views if not view["paused"]]
        return open_views[0] if open_views else views[0]

    # --- PreviewControl ------------------------------------------------------------------
    async def place_preview_call(self, session: Session) -> str | None:
        node = self.node_of(session)
        remote = self._remote_for(session)
        if remote is not None:
            return await remote.place_preview_call(session)
        if node is None:
            raise AriUnavailable(f"the dialer node of session {session.id} is gone")
        return await node.telephony.place_preview_call(session)

    async def release_preview(self, session: Session) -> bool:
        node = self.node_of(session)
        remote = self._remote_for(session)
        if remote is not None:
            return await remote.release_preview(session)
        return True if node is None else await node.telephony.release_preview(session)

    # --- operators -----------------------------------------------------------------------
    def pacing_summary(self, campaign_id: int) -> dict[str, Any] | None:
        """The campaign's pacing on the first node that paced it."""
        for node in self._all():
            summary = node.dialer.pacing_summary(campaign_id)
            if summary is not None:
                return summary
        return None

    def loads(self) -> list[NodeLoad]:
        """Each attached node's health and live channels."""
        return [node.load() for node in self._all()]

    def health(self) -> dict[str, bool]:
        """Each named node: healthy or not."""
        return {n.name: n.load().healthy for n in self._all() if n.name is not None}
