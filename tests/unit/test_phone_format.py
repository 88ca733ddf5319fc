"""The templates' `phone` filter: numbers as people read them (engine/voters/phone_display.py)."""

from __future__ import annotations

from engine.voters.phone_display import format_phone
from web.pages import page_templates


def test_a_number_in_the_region_is_shown_in_national_format() -> None:
    assert format_phone("+14155550134", "US") == "(415) 555-0134"
    assert format_phone("+442079460958", "gb") == "020 7946 0958"


def test_a_number_of_another_country_is_shown_in_international_format() -> None:
    assert format_phone("+442079460958", "US") == "+44 20 7946 0958"


def test_text_that_is_not_a_number_is_shown_as_it_is() -> None:
    assert format_phone("call me maybe", "US") == "call me maybe"
    assert format_phone("", "US") == ""
    assert format_phone(None, "US") == ""


def test_the_filter_uses_the_configured_region_unless_told_another() -> None:
    env = page_templates("US")
    assert env.from_string("{{ n|phone }}").render(n="+14155550134") == "(415) 555-0134"
    assert env.from_string("{{ n|phone('GB') }}").render(n="+442079460958") == "020 7946 0958"
    assert env.from_string("{{ n|phone }}").render(n="<b>") == "&lt;b&gt;"
