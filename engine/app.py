"""The engine: store, volunteer and operator services and the telephony runtime, composed.

    async with Engine.running(cfg, ari_settings, sounds) as engine:
        ...  # engine.volunteers / engine.operators serve the web app

Without ARI settings (unit tests, `phonebank import`) it runs the services alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from engine.ari.client import AriClient, AriSettings
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.calls.gate import DialingGate
from engine.calls.listening import Listening, rtp_receiver
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.outbound import OutboundCalls
from engine.calls.ports import call_publisher
from engine.calls.preview import PreviewCalls
from engine.calls.voter_release import settle_voter
from engine.calls.wakeups import Wakeups
from engine.clock import utc_now
from engine.config import Config, outbound_trunk
from engine.dialer.idle_watch import IdleWatch
from engine.dialer.loop import Dialer
from engine.metrics.registry import EngineMetrics
from engine.metrics.telephony import TelephonyCollector
from engine.models import EndReason
from engine.notifier import DialingView, Notifier
from engine.operators.service import OperatorService
from engine.security.login_limits import SignupLimiter, SignupPolicy
from engine.security.password_hasher import PasswordHasher
from engine.sessions.ledger import SessionLedger
from engine.sessions.service import PIN_LENGTH, VolunteerService
from engine.store.base import Store
from engine.store.open import open_store
from engine.telephony.phone_legs import PhoneLegs
from engine.telephony.runtime import Telephony
from engine.telephony.softphone import Softphones
from engine.time_zone import campaign_zone

log = logging.getLogger(__name__)


@dataclass
class Engine:
    store: Store
    notifier: Notifier
    sessions: SessionLedger
    volunteers: VolunteerService
    operators: OperatorService
    metrics: EngineMetrics
    telephony: Telephony | None = None
    dialer: Dialer | None = None

    def ari_connected(self) -> bool | None:
        """Whether the ARI events connection to the dialer PBX is open (None: no PBX)."""
        return None if self.telephony is None else self.telephony.ari.connected

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        cfg: Config,
        ari_settings: AriSettings | None = None,
        sounds: SoundLibrary | None = None,
        store: Store | None = None,
    ) -> AsyncIterator[Engine]:
        """Open the store and, given ARI settings, connect to the dialer PBX, recover what an
        earlier run left open and start dialing. Everything stops on exit."""
        own_store = store is None
        store = store or await open_store(cfg.engine.database)
        notifier = Notifier()
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
        try:
            if ari_settings is None:
                none = _NoTelephony()
                ledger = SessionLedger(store, notifier, none, none, clock=utc_now, region=region)
                volunteers = volunteer_service(ledger, none)
                yield cls(store, notifier, ledger, volunteers, operator_service(), metrics)
                return
            assert sounds is not None
            async with (
                AriClient.connect(ari_settings) as ari,
                contextlib.AsyncExitStack() as stack,
            ):
                wakeups = Wakeups()
                idle = IdleWatch(store, notifier, campaign_zone)
                gate = DialingGate()
                player = Player(ari)
                softphones = Softphones(
                    ari,
                    softphone_ws_url(ari_settings.url, cfg.web.public_url),
                    cfg.web,
                    cfg.turn,
                )
                legs = PhoneLegs(ari, player, sounds, softphones)
                ledger = SessionLedger(store, notifier, wakeups, legs, clock=utc_now, region=region)
                trunk = outbound_trunk(cfg)
                no_answers = RecentNoAnswers(store, settle_voter)
                publish_call = call_publisher(notifier)
                receiver = await stack.enter_async_context(rtp_receiver())
                calls = OutboundCalls(
                    ari,
                    store,
                    player,
                    sounds,
                    gate,
                    no_answers,
                    wakeups,
                    ledger,
                    publish_call,
                    trunk=trunk,
                    counts=metrics.calls,
                    listening=Listening(ari, receiver, app=ari_settings.app),
                    amd_engine=cfg.amd.engine,
                )
                preview = PreviewCalls(
                    ari,
                    store,
                    player,
                    gate,
                    no_answers,
                    ledger,
                    publish_call,
                    trunk=trunk,
                    connecting=calls.reserved,
                    counts=metrics.calls,
                )
                metrics.registry.register(
                    TelephonyCollector(ari, lambda: len(calls.by_channel) + len(preview.by_channel))
                )
                telephony = Telephony(
                    ari,
                    store,
                    notifier,
                    sounds,
                    sessions=ledger,
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
                )
                dialer = Dialer(
                    store,
                    gate,
                    wakeups,
                    ledger,
                    calls,
                    preview,
                    idle,
                    originates_per_second=cfg.engine.originates_per_second,
                )
                volunteers = volunteer_service(ledger, telephony, availability=idle.current)
                operators = operator_service(
                    dialing=telephony.dialing,
                    live_pacing=dialer.pacing_summary,
                    availability=idle.current,
                )
                await calls.streaming.sweep()  # an earlier engine's taps, before re-tapping
                await telephony.recover()
                tasks = [
                    asyncio.create_task(telephony.run(), name="telephony"),
                    asyncio.create_task(dialer.run(), name="dialer"),
                    asyncio.create_task(telephony.watch_trunk(), name="trunk watch"),
                ]
                try:
                    yield cls(
                        store, notifier, ledger, volunteers, operators, metrics, telephony, dialer
                    )
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
        finally:
            loop_lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop_lag
            hasher.close()
            if own_store:
                await store.close()


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


def softphone_ws_url(ari_url: str, public_url: str = "") -> str:
    """SIP over WebSocket is served by the same Asterisk HTTP server as ARI, at /ws; behind
    the TLS proxy (``public_url``) pages reach it as wss://<public host[:port]>/ws."""
    if public_url:
        return f"wss://{urlsplit(public_url).netloc}/ws"
    scheme, rest = ari_url.rstrip("/").split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"
