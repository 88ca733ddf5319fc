"""Dead air: a line that was answered but sends no audio.

AMD cannot hear a line whose RTP stopped (a carrier that froze, a network that lost its
media): it waits out its analysis time and says NOTSURE/TOOLONG, which a campaign may connect
as a person. Before such a verdict is connected, the engine checks that packets still arrive.
The streaming detector hears such a line as silence and says HUMAN/SILENCE (a person waiting
for the caller): then the packets counted when it began to listen are compared with now.
"""

from __future__ import annotations

import asyncio
import logging

from engine.ari.client import AriClient

log = logging.getLogger(__name__)

RECEIVED_PACKETS = "CHANNEL(rtcp,rxcount)"
AUDIO_CHECK_S = 0.3
"""A live line sends a packet every 20 ms: 15 in this time."""


async def received_packets(ari: AriClient, channel_id: str) -> str | None:
    """The RTP packets the channel has received so far (None if the PBX cannot tell).

    Raises AriNotFound when the channel is gone."""
    return await ari.get_variable(channel_id, RECEIVED_PACKETS)


async def audio_stopped(ari: AriClient, channel_id: str, wait_s: float = AUDIO_CHECK_S) -> bool:
    """True when not one RTP packet arrives on the channel within `wait_s`.

    Raises AriNotFound when the channel is gone meanwhile."""
    before = await received_packets(ari, channel_id)
    await asyncio.sleep(wait_s)
    after = await received_packets(ari, channel_id)
    log.debug("channel %s: RTP packets received %s, then %s", channel_id, before, after)
    return before is not None and before == after
