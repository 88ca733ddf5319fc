from __future__ import annotations

import subprocess
from pathlib import Path

from testbed.audio import SILENCE_DBFS, rms_dbfs, wav_finished
from testbed.voices import KINDS, ensure_voices, load_manifest

RECIPE = Path(__file__).resolve().parents[2] / "data" / "voices.toml"


def test_voices_are_built_once_per_recipe_and_are_phone_audio(tmp_path: Path) -> None:
    out = ensure_voices(RECIPE, tmp_path)
    manifest = load_manifest(out)
    assert set(manifest["counts"]) == set(KINDS)
    assert manifest["counts"]["person"] >= 10 and manifest["counts"]["machine"] >= 10
    assert any(f["noisy"] for f in manifest["files"])
    person = manifest["files"][0]
    assert person["kind"] == "person"
    wav = out / "person-0.wav"
    assert rms_dbfs(wav, 0, person["speech_seconds"]) > -30
    # The pause after a person's greeting is silent: that is how AMD hears a human.
    assert rms_dbfs(wav, person["speech_seconds"] + 0.3) < SILENCE_DBFS
    mtime = wav.stat().st_mtime
    assert ensure_voices(RECIPE, tmp_path) == out
    assert wav.stat().st_mtime == mtime


def test_a_changed_recipe_builds_new_voices(tmp_path: Path) -> None:
    recipe = tmp_path / "voices.toml"
    recipe.write_text(RECIPE.read_text())
    first = ensure_voices(recipe, tmp_path / "v")
    recipe.write_text(RECIPE.read_text().replace("Hello?", "Hello there?"))
    assert ensure_voices(recipe, tmp_path / "v") != first


def test_a_wav_is_finished_only_once_its_header_holds_the_data_length(tmp_path: Path) -> None:
    """Asterisk leaves the header's data length at 0 until it closes the file: sox then
    reads no audio, so a level measured on an open recording means nothing."""
    path = tmp_path / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", "1", "sine", "440"],
        check=True,
    )
    assert wav_finished(path)
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    data[at + 4 : at + 8] = bytes(4)  # as while Asterisk is still writing it
    path.write_bytes(bytes(data))
    assert not wav_finished(path)
    assert not wav_finished(tmp_path / "missing.wav")
