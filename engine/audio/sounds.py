"""Campaign messages as sound files Asterisk can play, spoken by espeak-ng at first use.

Abandon and voicemail messages are text in the campaign; this turns each text into an 8 kHz
WAV in a directory Asterisk can read and returns its ``sound:`` media URI. Files are named by a
hash of the text, so a message is synthesised once.
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from pathlib import Path, PurePosixPath

from engine.errors import SetupError

VOICE = ("en-us+f2", "165")


class SoundLibrary:
    def __init__(self, host_dir: Path, inner_dir: PurePosixPath) -> None:
        self.host_dir = host_dir
        self.inner_dir = inner_dir

    async def media_for(self, text: str) -> str:
        """The ``sound:`` URI of ``text`` spoken, synthesising it if needed."""
        name = "msg-" + hashlib.sha256(f"{VOICE}{text}".encode()).hexdigest()[:16]
        target = self.host_dir / f"{name}.wav"
        if not target.exists():
            await asyncio.to_thread(self._speak, text, target)
        return f"sound:{self.inner_dir / name}"

    def _speak(self, text: str, target: Path) -> None:
        self.host_dir.mkdir(parents=True, exist_ok=True)
        raw = target.with_suffix(".raw.wav")
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
                    str(target.with_suffix(".tmp.wav")),
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
        target.with_suffix(".tmp.wav").rename(target)
