"""Automatic calls told apart by the engine's own streaming detector (amd.engine = streaming,
or a campaign's amd_engine) instead of Asterisk's AMD().

Such a call is originated into the dialplan's `phonebank-listen` context, which stamps the
answer time and enters Stasis with ("listen", answer time) at once. The engine taps the call
(listening.py) and feeds a StreamingDetector built from the campaign's thresholds. Its first
decision becomes exactly what AMD() would have handed over — ("outbound", verdict, cause,
answer time) — for answers.py to act on: HUMAN to a ready volunteer, MACHINE hung up or given
the voicemail message, NOTSURE by the campaign's rule. The cause is the detector's, with the
audio time of the decision in ms (e.g. "GREETING-1120"). The tap is removed once the verdict
has been acted on, when the detector will decide nothing more, or when the call ends first.

After a HUMAN verdict the tap stays for the detector's retraction window (its `retract_ms`;
0: none; after a SILENCE verdict until `retract_ms` past the first speech): a machine that
paused like a person and then reads on, beeps or gives a SIT is taken back from the volunteer
(MACHINE: Answers.take_back — out of the bridge, a short beep, the volunteer ready again; the
attempt's heard_machine says it happened).

Early connect (a campaign's early_connect): at the end of the voter's first words the call is
put through as a person (cause "EARLY-<ms>") and the tap stays. The detector's verdict then
either confirms it (HUMAN: its cause replaces EARLY; the retraction window follows) or takes
it back (MACHINE, at once or as a retraction).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from functools import partial

from engine.amd.detector import StreamingDetector, listening_after_human_ms
from engine.amd.settings import StreamingAmdSettings
from engine.calls.answers import AMD_CONTEXT, Answers
from engine.calls.dead_air import received_packets
from engine.calls.listening import Listening
from engine.calls.live import LiveCall
from engine.calls.owner import Tasks
from engine.calls.stasis import StasisArg
from engine.calls.states import CallPhase
from engine.config import AmdEngine
from engine.errors import AriError, AriNotFound, ConfigError
from engine.models import Campaign

log = logging.getLogger(__name__)

LISTEN_CONTEXT = "phonebank-listen"
_BEFORE_VERDICT = (CallPhase.RINGING, CallPhase.ANSWERED)
_PUT_THROUGH = (CallPhase.CONNECTING, CallPhase.CONNECTED)
RETRACT_GRACE_S = 2.0
"""After HUMAN the tap goes when the detector will decide nothing more (on_finished); this
timer, the detector's retraction window plus this much on the wall clock, only backs that up:
on a loaded machine the tap's audio runs behind the wall clock, and a shorter timer cut off
retractions still to come."""


def detector_settings(campaign: Campaign) -> StreamingAmdSettings:
    """The campaign's thresholds (checked when saved; a stored value no longer valid falls
    back to the defaults, with a warning)."""
    try:
        return StreamingAmdSettings.from_mapping(campaign.amd_thresholds)
    except ConfigError as exc:
        log.warning("campaign %d: amd_thresholds ignored: %s", campaign.id, exc)
        return StreamingAmdSettings()


class StreamingAmd:
    def __init__(
        self,
        listening: Listening | None,
        answers: Answers,
        tasks: Tasks,
        *,
        default_engine: AmdEngine = "app_amd",
    ) -> None:
        self.listening = listening
        """None: the engine cannot listen (no RTP receiver), so every call uses AMD()."""
        self.answers = answers
        self.tasks = tasks
        self.default_engine = default_engine

    def uses_streaming(self, campaign: Campaign) -> bool:
        engine = campaign.amd_engine or self.default_engine
        return engine == "streaming" and self.listening is not None

    def context(self, campaign: Campaign) -> str:
        """The dialplan context an answered call of this campaign goes to."""
        return LISTEN_CONTEXT if self.uses_streaming(campaign) else AMD_CONTEXT

    def on_listen(self, call: LiveCall, args: Sequence[str]) -> None:
        """StasisStart of an answered call in phonebank-listen: ("listen", answer time)."""
        answered_at = args[1] if len(args) > 1 else ""
        call.owner.post(partial(self._listen, call, answered_at))

    async def _listen(self, call: LiveCall, answered_at: str) -> None:
        """A job of the call's owner: tap the call and start its detector."""
        if self.listening is None or call.phase not in _BEFORE_VERDICT:
            return
        settings = detector_settings(call.campaign)

        def decided(verdict: str, cause: str, at_ms: int) -> None:
            args = (StasisArg.OUTBOUND.value, verdict, f"{cause}-{at_ms}", answered_at)
            window_ms = listening_after_human_ms(settings, cause, at_ms)
            call.owner.post(partial(self._verdict, call, args, window_ms))

        def first_words(end_ms: int) -> None:
            args = (StasisArg.OUTBOUND.value, "HUMAN", f"EARLY-{end_ms}", answered_at)
            call.owner.post(partial(self._early, call, args))

        try:
            with contextlib.suppress(AriError):  # no count: no dead-air check on SILENCE
                call.packets_at_listen = await received_packets(self.answers.ari, call.channel_id)
            await self.listening.start(
                call.channel_id,
                StreamingDetector(settings),
                decided,
                on_utterance_end=first_words if call.campaign.early_connect else None,
                on_finished=partial(self.stop, call.channel_id),
                max_analysis_ms=settings.max_analysis_ms,
            )
        except AriNotFound:
            return  # the voter hung up meanwhile: its ChannelDestroyed follows
        except AriError as exc:
            await self._to_app_amd(call, exc)

    async def _to_app_amd(self, call: LiveCall, why: AriError) -> None:
        """The PBX refused the tap (e.g. it runs without chan_rtp): let AMD() decide in the
        dialplan instead; its verdict arrives as any AMD() verdict does. If even that fails,
        NOTSURE/NOTAP, and the campaign's NOTSURE rule applies."""
        log.warning("call %s: cannot listen (%s); AMD() decides instead", call.channel_id, why)
        try:
            await self.answers.to_app_amd(call)
        except AriNotFound:
            return
        except AriError as exc:
            log.warning("call %s: nor can AMD() (%s): NOTSURE", call.channel_id, exc)
            args = (StasisArg.OUTBOUND.value, "NOTSURE", "NOTAP-0", "")
            await self.answers.on_verdict(call, args)

    async def _early(self, call: LiveCall, args: Sequence[str]) -> None:
        """A job of the call's owner: early connect — the voter's first words ended, so put
        them through as a person now and keep listening."""
        if call.phase not in _BEFORE_VERDICT:
            return
        log.info("call %s: early connect after the first words (%s)", call.channel_id, args[2])
        call.retractable = True
        await self.answers.on_verdict(call, args)

    async def _verdict(self, call: LiveCall, args: Sequence[str], retract_ms: int) -> None:
        """A job of the call's owner: the detector's first decision acts as AMD()'s would;
        after HUMAN the tap stays for the retraction window. On a call put through while the
        detector listens (HUMAN, or early connect), MACHINE takes it back from the volunteer
        and, after an early connect, HUMAN confirms it."""
        verdict = args[1]
        if call.phase in _BEFORE_VERDICT:
            log.info("call %s: streaming verdict %s (%s)", call.channel_id, verdict, args[2])
            await self.answers.on_verdict(call, args)
            if verdict == "HUMAN" and retract_ms > 0 and call.phase in _PUT_THROUGH:
                call.retractable = True
                self._stop_after(call.channel_id, retract_ms)
            else:
                self.stop(call.channel_id)
        elif call.retractable and call.phase in _PUT_THROUGH and verdict == "MACHINE":
            await self.answers.take_back(call, args)
            self.stop(call.channel_id)
        elif call.retractable and call.phase in _PUT_THROUGH and verdict == "HUMAN":
            await self.answers.confirm(call, args)  # after an early connect
            self._stop_after(call.channel_id, retract_ms)
        else:
            self.stop(call.channel_id)

    def _stop_after(self, channel_id: str, retract_ms: int) -> None:
        """Listen for a retraction as long as the detector may make one."""
        self.tasks.start(self._stop_later(channel_id, retract_ms), f"retract window {channel_id}")

    async def _stop_later(self, channel_id: str, retract_ms: int) -> None:
        await asyncio.sleep(retract_ms / 1000 + RETRACT_GRACE_S)
        self.stop(channel_id)

    def stop(self, channel_id: str) -> None:
        """Stop listening to the call (it has its verdict, or it ended)."""
        if self.listening is not None and self.listening.listening(channel_id):
            self.tasks.start(self.listening.stop(channel_id), f"untap {channel_id}")

    async def sweep(self) -> None:
        """Remove taps an earlier engine left on the PBX (before recovery taps its calls again)."""
        if self.listening is not None:
            await self.listening.sweep()

    async def close(self) -> None:
        """Remove every tap (the engine is stopping)."""
        if self.listening is not None:
            await self.listening.close()
