"""Campaign messages as sound files Asterisk can play, spoken by espeak-ng at first use.

Abandon and voicemail messages are text in the campaign; this turns each text into an 8 kHz
WAV in a directory Asterisk can read and returns its ``sound:`` media URI. Files are named by a
hash of the text, so a message is synthesised once. A dialer node on another machine reads the
same files at a path of its own (``seen_from``): a mount of the engine's directory, or a copy
(`phonebank pbx sounds`, which writes ahead every message the engine can know of).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import uuid
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from engine.errors import SetupError

VOICE = ("en-us+f2", "165")


def sound_name(text: str) -> str:
    """The file name (without .wav) of ``text`` spoken: a hash of the voice and the text."""
    return "msg-" + hashlib.sha256(f"{VOICE}{text}".encode()).hexdigest()[:16]


class SoundLibrary:
    def __init__(self, host_dir: Path, inner_dir: PurePosixPath) -> None:
        self.host_dir = host_dir
        self.inner_dir = inner_dir

    def seen_from(self, inner_dir: PurePosixPath) -> SoundLibrary:
        """The same files, named as an Asterisk that reads them at ``inner_dir`` sees them."""
        return SoundLibrary(self.host_dir, inner_dir)

    async def media_for(self, text: str) -> str:
        """The ``sound:`` URI of ``text`` spoken, synthesising it if needed."""
        name = sound_name(text)
        target = self.host_dir / f"{name}.wav"
        if not target.exists():
            await asyncio.to_thread(self._speak, text, target)
        return f"sound:{self.inner_dir / name}"

    async def write_ahead(self, texts: Iterable[str]) -> int:
        """Synthesise each of ``texts`` not written yet (empty ones are skipped); returns how
        many files the directory holds for them. Raises SetupError without espeak-ng/sox."""
        wanted = {text for text in texts if text.strip()}
        for text in sorted(wanted):
            await self.media_for(text)
        return len(wanted)

    def _speak(self, text: str, target: Path) -> None:
        self.host_dir.mkdir(parents=True, exist_ok=True)
        # Names of this writer's own: engines on one shared directory may speak the same
        # text at once; each renames a whole file into place.
        unique = f".{os.getpid()}-{uuid.uuid4().hex[:8]}"
        raw = target.with_suffix(f"{unique}.raw.wav")
        done = target.with_suffix(f"{unique}.tmp.wav")
        try:
            # The text goes on stdin, never in argv: a message starting with '-' (say
            # '-f/etc/passwd') would otherwise be an option to espeak-ng.
            subprocess.run(
                ["espeak-ng", "--stdin", "-v", VOICE[0], "-s", VOICE[1], "-w", str(raw)],
                input=text.encode(),
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [
                    "sox",
                    str(raw),
                    "-r",
                    "8000",
                    "-c",
                    "1",
                    "-b",
                    "16",
                    str(done),
                    "norm",
                    "-3",
                ],
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SetupError(
                f"cannot synthesise a campaign message with espeak-ng/sox: {exc}; "
                "install them with 'apt-get install espeak-ng sox'"
            ) from None
        finally:
            raw.unlink(missing_ok=True)
        done.rename(target)
