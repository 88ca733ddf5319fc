from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from engine.errors import SetupError
from testbed.behaviours import BEHAVIOURS, behaviour_of, voter_number
from testbed.carrier import hard_clips

ROOT = Path(__file__).resolve().parents[2]


def test_voter_number_encodes_behaviour_and_variant() -> None:
    assert voter_number("20", 3) == "+12025552003"
    behaviour = behaviour_of("+12025552003")
    assert behaviour is not None and behaviour.name == "answering machine"


def test_unknown_behaviour_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown behaviour code"):
        voter_number("77")


def test_every_behaviour_is_in_the_testbed_doc_and_the_carrier_dialplan() -> None:
    doc = (ROOT / "docs" / "testbed.md").read_text()
    dialplan = (ROOT / "asterisk_conf" / "carrier" / "extensions.conf.j2").read_text()
    contexts = set(re.findall(r"^\[voter-(\d\d)\]", dialplan, re.M))
    assert contexts == {b.code for b in BEHAVIOURS}
    for behaviour in BEHAVIOURS:
        assert re.search(rf"^\| `{behaviour.code}` \| {behaviour.name} \|", doc, re.M), behaviour


def test_ring_first_behaviours_ring_for_their_variant_in_seconds() -> None:
    """Behaviours 14 and 22 ring for VV seconds before answering: the pacing bench encodes
    each voter's answer time in the number."""
    dialplan = (ROOT / "asterisk_conf" / "carrier" / "extensions.conf.j2").read_text()
    for code in ("14", "22"):
        context = dialplan.split(f"[voter-{code}]", 1)[1].split("\n\n", 1)[0]
        assert "Ringing()" in context and "Wait(${EXTEN})" in context, code
    assert voter_number("14", 12) == "+12025551412"


def test_behaviour_50_plays_the_harder_sets_clip_numbered_by_its_place_in_the_manifest() -> None:
    """The carrier's dialplan gets one extension per clip: VV = its index in manifest.json's
    files; a person talks on afterwards, a machine goes silent."""
    manifest = {
        "files": [
            {"kind": "late", "index": 0, "expected": "HUMAN"},
            {"kind": "sit", "index": 2, "expected": "MACHINE"},
        ]
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "asterisk_conf" / "carrier"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = {
        "banner": "",
        "voices_dir": "/v",
        "hard_voices_dir": "/h",
        "recordings_dir": "/r",
        "voices": {"person": 1, "talk": 1, "machine": 1, "carriervm": 1},
        "hard_clips": hard_clips(manifest),
    }
    dialplan = env.get_template("extensions.conf.j2").render(context)
    block = dialplan.split("[voter-50]\n", 1)[1].split("\n\n", 1)[0]
    assert block.splitlines() == [
        "exten => 00,1,Set(CLIP=late-0)",
        " same => n,Goto(hard-person,s,1)",
        "exten => 01,1,Set(CLIP=sit-2)",
        " same => n,Goto(hard-machine,s,1)",
    ]
    assert "HARD_VOICES = /h" in dialplan
    person = dialplan.split("[hard-person]", 1)[1].split("\n\n", 1)[0]
    assert "Playback(${HARD_VOICES}/${CLIP})" in person and "Goto(talk,s,1)" in person


def test_a_harder_set_of_more_than_100_clips_is_refused() -> None:
    files = [{"kind": "late", "index": n, "expected": "HUMAN"} for n in range(101)]
    with pytest.raises(SetupError, match="at most 100"):
        hard_clips({"files": files})
