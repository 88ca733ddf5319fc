"""Every message the engine may speak, written ahead as sound files (`phonebank pbx sounds`,
and `phonebank run` with ``[[nodes]]`` at start).

The engine speaks text (engine/audio/sounds.py): its own fixed messages (log-out, PIN in use,
PIN lockouts for each possible wait) and each campaign's abandon and voicemail messages. A
node on another machine cannot wait for the engine to synthesise a message at first use, so
these are written ahead into a directory the nodes read (a mount, or a copy of it).
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path, PurePosixPath

from engine.audio.sounds import SoundLibrary
from engine.callin.callins import IN_USE, LOCKED, locked_message
from engine.callin.pin_limits import MAX_GROWTH
from engine.config import CallinConfig, Config
from engine.store.open import open_store
from engine.telephony.phone_legs import LOGOUT_MESSAGES


def fixed_texts(callin: CallinConfig) -> list[str]:
    """The engine's own messages: log-outs, PIN in use, and each PIN lockout for every wait
    in whole minutes it can announce (1 up to MAX_GROWTH times the first lockout)."""
    longest = {
        "caller": callin.caller_lockout_seconds,
        "overall": callin.overall_lockout_seconds,
    }
    texts = [*LOGOUT_MESSAGES.values(), IN_USE]
    for scope in LOCKED:
        most = max(1, math.ceil(longest[scope] * MAX_GROWTH / 60))
        texts += [locked_message(scope, minutes) for minutes in range(1, most + 1)]
    return texts


async def campaign_texts(database: str) -> list[str]:
    """Each campaign's abandon and voicemail messages (the non-empty ones)."""
    store = await open_store(database)
    try:
        campaigns = await store.list_campaigns()
    finally:
        await store.close()
    texts = [c.abandon_message for c in campaigns] + [c.voicemail_message for c in campaigns]
    return [text for text in texts if text.strip()]


async def write_sounds(cfg: Config, out: Path) -> int:
    """Write every message into ``out``; returns how many. Raises SetupError without
    espeak-ng/sox, or when the database cannot be opened."""
    library = SoundLibrary(out, PurePosixPath(out))
    texts = fixed_texts(cfg.callin) + await campaign_texts(cfg.engine.database)
    return await library.write_ahead(texts)


def run_write_sounds(cfg: Config, out: Path) -> int:
    """`phonebank pbx sounds`: write them and say where (and what to do with them)."""
    count = asyncio.run(write_sounds(cfg, out))
    print(f"{count} messages in {out} (msg-*.wav, 8 kHz mono)")
    print(
        "copy them to each dialer node's nodes[].sounds_dir (e.g. rsync -a "
        f"{out}/ NODE:/var/lib/phonebank/sounds/), or mount {out} there read-only; run this "
        "again after changing a campaign's abandon or voicemail message"
    )
    return 0
