"""Synthetic voices for the carrier simulator, made with espeak-ng and sox from data/voices.toml.

Each kind of text (person, talk, machine, carriervm, volunteer) becomes files ``<kind>-<n>.wav``
(8 kHz, mono, 16-bit: what a phone line carries) plus ``manifest.json`` with the counts, texts
and durations. The output directory is named after a hash of the recipe, so a changed recipe
builds new voices and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import SetupError

log = logging.getLogger(__name__)

KINDS = ("person", "talk", "machine", "carriervm", "volunteer")
GENERATOR_VERSION = "1"
RATE = 8000


@dataclass(frozen=True)
class VoiceFile:
    kind: str
    index: int
    text: str
    speaker: str
    noisy: bool
    seconds: float
    speech_seconds: float
    """Length of the spoken part alone (without the pause, beep or silence after it)."""


def recipe_hash(recipe: Path) -> str:
    digest = hashlib.sha256(recipe.read_bytes() + GENERATOR_VERSION.encode())
    return digest.hexdigest()[:12]


def load_manifest(voices_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((voices_dir / "manifest.json").read_text())
    return result


def ensure_voices(recipe: Path, parent: Path) -> Path:
    """Build the voices of ``recipe`` under ``parent/<hash>`` unless already there; return it.

    Raises SetupError when espeak-ng or sox is missing or fails.
    """
    out = parent / recipe_hash(recipe)
    if (out / "manifest.json").is_file():
        return out
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SetupError(
                f"{tool} is not installed and the synthetic voices must be built: "
                f"run 'apt-get install espeak-ng sox' (make run/make test do this)"
            )
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent, prefix=".building-") as tmp:
        files = _build_all(tomllib.loads(recipe.read_text()), Path(tmp))
        counts = {kind: sum(1 for f in files if f.kind == kind) for kind in KINDS}
        manifest = {"recipe": recipe.name, "counts": counts, "files": [f.__dict__ for f in files]}
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest, indent=1))
        Path(tmp).chmod(0o755)
        shutil.rmtree(out, ignore_errors=True)
        Path(tmp).rename(out)
    log.info("built %d synthetic voice files in %s", len(files), out)
    return out


def _build_all(recipe: dict[str, Any], out: Path) -> list[VoiceFile]:
    speakers: list[dict[str, Any]] = recipe["speakers"]
    jobs = []
    for kind in KINDS:
        section = recipe[kind]
        for index, text in enumerate(section["texts"]):
            speaker = speakers[index % len(speakers)]
            noisy = (index + 1) % int(recipe["noise_every"]) == 0
            jobs.append((kind, index, text, speaker, noisy, section))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(
                _build_one,
                out,
                kind,
                index,
                text,
                speaker,
                noisy,
                section,
                float(recipe["noise_level"]),
            )
            for kind, index, text, speaker, noisy, section in jobs
        ]
        return [f.result() for f in futures]


def _build_one(
    out: Path,
    kind: str,
    index: int,
    text: str,
    speaker: dict[str, Any],
    noisy: bool,
    section: dict[str, Any],
    noise_level: float,
) -> VoiceFile:
    name = f"{kind}-{index}"
    raw, speech, final = (out / f"{name}.{part}.wav" for part in ("raw", "speech", "final"))
    run_tool(
        [
            "espeak-ng",
            "-v",
            speaker["voice"],
            "-s",
            str(speaker["speed"]),
            "-p",
            str(speaker["pitch"]),
            "-w",
            str(raw),
            "--",
            text,
        ]
    )
    # Phone-line format, peak-normalised, with 0.2 s of lead-in like a real line.
    run_tool(
        [
            "sox",
            str(raw),
            "-r",
            str(RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(speech),
            "norm",
            "-3",
            "pad",
            "0.2",
            "0",
        ]
    )
    speech_seconds = _seconds(speech)
    parts = [str(speech)]
    if "beep_hz" in section:
        beep = out / f"{name}.beep.wav"
        run_tool(
            [
                "sox",
                "-n",
                "-r",
                str(RATE),
                "-c",
                "1",
                "-b",
                "16",
                str(beep),
                "synth",
                str(section["beep_seconds"]),
                "sine",
                str(section["beep_hz"]),
                "vol",
                "0.5",
                "pad",
                "0.3",
                "0",
            ]
        )
        parts.append(str(beep))
    pause = float(section.get("pause_after", 0.0))
    run_tool(
        ["sox", *parts, str(final), "pad", "0", str(pause)]
        if len(parts) > 1 or pause
        else ["sox", *parts, str(final)]
    )
    target = out / f"{name}.wav"
    if noisy:
        noise = out / f"{name}.noise.wav"
        run_tool(
            [
                "sox",
                "-n",
                "-r",
                str(RATE),
                "-c",
                "1",
                "-b",
                "16",
                str(noise),
                "synth",
                str(_seconds(final)),
                "pinknoise",
                "vol",
                str(noise_level),
            ]
        )
        run_tool(["sox", "-m", "-v", "1", str(final), "-v", "1", str(noise), str(target)])
    else:
        final.rename(target)
    for leftover in out.glob(f"{name}.*.wav"):
        leftover.unlink()
    voice = f"{speaker['voice']}@{speaker['speed']}wpm"
    return VoiceFile(kind, index, text, voice, noisy, _seconds(target), speech_seconds)


def _seconds(path: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip()), 3)


def run_tool(cmd: list[str]) -> None:
    """Run espeak-ng or sox; raises SetupError with its message when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SetupError(
            f"{cmd[0]} failed while building voices ({' '.join(cmd)}): {proc.stderr.strip()}"
        )
