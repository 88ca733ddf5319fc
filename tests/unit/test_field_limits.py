"""Caps on typed text: length and control characters, with messages naming the field."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.security import field_limits


def test_a_line_within_its_limit_passes_unchanged() -> None:
    assert field_limits.line("name", "Zoë O'Brien-Łukasz", 100) == "Zoë O'Brien-Łukasz"


@pytest.mark.parametrize("bad", ["a\x00b", "a\nb", "a\tb", "a\x7fb", "a\u2028b", "a\x85b"])
def test_a_line_refuses_control_characters(bad: str) -> None:
    with pytest.raises(InvalidInput, match="name must be one line of ordinary characters"):
        field_limits.line("name", bad, 100)


def test_too_long_says_the_limit_and_the_length() -> None:
    with pytest.raises(InvalidInput, match="name is too long: at most 100 characters, not 100,000"):
        field_limits.line("name", "x" * 100_000, 100)


def test_free_text_keeps_newlines_and_tabs_but_not_nul() -> None:
    assert field_limits.text("notes", "line one\r\n\tline two", 50)
    with pytest.raises(InvalidInput, match="notes contains the control character U\\+0000"):
        field_limits.text("notes", "a\x00", 50)
