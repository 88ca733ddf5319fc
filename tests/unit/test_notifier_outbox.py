"""The Notifier's outbox (what a relay sends to other engines) and ``deliver`` (what other
engines sent): published events go to local subscribers and the outbox, delivered ones only to
local subscribers."""

from __future__ import annotations

from engine.notifier import Delivery, Notifier, TelephonyEvent

DOWN: TelephonyEvent = {"type": "telephony", "available": False, "message": "down"}


def test_published_events_go_to_the_outbox_as_addressed() -> None:
    sent: list[Delivery] = []
    notifier = Notifier(sent.append)
    notifier.publish_to_sessions(3, [7, 8], DOWN)
    notifier.broadcast(DOWN)
    assert [(d.campaign_id, d.session_ids, d.everyone) for d in sent] == [
        (3, (7, 8), False),
        (None, (), True),
    ]
    assert all(d.event["type"] == "telephony" and "sent_at" in d.event for d in sent)


def test_delivered_events_reach_local_subscribers_and_never_the_outbox() -> None:
    sent: list[Delivery] = []
    notifier = Notifier(sent.append)
    event = {**DOWN, "sent_at": 1.0}
    with (
        notifier.session_events(7) as seven,
        notifier.session_events(9) as nine,
        notifier.campaign_events(3) as dashboard,
    ):
        notifier.deliver(Delivery(event, 3, (7,)))
        assert (seven.qsize(), nine.qsize(), dashboard.qsize()) == (1, 0, 1)
        notifier.deliver(Delivery(event, everyone=True))
        assert (seven.qsize(), nine.qsize(), dashboard.qsize()) == (2, 1, 2)
    assert sent == []
