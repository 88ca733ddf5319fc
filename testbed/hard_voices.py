"""The harder answering-machine evaluation set (issue 17 item 3), built from
data/voices-hard.toml: people who answer with one word, with their name, after a long
silence, over TV or street noise, with a cough; machines with short greetings, slow starts,
music, carrier announcements with special-information tones, greetings that pause.

Speech comes from espeak-ng and sox (as in testbed/voices.py), the sounds around it from
testbed/hard_sounds.py. Each clip is ``<group>-<n>.wav`` (8 kHz mono 16-bit, what the carrier
simulator plays) and manifest.json lists, per clip, the expected verdict and where the speech
lies. Built at setup beside today's voices (testbed/pair.py ``prepare``), in a directory named
after a hash of the recipe; never committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import tomllib
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import SetupError
from testbed import hard_sounds as sounds
from testbed.voices import RATE, run_tool

log = logging.getLogger(__name__)

GENERATOR_VERSION = "hard-1"
COUGH_GAP_S = 0.3
BEEP_GAP_S = 0.3


@dataclass(frozen=True)
class Clip:
    """One clip of the recipe, before it is built."""

    group: str
    index: int
    expected: str
    phrases: tuple[str, ...]
    speaker: dict[str, Any]
    lead: float
    gap: float
    intro: str
    outro: str
    beep_hz: float
    beep_seconds: float
    tail: float
    background: str
    background_level: float


@dataclass(frozen=True)
class HardClip:
    """One built clip, as manifest.json lists it."""

    kind: str
    index: int
    expected: str
    text: str
    speaker: str
    noisy: bool
    seconds: float
    speech_start: float
    speech_end: float
    """Where the first phrase starts and the last ends, in seconds from answer."""


def recipe_hash(recipe: Path) -> str:
    digest = hashlib.sha256(recipe.read_bytes() + GENERATOR_VERSION.encode())
    return digest.hexdigest()[:12]


def ensure_hard_voices(recipe: Path, parent: Path) -> Path:
    """Build the set of ``recipe`` under ``parent/<hash>`` unless already there; return it.

    Raises SetupError when espeak-ng or sox is missing or fails.
    """
    out = parent / recipe_hash(recipe)
    if (out / "manifest.json").is_file():
        return out
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SetupError(f"{tool} is not installed: run 'apt-get install espeak-ng sox'")
    parent.mkdir(parents=True, exist_ok=True)
    clips = recipe_clips(tomllib.loads(recipe.read_text()))
    with tempfile.TemporaryDirectory(dir=parent, prefix=".building-") as tmp:
        built = _build_all(clips, Path(tmp))
        counts: dict[str, int] = {}
        for clip in built:
            counts[clip.kind] = counts.get(clip.kind, 0) + 1
        manifest = {"recipe": recipe.name, "counts": counts, "files": [asdict(c) for c in built]}
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest, indent=1))
        Path(tmp).chmod(0o755)
        shutil.rmtree(out, ignore_errors=True)
        Path(tmp).rename(out)
    log.info("built %d clips of the harder AMD set in %s", len(built), out)
    return out


def recipe_clips(recipe: dict[str, Any]) -> list[Clip]:
    """Every clip of the recipe, speakers rotating over the whole set."""
    speakers: list[dict[str, Any]] = recipe["speakers"]
    clips: list[Clip] = []
    for group in recipe["group"]:
        for index, text in enumerate(group["texts"]):

            def pick(key: str, default: Any, index: int = index, group: Any = group) -> Any:
                value = group.get(key, default)
                return value[index % len(value)] if isinstance(value, list) else value

            clips.append(
                Clip(
                    group=group["name"],
                    index=index,
                    expected=group["expected"],
                    phrases=tuple(text) if isinstance(text, list) else (text,),
                    speaker=speakers[len(clips) % len(speakers)],
                    lead=float(pick("lead", 0.2)),
                    gap=float(pick("gap", 0.0)),
                    intro=str(pick("intro", "")),
                    outro=str(pick("outro", "")),
                    beep_hz=float(pick("beep_hz", 1000.0)),
                    beep_seconds=float(pick("beep_seconds", 0.5)),
                    tail=float(pick("tail", 3.0)),
                    background=str(pick("background", "")),
                    background_level=float(pick("background_level", 0.0)),
                )
            )
    return clips


def _build_all(clips: list[Clip], out: Path) -> list[HardClip]:
    tv_voice = {"voice": "en-us+m7", "speed": 175, "pitch": 40}
    news = (
        "In other news tonight, the city council voted to extend the library's opening hours, "
        "and forecasters expect light rain across the region through the weekend."
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        tv = pool.submit(_speak, out, "tv-news", news, tv_voice)
        phrases = {
            (clip.group, clip.index, n): pool.submit(
                _speak, out, f"{clip.group}-{clip.index}-{n}", phrase, clip.speaker
            )
            for clip in clips
            for n, phrase in enumerate(clip.phrases)
        }
        spoken = {key: future.result() for key, future in phrases.items()}
        tv_news = tv.result()
    built = []
    for number, clip in enumerate(clips):
        rng = np.random.default_rng(number)
        parts = [spoken[(clip.group, clip.index, n)] for n in range(len(clip.phrases))]
        built.append(_compose(out, clip, parts, tv_news, rng))
    for leftover in out.glob("*.speech.wav"):
        leftover.unlink()
    return built


def _compose(
    out: Path, clip: Clip, phrases: list[sounds.Audio], tv: sounds.Audio, rng: np.random.Generator
) -> HardClip:
    head = [sounds.silence(clip.lead), *_intro(clip, rng)]
    speech: list[sounds.Audio] = []
    for n, phrase in enumerate(phrases):
        speech += [sounds.silence(clip.gap)] if n else []
        speech.append(phrase)
    tail = [*_outro(clip, rng), sounds.silence(clip.tail)]
    speech_start = sum(len(a) for a in head) / RATE
    speech_end = speech_start + sum(len(a) for a in speech) / RATE
    audio = np.concatenate(head + speech + tail)
    if clip.background:
        audio = audio + clip.background_level * _background(clip.background, len(audio), tv, rng)
    name = f"{clip.group}-{clip.index}"
    _write_wav(out / f"{name}.wav", audio)
    return HardClip(
        kind=clip.group,
        index=clip.index,
        expected=clip.expected,
        text=" … ".join(clip.phrases),
        speaker=f"{clip.speaker['voice']}@{clip.speaker['speed']}wpm",
        noisy=bool(clip.background),
        seconds=round(len(audio) / RATE, 3),
        speech_start=round(speech_start, 3),
        speech_end=round(speech_end, 3),
    )


def _intro(clip: Clip, rng: np.random.Generator) -> list[sounds.Audio]:
    if clip.intro == "cough":
        return [sounds.cough(rng), sounds.silence(COUGH_GAP_S)]
    if clip.intro == "music":
        return [sounds.music(float(rng.uniform(1.5, 3.0)), rng), sounds.silence(0.2)]
    if clip.intro.startswith("sit-"):
        return [sounds.sit(clip.intro)]
    if clip.intro:
        raise SetupError(f"voices-hard.toml: unknown intro {clip.intro!r} in {clip.group}")
    return []


def _outro(clip: Clip, rng: np.random.Generator) -> list[sounds.Audio]:
    if clip.outro == "cough":
        return [sounds.silence(COUGH_GAP_S), sounds.cough(rng)]
    if clip.outro == "beep":
        return [sounds.silence(BEEP_GAP_S), sounds.tone(clip.beep_hz, clip.beep_seconds)]
    if clip.outro:
        raise SetupError(f"voices-hard.toml: unknown outro {clip.outro!r} in {clip.group}")
    return []


def _background(name: str, count: int, tv: sounds.Audio, rng: np.random.Generator) -> sounds.Audio:
    seconds = count / RATE
    if name == "tv":
        start = int(rng.integers(0, len(tv)))
        return sounds.looped(np.roll(tv, -start), seconds)[:count]
    if name == "street":
        return sounds.street(seconds, rng)[:count]
    if name == "music":
        return sounds.music(seconds, rng)[:count]
    raise SetupError(f"voices-hard.toml: unknown background {name!r}")


def _speak(out: Path, name: str, text: str, speaker: dict[str, Any]) -> sounds.Audio:
    raw, speech = out / f"{name}.raw.speech.wav", out / f"{name}.speech.wav"
    voice, speed, pitch = speaker["voice"], str(speaker["speed"]), str(speaker["pitch"])
    run_tool(["espeak-ng", "-v", voice, "-s", speed, "-p", pitch, "-w", str(raw), "--", text])
    # Phone-line format, peak-normalised, espeak's own leading and trailing silence cut.
    trim = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]
    run_tool(
        [
            *("sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"),
            *(str(speech), "norm", "-3", *trim),
        ]
    )
    with wave.open(str(speech)) as w:
        pcm = w.readframes(w.getnframes())
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def _write_wav(path: Path, audio: sounds.Audio) -> None:
    pcm = (np.clip(audio, -1.0, 32767 / 32768) * 32768.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
