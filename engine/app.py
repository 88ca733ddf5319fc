"""The engine: store, volunteer and operator services and the telephony runtime, composed.

    async with Engine.running(cfg, ari_settings, sounds) as engine:
        ...  # engine.volunteers / engine.operators serve the web app

Without ARI settings (unit tests, `phonebank import`) it runs the services alone. With
``nodes`` (``[[nodes]]``, issue 16) it drives several dialer nodes, one NodeRuntime each
(engine/nodes/): sessions record their node and NodeRouter sends every request about a
session to it; nodes can be attached and detached while running. With a PostgreSQL store
and ``[[nodes]]`` it is one of several engines (engine/cluster/wiring.py): it drives the
nodes whose leases it wins, and hands the others' sessions' requests to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

from engine.ari.client import AriSettings
from engine.audio.sounds import SoundLibrary
from engine.clock import utc_now
from engine.cluster.engines import this_engine
from engine.cluster.relay import RelayOutbox
from engine.cluster.wiring import Cluster, clustered
from engine.config import Config
from engine.dialer.idle_watch import IdleWatch
from engine.dialer.loop import Dialer
from engine.errors import AriError, AriUnavailable
from engine.metrics.nodes import NodesCollector
from engine.metrics.registry import EngineMetrics
from engine.models import EndReason
from engine.nodes.orphans import close_unowned_attempts
from engine.nodes.proxy_routes import softphone_ws_url
from engine.nodes.router import NodeRouter
from engine.nodes.runtime import NodeRuntime, NodeShared, NodeSpec
from engine.notifier import DialingView, Notifier
from engine.operators.service import OperatorService
from engine.security.login_limits import SignupLimiter, SignupPolicy
from engine.security.password_hasher import PasswordHasher
from engine.sessions.ledger import SessionLedger
from engine.sessions.service import VolunteerService
from engine.store.base import Store
from engine.store.open import backend_of, open_store
from engine.telephony.runtime import Telephony
from engine.time_zone import campaign_zone

__all__ = ["Engine", "NodeSpec", "softphone_ws_url"]

log = logging.getLogger(__name__)


@dataclass
class Engine:
    store: Store
    notifier: Notifier
    sessions: SessionLedger
    volunteers: VolunteerService
    operators: OperatorService
    metrics: EngineMetrics
    router: NodeRouter | None = None
    """The attached dialer nodes (None: no PBX: unit tests, `phonebank import`)."""
    shared: NodeShared | None = None
    cluster: Cluster | None = None
    """With a PostgreSQL store and ``[[nodes]]``: this engine among the others (the nodes it
    owns now; engine/cluster/wiring.py). None: it drives every node itself."""
    _detach: dict[str | None, contextlib.AsyncExitStack] = field(default_factory=dict)

    @property
    def nodes(self) -> dict[str | None, NodeRuntime]:
        """The attached nodes' runtimes by name (None: the only node)."""
        if self.router is None:
            return {}
        return {name: cast(NodeRuntime, node) for name, node in self.router.nodes.items()}

    @property
    def telephony(self) -> Telephony | None:
        """The first node's telephony (the only one without ``[[nodes]]``)."""
        first = next(iter(self.nodes.values()), None)
        return None if first is None else first.telephony

    @property
    def dialer(self) -> Dialer | None:
        """The first node's dialer loop."""
        first = next(iter(self.nodes.values()), None)
        return None if first is None else first.dialer

    def ari_connected(self) -> bool | None:
        """Whether the ARI events connections to the dialer nodes are all open (None: no
        PBX)."""
        if self.router is None:
            return None
        return bool(self.nodes) and all(n.ari.connected for n in self.nodes.values())

    async def engines_view(self) -> dict[str, object]:
        """This engine's id, the nodes it drives and every engine on the database as the
        engines table says, for /api/health (empty: one engine)."""
        if self.cluster is None:
            return {}
        views = await self.cluster.engines(self.store)
        return {
            "engine_id": self.cluster.me.engine_id,
            "owns": sorted(self.cluster.owned),
            "engines": [
                {"engine_id": view.engine_id, "alive": view.alive, "nodes": list(view.nodes)}
                for view in views
            ],
        }

    def node_health(self) -> dict[str, bool]:
        """Each named node: healthy (ARI events connected, trunk up) or not; a configured
        node that is not attached (unreachable at start, or detached) is not."""
        if self.router is None:
            return {}
        configured = {} if self.shared is None else dict.fromkeys(self.shared.node_names, False)
        if self.cluster is not None:  # the nodes other engines drive are theirs to report
            configured = {}
        return configured | self.router.health()

    async def attach(self, spec: NodeSpec) -> NodeRuntime:
        """Connect to one more dialer node and start its stack (recovering its own calls
        and sessions). Raises ValueError if a node of that name is attached."""
        assert self.router is not None and self.shared is not None
        if spec.name in self._detach:
            raise ValueError(f"node {spec.name!r} is already attached")
        stack = contextlib.AsyncExitStack()
        runtime = await stack.enter_async_context(NodeRuntime.running(spec, self.shared))
        self._detach[spec.name] = stack
        self.router.nodes[spec.name] = runtime
        return runtime

    async def detach(self, name: str | None) -> None:
        """Stop a node's stack (its tasks, its ARI connection); other nodes carry on. Its
        sessions stay recorded on it until their volunteers connect again elsewhere."""
        assert self.router is not None
        self.router.nodes.pop(name, None)
        stack = self._detach.pop(name, None)
        if stack is not None:
            await stack.aclose()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        cfg: Config,
        ari_settings: AriSettings | None = None,
        sounds: SoundLibrary | None = None,
        store: Store | None = None,
        nodes: Sequence[NodeSpec] | None = None,
    ) -> AsyncIterator[Engine]:
        """Open the store and, given ARI settings (one dialer PBX) or ``nodes``, connect to
        the dialer node(s), recover what an earlier run left open and start dialing.
        Everything stops on exit."""
        started = utc_now()
        own_store = store is None
        store = store or await open_store(cfg.engine.database)
        named_nodes = [spec for spec in nodes or () if spec.name is not None]
        several = bool(named_nodes) and backend_of(cfg.engine.database) == "postgresql"
        outbox = RelayOutbox() if several else None
        notifier = Notifier(None if outbox is None else outbox.put)
        metrics = EngineMetrics(store)
        loop_lag = asyncio.create_task(metrics.loop_lag.run(), name="event-loop lag")
        hasher = PasswordHasher(cfg.logins.hash_workers or None)
        signups = SignupLimiter(
            SignupPolicy(
                per_address=cfg.logins.signups_per_address,
                per_minute=cfg.logins.signups_per_minute,
            )
        )
        operator_service = functools.partial(
            OperatorService,
            store,
            default_region=cfg.engine.default_region,
            hasher=hasher,
            token_lifetime=timedelta(hours=cfg.logins.operator_token_hours),
        )
        region = cfg.engine.default_region
        volunteer_service = functools.partial(
            VolunteerService,
            store,
            callin_number=cfg.pbx.callin_number,
            region=cfg.engine.default_region,
            hasher=hasher,
            signup_limiter=signups,
        )
        if nodes is None and ari_settings is not None:
            ws_url = softphone_ws_url(ari_settings.url, cfg.web.public_url)
            nodes = [NodeSpec(None, ari_settings, ws_url)]
        try:
            if not nodes:
                none = _NoTelephony()
                ledger = SessionLedger(store, notifier, none, none, clock=utc_now, region=region)
                volunteers = volunteer_service(ledger, none)
                yield cls(store, notifier, ledger, volunteers, operator_service(), metrics)
                return
            assert sounds is not None
            router = NodeRouter(store)
            ledger = SessionLedger(store, notifier, router, router, clock=utc_now, region=region)
            idle = IdleWatch(store, notifier, campaign_zone)
            names = tuple(spec.name for spec in nodes if spec.name is not None)
            shared = NodeShared(cfg, store, notifier, metrics, sounds, ledger, idle, names)
            volunteers = volunteer_service(ledger, router, availability=idle.current)
            operators = operator_service(
                dialing=router.dialing,
                live_pacing=router.pacing_summary,
                availability=idle.current,
            )
            engine = cls(store, notifier, ledger, volunteers, operators, metrics, router, shared)
            named = [spec for spec in nodes if spec.name is not None]
            collector = NodesCollector(router) if named else None
            if collector is not None:
                metrics.registry.register(collector)
            try:
                if outbox is not None:
                    async with engine._clustered(cfg, named_nodes, outbox) as cluster:
                        engine.cluster = cluster
                        yield engine
                    return
                for spec in nodes:
                    try:
                        await engine.attach(spec)
                    except AriError as exc:
                        if spec.name is None:
                            raise
                        log.error("node %s: not attached (%s); going on without it", spec.name, exc)
                if not engine._detach:
                    raise AriUnavailable("none of the dialer nodes ([[nodes]]) answered ARI")
                if named:
                    await ledger.recover()  # once for all nodes (each recovered its own calls)
                    attached = [name for name in engine._detach if name is not None]
                    await close_unowned_attempts(store, started, attached)
                yield engine
            finally:
                for name in reversed(list(engine._detach)):
                    await engine.detach(name)
                if collector is not None:
                    metrics.registry.unregister(collector)
        finally:
            loop_lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop_lag
            hasher.close()
            if own_store:
                await store.close()

    @contextlib.asynccontextmanager
    async def _clustered(
        self, cfg: Config, specs: Sequence[NodeSpec], outbox: RelayOutbox
    ) -> AsyncIterator[Cluster]:
        """Own nodes by lease among the engines on this PostgreSQL database: each node won is
        attached (adopting its calls, re-arming its sessions), each lost is detached."""
        assert self.router is not None
        by_name = {spec.name: spec for spec in specs if spec.name is not None}
        router = self.router

        async def on_won(name: str) -> None:
            await self.attach(by_name[name])
            await self.sessions.recover(node=name)

        async def on_lost(name: str) -> None:
            await self.detach(name)

        me = this_engine(cfg.engine.engine_id or None)
        async with clustered(
            str(cfg.engine.database),
            me,
            list(by_name),
            self.notifier,
            outbox,
            self.store,
            router,
            on_won,
            on_lost,
        ) as cluster:
            router.remote = cluster.remote
            try:
                yield cluster
            finally:
                router.remote = None


class _NoTelephony:
    """CallControl, Waker and PhoneRelease when no PBX is attached: nothing to hang up,
    nobody to wake."""

    async def end_call(self, session: object) -> None:
        return None

    async def release_session(self, session: object, reason: EndReason) -> None:
        return None

    def wake(self, campaign_id: int) -> None:
        return None

    async def open_browser_audio(self, session: object) -> None:
        return None

    def browser_login(self, session_id: int) -> None:
        return None

    def dialing(self) -> DialingView:
        return {"paused": False, "message": ""}
