"""Measure recorded audio with sox: is anyone speaking in this stretch of a recording?"""

from __future__ import annotations

import math
import re
import struct
import subprocess
from pathlib import Path

SILENCE_DBFS = -55.0
"""Below this RMS level a stretch of phone audio counts as silence."""


def rms_dbfs(path: Path, start: float = 0.0, seconds: float | None = None) -> float:
    """RMS level in dBFS of ``path`` (optionally of ``seconds`` from ``start``); -inf if silent."""
    cmd = ["sox", str(path), "-n"]
    if start or seconds is not None:
        cmd += ["trim", str(start)] + ([str(seconds)] if seconds is not None else [])
    cmd.append("stats")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    match = re.search(r"RMS lev dB\s+(\S+)", proc.stderr)
    if not match:
        raise ValueError(f"sox printed no RMS level for {path}: {proc.stderr.strip()}")
    value = match.group(1)
    return -math.inf if value.endswith("inf") else float(value)


def duration(path: Path) -> float:
    proc = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
    return float(proc.stdout.strip())


def wav_finished(path: Path) -> bool:
    """True once the WAV at ``path`` has been closed by its writer: Asterisk (MixMonitor,
    recordings) writes the data length into the header only when it closes the file, and
    until then sox reads no audio at all from it, however many bytes it holds."""
    try:
        head = path.read_bytes()[:256]
    except OSError:
        return False
    at = head.find(b"data")
    if at < 0 or len(head) < at + 8:
        return False
    length: int = struct.unpack("<I", head[at + 4 : at + 8])[0]
    return length > 0
