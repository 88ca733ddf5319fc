"""Live updates for WebSockets: each session's events, and every event of a campaign.

Subscribers get an asyncio.Queue; a slow subscriber whose queue is full loses its oldest
events rather than blocking the engine. The payloads are declared here (one TypedDict per
``type``), as the pages' scripts read them; the notifier adds ``sent_at`` to each.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
Event = dict[str, Any]
"""An event as subscribers receive it: a declared payload below plus ``sent_at``, or a voter
card (publish_card: ``{"type": "voter", "session_id", "preview"?, **card}``). Publishing
takes only the declared payloads, so mypy checks every event the engine sends."""


class _SessionState(TypedDict):
    type: Literal["session"]
    session_id: int
    state: str
    message: str
    """What the volunteer's page says about the state."""
    phone: bool
    """Whether the volunteer's phone (or browser audio) is connected."""
    wrapup_deadline: str | None
    """ISO-8601, while in wrap-up (and during the break a missed deadline started)."""


class SessionStateEvent(_SessionState, total=False):
    """The volunteer's session moved (engine/sessions/ledger.py)."""

    wrapup_missed: str
    """Only when the wrap-up deadline passed without Next and paused the session: what
    happened to the volunteer's answers, in words (engine/sessions/drafts.py)."""


class PreviewEndedEvent(TypedDict):
    """A preview call the volunteer placed ended unanswered."""

    type: Literal["preview_ended"]
    session_id: int
    attempt_id: int
    outcome: str
    message: str


class CallEndedEvent(TypedDict):
    """A call of the campaign ended with ``outcome`` (for the dashboards)."""

    type: Literal["call"]
    attempt_id: int
    outcome: str


class DialingView(TypedDict):
    """Whether dialing is held, and why in words (engine/calls/gate.py)."""

    paused: bool
    message: str


class DialingEvent(DialingView):
    type: Literal["dialing"]


class TelephonyEvent(TypedDict):
    """The phone system went away or came back (sent to every page)."""

    type: Literal["telephony"]
    available: bool
    message: str


class PinInUseEvent(TypedDict):
    """Someone called in with the PIN of a session whose phone is connected."""

    type: Literal["pin_in_use"]
    session_id: int
    message: str


class PinRejectedEvent(TypedDict):
    """A wrong PIN came from the phone of a session waiting for it (engine/callin/wrong_pin.py)."""

    type: Literal["pin_rejected"]
    session_id: int
    message: str


class ImportProgressEvent(TypedDict):
    """A batch of a voter list was imported (for the campaign's dashboards)."""

    type: Literal["import"]
    campaign_id: int
    rows: int
    bytes_done: int
    bytes_total: int | None


class AvailabilityEvent(TypedDict):
    """Issue 14 item 2 (LIVE): nobody can be called now and why (``idle``), or calling goes
    on again (``idle`` false); to the campaign's dashboards and its volunteers' pages
    (engine/dialer/idle_watch.py; the fields as Availability.view)."""

    type: Literal["availability"]
    campaign_id: int
    idle: bool
    reason: str | None
    message: str
    resumes_at: str | None
    counts: dict[str, int]


class VoterCardHeader(TypedDict):
    """The declared part of a ``voter`` event; the card's fields follow it."""

    type: Literal["voter"]
    session_id: int
    preview: NotRequired[bool]


Payload = (
    SessionStateEvent
    | PreviewEndedEvent
    | CallEndedEvent
    | DialingEvent
    | TelephonyEvent
    | PinInUseEvent
    | PinRejectedEvent
    | ImportProgressEvent
    | AvailabilityEvent
)
"""Every declared payload the engine publishes."""


@dataclass(frozen=True)
class Delivery:
    """One published event and who gets it: the campaign's dashboards and the listed sessions,
    or ``everyone``. What a relay to other engines sends (engine/cluster/relay.py)."""

    event: Event
    campaign_id: int | None = None
    session_ids: tuple[int, ...] = ()
    everyone: bool = False


Outbox = Callable[[Delivery], None]
"""Where a Notifier also sends what is published here (to the other engines); never blocks."""


class Notifier:
    def __init__(self, outbox: Outbox | None = None) -> None:
        """``outbox``: given every delivery published here (not those ``deliver`` hands in)."""
        self._sessions: dict[int, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._campaigns: dict[int, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._outbox = outbox

    def publish(self, campaign_id: int, session_id: int | None, event: Payload) -> None:
        """Send ``event`` to the session's subscribers and the campaign's dashboards.

        Adds ``sent_at`` (epoch seconds) so clients can measure delivery latency.
        """
        sessions = () if session_id is None else (session_id,)
        self._publish(Delivery({**event, "sent_at": time.time()}, campaign_id, sessions))

    def publish_card(
        self, campaign_id: int, header: VoterCardHeader, card: Mapping[str, Any]
    ) -> None:
        """Send a voter card (``header`` then the card's fields) to the session named in the
        header and the campaign's dashboards."""
        event = {**header, **card, "sent_at": time.time()}
        self._publish(Delivery(event, campaign_id, (header["session_id"],)))

    def publish_to_sessions(
        self, campaign_id: int, session_ids: Iterable[int], event: Payload
    ) -> None:
        """Send ``event`` to the campaign's dashboards once and to each of ``session_ids``."""
        stamped: Event = {**event, "sent_at": time.time()}
        self._publish(Delivery(stamped, campaign_id, tuple(session_ids)))

    def broadcast(self, event: Payload) -> None:
        """Send ``event`` to every subscriber: every session's page and every dashboard."""
        self._publish(Delivery({**event, "sent_at": time.time()}, everyone=True))

    def deliver(self, delivery: Delivery) -> None:
        """Hand a delivery published by another engine to this process's subscribers (it
        does not go to the outbox: nothing is echoed back)."""
        if delivery.everyone:
            tables = itertools.chain(self._sessions.values(), self._campaigns.values())
            queues = list(itertools.chain.from_iterable(tables))
        else:
            campaign = delivery.campaign_id
            queues = [] if campaign is None else list(self._campaigns.get(campaign, ()))
            for session_id in delivery.session_ids:
                queues += self._sessions.get(session_id, ())
        for queue in queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(delivery.event)

    def _publish(self, delivery: Delivery) -> None:
        self.deliver(delivery)
        if self._outbox is not None:
            self._outbox(delivery)

    @contextlib.contextmanager
    def session_events(self, session_id: int) -> Iterator[asyncio.Queue[Event]]:
        with self._subscribe(self._sessions, session_id) as queue:
            yield queue

    @contextlib.contextmanager
    def campaign_events(self, campaign_id: int) -> Iterator[asyncio.Queue[Event]]:
        with self._subscribe(self._campaigns, campaign_id) as queue:
            yield queue

    @contextlib.contextmanager
    def _subscribe(
        self, table: dict[int, set[asyncio.Queue[Event]]], key: int
    ) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        table[key].add(queue)
        try:
            yield queue
        finally:
            table[key].discard(queue)
            if not table[key]:
                del table[key]


async def drain(queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    while True:
        yield await queue.get()
