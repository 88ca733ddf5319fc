"""What calls (automatic and preview) report to the metrics (engine/calls/ports.py CallCounts),
against a fake ARI: originates ok and failed, verdicts (HANGUP for a hang-up during AMD), the
verdict → bridge latency, abandons and outcomes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import pytest
from prometheus_client import CollectorRegistry

from engine.ari.client import AriClient
from engine.ari.event_types import Channel
from engine.audio.media import Player
from engine.calls.gate import DialingGate
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.outbound import OutboundCalls
from engine.calls.preview import PreviewCalls
from engine.calls.voter_release import settle_voter
from engine.calls.wakeups import Wakeups
from engine.metrics.calls import CallMetrics
from engine.models import CallOutcome
from engine.store.sqlite.store import SqliteStore
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri
from tests.unit.store_helpers import Row
from tests.unit.test_calls_outbound import CannedSounds, RecordingSessions, Rig
from tests.unit.test_calls_preview import RecordingSessions as PreviewSessions
from tests.unit.test_calls_preview import Rig as PreviewRig


@pytest.fixture
async def counted(tmp_path: Path) -> AsyncIterator[tuple[Rig, CollectorRegistry]]:
    """The automatic calls on a fake ARI, counting into a registry of their own."""
    registry = CollectorRegistry()
    store = SqliteStore.open(":memory:")
    campaign = await store.create_campaign("Fall")
    await store.add_voters(campaign.id, [Row(f"+1202555{n:04d}") for n in range(1, 6)])
    sessions = RecordingSessions(store)
    published: list[CallOutcome] = []
    async with FakeAri() as fake, AriClient.connect(fake.settings()) as ari:
        player, gate = Player(ari), DialingGate()
        calls = OutboundCalls(
            ari,
            store,
            player,
            CannedSounds(tmp_path, PurePosixPath("/sounds")),
            gate,
            RecentNoAnswers(store, settle_voter),
            Wakeups(),
            sessions,
            lambda campaign_id, attempt_id, outcome: published.append(outcome),
            trunk="carrier",
            counts=CallMetrics(registry),
        )
        yield Rig(calls, fake, store, sessions, player, gate, campaign, published), registry
        await calls.close()
    await store.close()


def count(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_person_put_through_counts_an_originate_a_verdict_and_a_bridge(
    counted: tuple[Rig, CollectorRegistry],
) -> None:
    rig, registry = counted
    await rig.ready_volunteer()
    call = await rig.placed()
    assert count(registry, "phonebank_originates_total", result="ok") == 1
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await wait_until(lambda: rig.sessions.connected, 5, "the volunteer to be connected", 0.01)
    assert count(registry, "phonebank_amd_verdicts_total", verdict="HUMAN") == 1
    assert count(registry, "phonebank_verdict_to_bridge_seconds_count") == 1
    latency = count(registry, "phonebank_verdict_to_bridge_seconds_sum")
    assert latency == pytest.approx(rig.calls.bridge_latencies[0])
    await rig.gone(call)
    await rig.ended(call)
    assert count(registry, "phonebank_calls_ended_total", outcome="contact") == 1
    assert count(registry, "phonebank_abandons_total") == 0


async def test_a_refused_originate_counts_as_failed(
    counted: tuple[Rig, CollectorRegistry],
) -> None:
    rig, registry = counted
    rig.fake.respond("POST", "/channels", status=400, body={"message": "bad"})
    call = await rig.placed()
    await rig.ended(call)
    assert count(registry, "phonebank_originates_total", result="failed") == 1
    assert count(registry, "phonebank_originates_total", result="ok") == 0
    assert count(registry, "phonebank_calls_ended_total", outcome="failed") == 1


async def test_a_hang_up_during_amd_counts_as_the_hangup_verdict(
    counted: tuple[Rig, CollectorRegistry],
) -> None:
    rig, registry = counted
    call = await rig.placed()
    await rig.answered(call)
    await rig.gone(call)
    await rig.ended(call)
    assert count(registry, "phonebank_amd_verdicts_total", verdict="HANGUP") == 1


async def test_a_person_nobody_was_free_for_counts_as_an_abandon(
    counted: tuple[Rig, CollectorRegistry],
) -> None:
    rig, registry = counted
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await rig.gone(call)  # hung up while we looked for a volunteer
    assert (await rig.ended(call)).outcome == CallOutcome.ABANDONED
    assert count(registry, "phonebank_abandons_total") == 1
    assert count(registry, "phonebank_verdict_to_bridge_seconds_count") == 0


@pytest.fixture
async def counted_preview() -> AsyncIterator[tuple[PreviewRig, CollectorRegistry]]:
    """Preview calls on a fake ARI, counting into a registry of their own."""
    registry = CollectorRegistry()
    store = SqliteStore.open(":memory:")
    campaign = await store.create_campaign(
        "Fall", dial_mode="preview", calling_hours_start="00:00", calling_hours_end="24:00"
    )
    await store.add_voters(campaign.id, [Row(f"+1202555{n:04d}") for n in range(1, 6)])
    sessions = PreviewSessions(store)
    async with FakeAri() as fake, AriClient.connect(fake.settings()) as ari:
        preview = PreviewCalls(
            ari,
            store,
            Player(ari),
            DialingGate(),
            RecentNoAnswers(store, settle_voter),
            sessions,
            lambda campaign_id, attempt_id, outcome: None,
            trunk="carrier",
            connecting=set(),
            counts=CallMetrics(registry),
        )
        yield PreviewRig(preview, fake, store, sessions, campaign), registry
        await preview.close()
    await store.close()


async def test_a_preview_call_counts_its_originate_and_outcome(
    counted_preview: tuple[PreviewRig, CollectorRegistry],
) -> None:
    rig, registry = counted_preview
    _, call = await rig.placed()
    await rig.settled(call)
    assert count(registry, "phonebank_originates_total", result="ok") == 1
    assert call.channel_id is not None
    rig.preview.on_answer(Channel(call.channel_id))
    await rig.settled(call)
    await rig.preview.on_gone(call.channel_id, 16)
    assert count(registry, "phonebank_calls_ended_total", outcome="contact") == 1
    assert count(registry, "phonebank_amd_verdicts_total", verdict="HUMAN") == 0  # no AMD
