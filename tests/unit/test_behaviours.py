from __future__ import annotations

import re
from pathlib import Path

import pytest

from testbed.behaviours import BEHAVIOURS, behaviour_of, voter_number

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
