"""The harder answering-machine evaluation set (issue 17 item 3): built once per recipe into
phone-line WAV files with a manifest that says what each clip is and where its speech lies."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from engine.amd.tones import SIT_HZ, ToneBank
from testbed.audio import SILENCE_DBFS, rms_dbfs
from testbed.hard_voices import ensure_hard_voices
from testbed.voices import load_manifest

RECIPE = Path(__file__).resolve().parents[2] / "data" / "voices-hard.toml"
PEOPLE = {"one-word", "with-name", "late", "tv", "street", "cough", "hello-again"}
MACHINES = {"short-greeting", "slow-start", "music", "sit", "mid-pause"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_hard_voices(RECIPE, tmp_path_factory.mktemp("hard-voices"))


def samples(wav: Path) -> np.ndarray:
    with wave.open(str(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768.0


def dbfs(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(audio * audio)) + 1e-12))


def test_the_hard_set_is_built_once_with_every_kind_and_several_voices(built: Path) -> None:
    out = built
    manifest = load_manifest(out)
    files = manifest["files"]
    assert len(files) >= 60
    assert set(manifest["counts"]) == PEOPLE | MACHINES
    assert all(manifest["counts"][kind] >= 5 for kind in PEOPLE | MACHINES)
    for kind in PEOPLE | MACHINES:
        expected = {f["expected"] for f in files if f["kind"] == kind}
        assert expected == ({"HUMAN"} if kind in PEOPLE else {"MACHINE"})
        assert len({f["speaker"] for f in files if f["kind"] == kind}) >= 4
    mtime = (out / "tv-0.wav").stat().st_mtime
    assert ensure_hard_voices(RECIPE, out.parent) == out
    assert (out / "tv-0.wav").stat().st_mtime == mtime


def test_each_clip_is_phone_audio_with_its_speech_where_the_manifest_says(built: Path) -> None:
    for clip in load_manifest(built)["files"]:
        audio = samples(built / f"{clip['kind']}-{clip['index']}.wav")
        assert abs(len(audio) - clip["seconds"] * 8000) <= 4
        assert 0 < clip["speech_start"] < clip["speech_end"] < clip["seconds"]
        start, end = (round(clip[key] * 8000) for key in ("speech_start", "speech_end"))
        assert dbfs(audio[start:end]) > -30, clip
    late = next(c for c in load_manifest(built)["files"] if c["kind"] == "late")
    assert rms_dbfs(built / "late-0.wav", 0, late["speech_start"] - 0.05) < SILENCE_DBFS


def test_a_person_over_tv_has_sound_in_the_pause_but_well_below_their_voice(built: Path) -> None:
    out = built
    clip = next(c for c in load_manifest(out)["files"] if c["kind"] == "tv")
    voice = rms_dbfs(out / "tv-0.wav", clip["speech_start"], 0.3)
    pause = rms_dbfs(out / "tv-0.wav", clip["speech_end"] + 0.5, 2.0)
    assert SILENCE_DBFS < pause < voice - 12


def test_a_carrier_announcement_starts_with_special_information_tones(built: Path) -> None:
    pcm = samples(built / "sit-0.wav")
    bank = ToneBank(160, 300.0, 2500.0)
    lead = int(0.2 * 8000)
    first = bank.strongest(pcm[lead + 400 : lead + 560])
    assert first.purity > 0.9 and min(abs(first.hz - hz) for hz in SIT_HZ) < 3
