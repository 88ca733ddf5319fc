"""What calls need from the rest of the engine, declared narrowly: the session side
(engine/sessions/) implements `SessionEvents`; `call_publisher` makes the `PublishCall`; the
metrics (engine/metrics/calls.py) implement `CallCounts`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from engine.models import Attempt, CallOutcome, Campaign, Session, Voter
from engine.notifier import CallEndedEvent, Notifier
from engine.sessions.states import SessionEvent

PublishCall = Callable[[int, int, CallOutcome], None]
"""Tell a campaign's dashboards how an attempt ended: (campaign id, attempt id, outcome)."""


def call_publisher(notifier: Notifier) -> PublishCall:
    """A PublishCall that sends ``{"type": "call", ...}`` to the campaign's dashboards."""

    def publish(campaign_id: int, attempt_id: int, outcome: CallOutcome) -> None:
        event: CallEndedEvent = {"type": "call", "attempt_id": attempt_id, "outcome": str(outcome)}
        notifier.publish(campaign_id, None, event)

    return publish


class CallCounts(Protocol):
    """What calls report for monitoring, as it happens."""

    def originated(self, ok: bool) -> None:
        """An originate was sent: accepted by the PBX (ok) or refused / unanswered."""
        ...

    def verdict(self, verdict: str) -> None:
        """AMD's verdict on an answered automatic call (AmdVerdict's text)."""
        ...

    def bridged(self, seconds: float) -> None:
        """A person was put through to a volunteer who was ready at the verdict, this long
        after the verdict."""
        ...

    def ended(self, outcome: CallOutcome) -> None:
        """A call ended with this outcome (an abandon is one)."""
        ...

    def taken_back(self) -> None:
        """Early connect put a machine through to a volunteer, who was taken back out."""
        ...


class NoCounts:
    """CallCounts that count nothing, for whoever does not watch (unit tests, benches)."""

    def originated(self, ok: bool) -> None:
        return None

    def verdict(self, verdict: str) -> None:
        return None

    def bridged(self, seconds: float) -> None:
        return None

    def ended(self, outcome: CallOutcome) -> None:
        return None

    def taken_back(self) -> None:
        return None


NO_COUNTS = NoCounts()


class SessionEvents(Protocol):
    """The volunteer sessions, as calls to voters see them."""

    async def ready_sessions(self, campaign_id: int) -> list[Session]:
        """READY sessions of the campaign with a phone, longest waiting first."""
        ...

    async def call_connected(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        """The voter is in the session's bridge: the volunteer talks to them."""
        ...

    async def call_ended(self, session: Session) -> Session:
        """The voter's side of a conversation is gone: wrap-up starts."""
        ...

    async def preview_offered(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        """Show the volunteer a voter to call (claimed for them)."""
        ...

    async def preview_not_reached(
        self, session: Session, attempt_id: int, outcome: str, message: str
    ) -> Session:
        """The volunteer's preview call ended unanswered (`message` says why)."""
        ...

    async def transition(self, session: Session, event: SessionEvent, **fields: Any) -> Session:
        """Apply a session event, persist and publish it."""
        ...
