"""Mobile or landline: from the list's own column or the number, and which dial mode (the
automatic dialer or a volunteer's Call) reaches which line types."""

from __future__ import annotations

import io

import pytest

from engine.models import Campaign, DialMode, MobileDialMode
from engine.voters.csv_rows import VoterRow, read_voter_rows
from engine.voters.headers import map_headers
from engine.voters.line_types import (
    LANDLINE,
    LINE_TYPES,
    MOBILE,
    UNKNOWN,
    automatic_line_types,
    flagged_line_type,
    line_type,
    listed_line_type,
    number_line_type,
    preview_line_types,
)

US = "+12125550123"
"""A US number: phonenumbers cannot tell mobile from fixed (FIXED_LINE_OR_MOBILE)."""
UK_MOBILE = "+447911123456"
UK_FIXED = "+442079460000"


def campaign(
    dial_mode: str = "power", mobile: str = "", unknown_as_mobile: bool = True
) -> Campaign:
    return Campaign(
        1,
        "C",
        dial_mode=DialMode(dial_mode),
        mobile_dial_mode=MobileDialMode(mobile),
        unknown_lines_as_mobile=unknown_as_mobile,
    )


def voters(csv_text: str) -> list[VoterRow]:
    rows = list(read_voter_rows(io.BytesIO(csv_text.encode())))
    assert all(isinstance(row, VoterRow) for row in rows), rows
    return rows  # type: ignore[return-value]


# --- what a list's column says ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["cell", "Cell", "CELLULAR", "wireless", "Mobile", "cell phone", "M", "c", "W"]
)
def test_mobile_words(value: str) -> None:
    assert listed_line_type(value) == MOBILE


@pytest.mark.parametrize(
    "value", ["landline", "Land Line", "fixed", "Fixed line", "home", "H", "wired", "L"]
)
def test_landline_words(value: str) -> None:
    assert listed_line_type(value) == LANDLINE


@pytest.mark.parametrize("value", ["", "  ", "VoIP", "unknown", "pager", "?"])
def test_other_values_say_nothing(value: str) -> None:
    assert listed_line_type(value) is None


FLAGS = [
    ("Y", MOBILE), ("yes", MOBILE), ("1", MOBILE), ("TRUE", MOBILE),
    ("N", LANDLINE), ("no", LANDLINE), ("0", LANDLINE), ("", None), ("maybe", None),
]  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), FLAGS)
def test_mobile_flags(value: str, expected: str | None) -> None:
    assert flagged_line_type(value) == expected


# --- what the number says ------------------------------------------------------------------


def test_a_uk_mobile_number_is_a_mobile() -> None:
    assert number_line_type(UK_MOBILE) == MOBILE


def test_a_uk_geographic_number_is_a_landline() -> None:
    assert number_line_type(UK_FIXED) == LANDLINE


def test_a_us_number_is_unknown_because_the_plan_mixes_mobiles_and_landlines() -> None:
    assert number_line_type(US) == UNKNOWN


def test_an_unparsable_number_is_unknown() -> None:
    assert number_line_type("not a number") == UNKNOWN


def test_the_list_wins_over_the_number() -> None:
    assert line_type(UK_MOBILE, LANDLINE) == LANDLINE
    assert line_type(US, MOBILE) == MOBILE
    assert line_type(UK_MOBILE, None) == MOBILE


# --- import --------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["line_type", "Phone Type", "LINE", "Number Type", "phonetype"])
def test_line_type_column_spellings(header: str) -> None:
    [voter] = voters(f"phone,{header}\n{US},Cell\n")
    assert voter.line_type == MOBILE
    assert header.strip() not in voter.extra


@pytest.mark.parametrize("header", ["is_cell", "Cell Flag", "wireless", "IsMobile", "mobile_flag"])
def test_mobile_flag_column_spellings(header: str) -> None:
    [mobile, landline] = voters(f"phone,{header}\n{US},Y\n+12125550124,N\n")
    assert (mobile.line_type, landline.line_type) == (MOBILE, LANDLINE)


def test_a_blank_or_unknown_value_falls_back_to_the_number() -> None:
    rows = voters(f"phone,line_type\n{UK_MOBILE},\n{UK_FIXED},VoIP\n{US},\n")
    assert [row.line_type for row in rows] == [MOBILE, LANDLINE, UNKNOWN]


def test_without_a_column_the_number_decides() -> None:
    rows = voters(f"phone,first_name\n{UK_MOBILE},A\n{UK_FIXED},B\n{US},C\n")
    assert [row.line_type for row in rows] == [MOBILE, LANDLINE, UNKNOWN]


def test_a_line_type_column_beats_a_mobile_flag_and_the_flag_fills_its_blanks() -> None:
    rows = voters(f"phone,line_type,is_cell\n{US},home,Y\n+12125550124,,Y\n")
    assert [row.line_type for row in rows] == [LANDLINE, MOBILE]


def test_describe_shows_the_line_type_columns() -> None:
    mapping = map_headers(["phone", "Phone Type", "is_cell", "precinct"]).describe()
    assert [(m.header, m.target) for m in mapping] == [
        ("phone", "phone"),
        ("Phone Type", "line_type"),
        ("is_cell", "mobile_flag"),
        ("precinct", "extra"),
    ]


def test_the_phone_aliases_cell_and_mobile_stay_phone_columns() -> None:
    [voter] = voters(f"Cell,line_type\n{US},landline\n")
    assert (voter.phone, voter.line_type) == (US, LANDLINE)


# --- which dial mode calls which line types ----------------------------------------------------


@pytest.mark.parametrize("mode", ["power", "predictive", "adaptive"])
def test_an_automatic_campaign_without_a_mobile_mode_autodials_everyone(mode: str) -> None:
    assert automatic_line_types(campaign(mode)) is None
    assert preview_line_types(campaign(mode)) == frozenset()


def test_a_mobile_mode_equal_to_the_dial_mode_changes_nothing() -> None:
    assert automatic_line_types(campaign("power", "power")) is None
    assert preview_line_types(campaign("power", "power")) == frozenset()


def test_previewed_mobiles_leave_only_landlines_to_the_dialer_when_unknown_counts_as_mobile() -> (
    None
):
    mixed = campaign("predictive", "preview", unknown_as_mobile=True)
    assert automatic_line_types(mixed) == frozenset({LANDLINE})
    assert preview_line_types(mixed) == {MOBILE, UNKNOWN}


def test_previewed_mobiles_leave_unknown_lines_to_the_dialer_when_told_so() -> None:
    mixed = campaign("power", "preview", unknown_as_mobile=False)
    assert automatic_line_types(mixed) == frozenset({LANDLINE, UNKNOWN})
    assert preview_line_types(mixed) == {MOBILE}


@pytest.mark.parametrize("mode", ["power", "predictive", "adaptive"])
@pytest.mark.parametrize("unknown_as_mobile", [True, False])
def test_the_two_sets_split_every_line_type_between_them(
    mode: str, unknown_as_mobile: bool
) -> None:
    mixed = campaign(mode, "preview", unknown_as_mobile)
    automatic = automatic_line_types(mixed)
    assert automatic is not None
    assert automatic | preview_line_types(mixed) == LINE_TYPES
    assert not automatic & preview_line_types(mixed)


@pytest.mark.parametrize("mobile", ["", "preview", "power"])
def test_a_preview_campaign_previews_everyone_and_autodials_nobody(mobile: str) -> None:
    assert preview_line_types(campaign("preview", mobile)) == LINE_TYPES
    assert automatic_line_types(campaign("preview", mobile)) == frozenset()
