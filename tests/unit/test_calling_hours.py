from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import InvalidInput
from engine.voters.calling_hours import voter_timezone, within_hours, zones_within_hours

NEW_YORK_NUMBER = "+12125550123"
"""Area code 212: Manhattan."""


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- voter_timezone ------------------------------------------------------------------------


def test_zone_comes_from_the_area_code_without_a_zip() -> None:
    assert voter_timezone(NEW_YORK_NUMBER) == "America/New_York"


def test_zip_beats_area_code() -> None:
    """A New York mobile number kept after moving to San Francisco is called on Pacific time."""
    assert voter_timezone(NEW_YORK_NUMBER, "94110") == "America/Los_Angeles"


def test_zip_plus_four_is_accepted() -> None:
    assert voter_timezone(NEW_YORK_NUMBER, "94110-1234") == "America/Los_Angeles"


def test_unknown_zip_falls_back_to_the_area_code() -> None:
    assert voter_timezone(NEW_YORK_NUMBER, "00000") == "America/New_York"


def test_malformed_zip_falls_back_to_the_area_code() -> None:
    assert voter_timezone(NEW_YORK_NUMBER, "SW1A 1AA") == "America/New_York"


def test_number_spanning_several_zones_is_unknown() -> None:
    """Area code 907 covers both Anchorage and Adak time."""
    assert voter_timezone("+19075550123") == ""


def test_toll_free_number_is_unknown() -> None:
    assert voter_timezone("+18005550123") == ""


def test_unparseable_number_is_unknown() -> None:
    assert voter_timezone("not a number") == ""


# --- zones_within_hours: daylight saving time ----------------------------------------------


def test_spring_forward_moves_the_start_of_calling_hours() -> None:
    """13:30 UTC is 08:30 EST the day before the change and 09:30 EDT on the day."""
    assert not within_hours("America/New_York", "09:00", "21:00", utc(2024, 3, 9, 13, 30))
    assert within_hours("America/New_York", "09:00", "21:00", utc(2024, 3, 10, 13, 30))


def test_fall_back_moves_the_end_of_calling_hours() -> None:
    """01:30 UTC is 21:30 EDT before the change and 20:30 EST after it."""
    assert not within_hours("America/New_York", "09:00", "21:00", utc(2024, 11, 3, 1, 30))
    assert within_hours("America/New_York", "09:00", "21:00", utc(2024, 11, 4, 1, 30))


def test_arizona_ignores_daylight_saving_time() -> None:
    now = utc(2024, 3, 10, 15, 30)  # 09:30 MDT in Denver, 08:30 MST in Phoenix
    zones = zones_within_hours(["America/Denver", "America/Phoenix"], "09:00", "21:00", now)
    assert zones == {"America/Denver"}


def test_start_is_inclusive_and_end_exclusive() -> None:
    assert within_hours("UTC", "09:00", "21:00", utc(2024, 6, 1, 9, 0))
    assert not within_hours("UTC", "09:00", "21:00", utc(2024, 6, 1, 21, 0))


def test_end_of_day_may_be_written_24_00() -> None:
    assert within_hours("UTC", "09:00", "24:00", utc(2024, 6, 1, 23, 59))


def test_only_zones_within_hours_are_returned() -> None:
    now = utc(2024, 7, 1, 1, 30)  # 21:30 in New York, 18:30 in Los Angeles
    zones = zones_within_hours(["America/New_York", "America/Los_Angeles"], "09:00", "21:00", now)
    assert zones == {"America/Los_Angeles"}


# --- zones_within_hours: the unknown zone --------------------------------------------------


def test_unknown_zone_is_called_when_every_us_zone_is_within_hours() -> None:
    now = utc(2024, 7, 1, 19, 0)  # 15:00 in New York, 09:00 in Honolulu
    assert within_hours("", "09:00", "21:00", now)


def test_unknown_zone_waits_for_hawaii_in_the_morning() -> None:
    now = utc(2024, 7, 1, 17, 0)  # 13:00 in New York, 07:00 in Honolulu
    assert zones_within_hours(["", "America/New_York"], "09:00", "21:00", now) == {
        "America/New_York"
    }


def test_unknown_zone_stops_when_the_east_coast_does() -> None:
    now = utc(2024, 7, 2, 1, 30)  # 21:30 in New York, 15:30 in Honolulu
    assert not within_hours("", "09:00", "21:00", now)


def test_name_that_is_not_a_zone_is_treated_as_unknown() -> None:
    assert not within_hours("Mars/Olympus_Mons", "09:00", "21:00", utc(2024, 7, 1, 17, 0))
    assert within_hours("Mars/Olympus_Mons", "09:00", "21:00", utc(2024, 7, 1, 19, 0))


# --- zones_within_hours: bad input ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["9am", "9:00", "25:00", "12:60", "", "09:00:00", "24:01"])
def test_malformed_start_is_rejected_with_the_expected_format(bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"calling hours start .* HH:MM"):
        zones_within_hours(["UTC"], bad, "21:00", utc(2024, 6, 1, 12))


def test_malformed_end_is_named_in_the_message() -> None:
    with pytest.raises(InvalidInput, match=r"calling hours end '9pm'"):
        zones_within_hours(["UTC"], "09:00", "9pm", utc(2024, 6, 1, 12))


def test_end_before_start_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="must be later than start"):
        zones_within_hours(["UTC"], "21:00", "09:00", utc(2024, 6, 1, 12))


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        zones_within_hours(["UTC"], "09:00", "21:00", datetime(2024, 6, 1, 12))
