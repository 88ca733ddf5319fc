"""A wrong PIN from a volunteer's phone, told on their page (engine/callin/wrong_pin.py), and
the session sentences for computer audio (engine/sessions/states.py describe)."""

from __future__ import annotations

import re

from engine.callin.wrong_pin import same_phone, wrong_pin_message
from engine.models import SessionState
from engine.sessions.states import describe


def test_a_caller_id_matches_the_number_as_typed_at_sign_up() -> None:
    assert same_phone("+12025550177", "(202) 555-0177")
    assert same_phone("12025550177", "+1 202 555 0177")
    # a national trunk prefix ("0" in the UK) is not matched: compare the numbers as dialled
    assert not same_phone("+442079460958", "020 7946 0958")
    assert same_phone("+442079460958", "+44 20 7946 0958")


def test_other_numbers_and_short_or_hidden_caller_ids_never_match() -> None:
    assert not same_phone("+12025550178", "(202) 555-0177")
    assert not same_phone("", "(202) 555-0177")
    assert not same_phone("0177", "(202) 555-0177")
    assert not same_phone("anonymous", "anonymous")


def test_the_page_says_how_many_tries_are_left() -> None:
    assert wrong_pin_message(2) == "That code was not accepted; you have 2 tries left."
    assert wrong_pin_message(1) == "That code was not accepted; you have 1 try left."
    assert "3 times, so the call was ended" in wrong_pin_message(0)


def test_a_lockout_says_how_long_it_lasts() -> None:
    assert "can call in again in 5 minutes" in wrong_pin_message(0, 300.0, "caller")
    assert "in 1 minute." in wrong_pin_message(0, 20.0, "caller")
    overall = wrong_pin_message(0, 600.0, "overall")
    assert "10 minutes" in overall and "Call using computer" in overall


def test_computer_audio_sentences_never_mention_a_phone() -> None:
    for state in SessionState:
        for connected in (True, False):
            text = describe(state, phone=connected, computer=True)
            assert not re.search(r"\bphone\b", text, re.IGNORECASE), (state, text)
    assert "through your computer" in describe(SessionState.CONNECTED, computer=True)
    assert "phone" in describe(SessionState.PHONE_DISCONNECTED)
