"""The messages written ahead for dialer nodes (phonebank/sounds.py, engine/audio/sounds.py):
every text the engine may speak, each synthesised once into the shared directory."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from engine.audio.sounds import SoundLibrary, sound_name
from engine.callin.callins import IN_USE, locked_message
from engine.config import CallinConfig
from engine.store.sqlite.store import SqliteStore
from engine.telephony.phone_legs import LOGOUT_MESSAGES
from phonebank.sounds import campaign_texts, fixed_texts


def test_the_fixed_texts_hold_every_lockout_wait_up_to_the_longest() -> None:
    """The first caller lockout of 300 s grows to 16 × 300 s = 80 minutes; the overall one
    of 120 s to 32 minutes."""
    texts = fixed_texts(CallinConfig())
    assert IN_USE in texts and set(LOGOUT_MESSAGES.values()) <= set(texts)
    assert locked_message("caller", 1) in texts and locked_message("caller", 80) in texts
    assert locked_message("caller", 81) not in texts
    assert locked_message("overall", 32) in texts and locked_message("overall", 33) not in texts
    assert locked_message("caller", 1).endswith("in 1 minute. Goodbye.")


async def test_each_campaign_s_messages_are_read_from_the_database(tmp_path: Path) -> None:
    database = tmp_path / "pb.db"
    store = SqliteStore.open(str(database))
    await store.create_campaign("A", abandon_message="Sorry, A.", voicemail_message="")
    await store.create_campaign("B", abandon_message="Sorry, B.", voicemail_message="Call B.")
    await store.close()
    assert sorted(await campaign_texts(str(database))) == ["Call B.", "Sorry, A.", "Sorry, B."]


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


async def test_writing_ahead_speaks_each_text_once_and_names_it_by_its_hash(
    tmp_path: Path,
) -> None:
    library = SoundLibrary(tmp_path, PurePosixPath("/on/node"))
    assert await library.write_ahead(["Hello.", "Hello.", " ", "Bye."]) == 2
    assert listing(tmp_path) == sorted(f"{sound_name(t)}.wav" for t in ("Hello.", "Bye."))
    hello = tmp_path / f"{sound_name('Hello.')}.wav"
    first = hello.stat().st_mtime_ns
    await library.write_ahead(["Hello."])
    assert hello.stat().st_mtime_ns == first
    node = library.seen_from(PurePosixPath("/srv/sounds"))
    assert await node.media_for("Bye.") == f"sound:/srv/sounds/{sound_name('Bye.')}"
