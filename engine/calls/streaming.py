"""Automatic calls told apart by the engine's own streaming detector (amd.engine = streaming,
or a campaign's amd_engine) instead of Asterisk's AMD().

Such a call is originated into the dialplan's `phonebank-listen` context, which stamps the
answer time and enters Stasis with ("listen", answer time) at once. The engine taps the call
(listening.py) and feeds a StreamingDetector built from the campaign's thresholds. Its first
decision becomes exactly what AMD() would have handed over — ("outbound", verdict, cause,
answer time) — for answers.py to act on: HUMAN to a ready volunteer, MACHINE hung up or given
the voicemail message, NOTSURE by the campaign's rule. The cause is the detector's, with the
audio time of the decision in ms (e.g. "GREETING-1120"). The tap is removed once the verdict
has been acted on, or when the call ends first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from engine.amd.detector import StreamingDetector
from engine.amd.settings import StreamingAmdSettings
from engine.calls.answers import Answers
from engine.calls.listening import Listening
from engine.calls.live import LiveCall
from engine.calls.owner import Tasks
from engine.calls.stasis import StasisArg
from engine.calls.states import CallPhase
from engine.config import AmdEngine
from engine.errors import AriError, AriNotFound, ConfigError
from engine.models import Campaign

log = logging.getLogger(__name__)

AMD_CONTEXT = "phonebank-amd"
LISTEN_CONTEXT = "phonebank-listen"
_BEFORE_VERDICT = (CallPhase.RINGING, CallPhase.ANSWERED)


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
            call.owner.post(partial(self._verdict, call, args))

        try:
            await self.listening.start(
                call.channel_id,
                StreamingDetector(settings),
                decided,
                max_analysis_ms=settings.max_analysis_ms,
            )
        except AriNotFound:
            return  # the voter hung up meanwhile: its ChannelDestroyed follows
        except AriError as exc:
            log.warning("call %s: cannot listen (%s): NOTSURE", call.channel_id, exc)
            decided("NOTSURE", "NOTAP", 0)

    async def _verdict(self, call: LiveCall, args: Sequence[str]) -> None:
        """A job of the call's owner: the detector's first decision acts as AMD()'s would;
        later ones (a retraction after HUMAN) come after the call has moved on."""
        if call.phase not in _BEFORE_VERDICT:
            return
        log.info("call %s: streaming verdict %s (%s)", call.channel_id, args[1], args[2])
        await self.answers.on_verdict(call, args)
        self.stop(call.channel_id)

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
