"""The watchdog's decision, pure: an Asterisk silent on ARI for the threshold is frozen."""

from __future__ import annotations

import pytest

from engine.config import load_config
from engine.errors import ConfigError
from engine.pbx.watchdog import HealthClock, frozen


def test_silence_shorter_than_the_threshold_is_not_frozen() -> None:
    assert not frozen(last_healthy=100.0, now=129.9, threshold=30.0)


def test_silence_of_the_threshold_or_longer_is_frozen() -> None:
    assert frozen(last_healthy=100.0, now=130.0, threshold=30.0)
    assert frozen(last_healthy=100.0, now=500.0, threshold=30.0)


def test_an_instance_first_seen_gets_the_whole_threshold_before_it_counts_as_frozen() -> None:
    clock = HealthClock(3.0)
    assert not clock.frozen("dialer", 1000.0)
    assert not clock.frozen("dialer", 1002.9)
    assert clock.frozen("dialer", 1003.0)
    assert clock.silent_for("dialer", 1004.0) == 4.0


def test_each_answer_starts_the_silence_again_and_instances_are_apart() -> None:
    clock = HealthClock(3.0)
    clock.answered("dialer", 10.0)
    clock.answered("carrier", 10.0)
    clock.answered("dialer", 12.0)
    assert not clock.frozen("dialer", 14.0)
    assert clock.frozen("carrier", 14.0)


def test_watchdog_seconds_defaults_to_30_and_must_be_positive() -> None:
    assert load_config(environ={}).pbx.watchdog_seconds == 30.0
    assert load_config(environ={"PHONEBANK_PBX_WATCHDOG_SECONDS": "3"}).pbx.watchdog_seconds == 3
    with pytest.raises(ConfigError, match=r"pbx\.watchdog_seconds must be more than 0"):
        load_config(environ={"PHONEBANK_PBX_WATCHDOG_SECONDS": "0"})
