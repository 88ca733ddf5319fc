"""One dialer node's telephony stack: its ARI client and everything that talks through it.

    async with NodeRuntime.running(spec, shared) as node:
        ...  # node.telephony handles its call-ins and calls; node.dialer paces its volunteers

What every node shares (the store, the notifier, metrics, sounds, the session ledger and the
idle watch) comes in ``shared``; what is the node's own (its wake-ups, dialing gate, phone
legs, softphones, calls and dialer loop) is made here and stopped on exit, without touching
any other node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.ari.client import AriClient, AriSettings
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.calls.gate import TRUNK_DOWN, DialingGate
from engine.calls.listening import Listening, rtp_receiver
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.outbound import OutboundCalls
from engine.calls.ports import call_publisher
from engine.calls.preview import PreviewCalls
from engine.calls.voter_release import settle_voter
from engine.calls.wakeups import Wakeups
from engine.config import Config, outbound_trunk
from engine.dialer.idle_watch import IdleWatch
from engine.dialer.loop import Dialer
from engine.metrics.registry import EngineMetrics
from engine.metrics.telephony import TelephonyCollector
from engine.nodes.proxy_routes import node_ws_url
from engine.notifier import Notifier
from engine.sessions.ledger import SessionLedger
from engine.sessions.placement import NodeLoad
from engine.sessions.service import PIN_LENGTH
from engine.store.base import Store
from engine.telephony.phone_legs import PhoneLegs
from engine.telephony.runtime import Telephony
from engine.telephony.softphone import Softphones

log = logging.getLogger(__name__)

STASIS_APP = "phonebank"


@dataclass(frozen=True)
class NodeSpec:
    """A dialer node to drive: its name (None: the only node of a deployment without
    ``[[nodes]]``), its ARI and the softphone WebSocket its browsers use."""

    name: str | None
    ari: AriSettings
    ws_url: str
    sounds_dir: PurePosixPath | None = None
    """Where the node's Asterisk reads the engine's sounds; None: where the engine writes
    them (``NodeShared.sounds``)."""


def node_specs(cfg: Config) -> list[NodeSpec]:
    """The ``[[nodes]]`` of the configuration as NodeSpecs."""
    return [
        NodeSpec(
            node.name,
            AriSettings(node.ari_url, node.ari_user, node.ari_password, STASIS_APP),
            node.ws_url
            or node_ws_url(node.name, node.ari_url, cfg.web.public_url, len(cfg.nodes) > 1),
            PurePosixPath(node.sounds_dir) if node.sounds_dir else None,
        )
        for node in cfg.nodes
    ]


@dataclass(frozen=True)
class NodeShared:
    """What every node's stack uses and no node owns."""

    cfg: Config
    store: Store
    notifier: Notifier
    metrics: EngineMetrics
    sounds: SoundLibrary
    sessions: SessionLedger
    idle: IdleWatch
    node_names: tuple[str, ...] = ()
    """The named nodes the engine was started with (attached or not)."""


class NodeRuntime:
    def __init__(
        self, spec: NodeSpec, telephony: Telephony, dialer: Dialer, legs: PhoneLegs
    ) -> None:
        self.spec = spec
        self.telephony = telephony
        self.dialer = dialer
        self.legs = legs

    @property
    def name(self) -> str | None:
        return self.spec.name

    @property
    def ari(self) -> AriClient:
        return self.telephony.ari

    def healthy(self) -> bool:
        """Its ARI events connection is up and its trunk is not down."""
        return self.ari.connected and not self.telephony.gate.held_for(TRUNK_DOWN)

    def live_channels(self) -> int:
        """Volunteers' legs and voters' calls on the node now."""
        tel = self.telephony
        return (
            len(list(self.legs.channels()))
            + len(tel.calls.by_channel)
            + len(tel.preview.by_channel)
        )

    def load(self) -> NodeLoad:
        return NodeLoad(self.spec.name or "", self.healthy(), self.live_channels())

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, spec: NodeSpec, shared: NodeShared) -> AsyncIterator[NodeRuntime]:
        """Connect to the node's ARI, recover what an earlier run left open on it and start
        its telephony, trunk watch and dialer loop; all stopped on exit."""
        cfg, store, sessions = shared.cfg, shared.store, shared.sessions
        sounds = shared.sounds
        if spec.sounds_dir is not None:
            sounds = sounds.seen_from(spec.sounds_dir)
        async with (
            AriClient.connect(spec.ari) as ari,
            rtp_receiver(shared.cfg.amd.listen_address) as receiver,
        ):
            wakeups = Wakeups()
            gate = DialingGate()
            player = Player(ari)
            softphones = Softphones(ari, spec.ws_url, cfg.web, cfg.turn)
            legs = PhoneLegs(ari, player, sounds, softphones)
            trunk = outbound_trunk(cfg)
            no_answers = RecentNoAnswers(store, settle_voter)
            publish_call = call_publisher(shared.notifier)
            counts = shared.metrics.calls
            calls = OutboundCalls(
                ari,
                store,
                player,
                sounds,
                gate,
                no_answers,
                wakeups,
                sessions,
                publish_call,
                trunk=trunk,
                counts=counts,
                node=spec.name,
                listening=Listening(ari, receiver, app=spec.ari.app),
                amd_engine=cfg.amd.engine,
            )
            preview = PreviewCalls(
                ari,
                store,
                player,
                gate,
                no_answers,
                sessions,
                publish_call,
                trunk=trunk,
                connecting=calls.reserved,
                counts=counts,
                node=spec.name,
            )
            collector = None
            if spec.name is None:  # several nodes are reported by the engine's NodesCollector
                collector = TelephonyCollector(
                    ari, lambda: len(calls.by_channel) + len(preview.by_channel)
                )
                shared.metrics.registry.register(collector)
            telephony = Telephony(
                ari,
                store,
                shared.notifier,
                sounds,
                sessions=sessions,
                legs=legs,
                player=player,
                softphones=softphones,
                gate=gate,
                wakeups=wakeups,
                no_answers=no_answers,
                calls=calls,
                preview=preview,
                trunk=trunk,
                pin_length=PIN_LENGTH,
                callin=cfg.callin,
                node=spec.name,
            )
            dialer = Dialer(
                store,
                gate,
                wakeups,
                sessions,
                calls,
                preview,
                shared.idle,
                originates_per_second=cfg.engine.originates_per_second,
                node=spec.name,
            )
            runtime = cls(spec, telephony, dialer, legs)
            tasks: list[asyncio.Task[None]] = []
            try:
                await calls.streaming.sweep()  # an earlier engine's taps, before re-tapping
                await telephony.recover()
                label = f" {spec.name}" if spec.name else ""
                tasks = [
                    asyncio.create_task(telephony.run(), name=f"telephony{label}"),
                    asyncio.create_task(dialer.run(), name=f"dialer{label}"),
                    asyncio.create_task(telephony.watch_trunk(), name=f"trunk watch{label}"),
                ]
                if spec.name is not None:
                    log.info("node %s: attached (%s)", spec.name, spec.ari.url)
                yield runtime
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                try:
                    await dialer.close()
                except Exception:
                    log.exception("saving what pacing learned failed")
                await telephony.close()
                await legs.close()
                if collector is not None:
                    shared.metrics.registry.unregister(collector)
                if spec.name is not None:
                    log.info("node %s: detached", spec.name)
