"""A campaign message is spoken as text: one that looks like an espeak-ng option (``-f/path``)
must not make espeak-ng read a file aloud to voters (issue 11, item 8)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from engine.audio.sounds import SoundLibrary
from testbed.audio import duration

SECRET = "the quick brown fox jumps over the lazy dog. " * 20
"""About 180 words: read aloud this takes well over a minute."""


async def test_a_message_that_looks_like_an_option_is_spoken_not_obeyed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    sounds = SoundLibrary(tmp_path / "sounds", PurePosixPath("/sounds"))

    media = await sounds.media_for(f"-f{secret}")

    wav = tmp_path / "sounds" / f"{media.rsplit('/', 1)[-1]}.wav"
    seconds = duration(wav)
    # Spoken as text, "-f/tmp/.../secret.txt" takes a few seconds; read from the file, > 60 s.
    assert 0.5 < seconds < 15, f"the message lasted {seconds:.1f} s: espeak-ng read the file"
