"""A campaign's settings checked before they are saved: each bad field is named, with why, in
words an operator understands (InvalidInput)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.amd.settings import StreamingAmdSettings
from engine.config import AMD_ENGINES
from engine.dialer.modes import DIAL_MODES
from engine.dialer.pacing.base import ABANDON_LIMIT
from engine.errors import ConfigError, InvalidInput
from engine.models import Campaign, DncScope, TermCode, TermCodeKind
from engine.scripts.render import check_script
from engine.scripts.survey import check_survey
from engine.security import field_limits
from engine.time_zone import valid_time_zone
from engine.voters.calling_hours import zones_within_hours

MAX_LINES_PER_VOLUNTEER = 50
WHOLE_NUMBER_SETTINGS = (
    "lines_per_volunteer",
    "max_lines_per_volunteer",
    "max_attempts",
    "retry_minutes",
    "wrapup_seconds",
    "ring_seconds",
)
"""Campaign settings that are whole numbers of at least 1."""
ZERO_OR_MORE_SETTINGS = ("logout_after_missed_wrapups",)
"""Campaign settings that are whole numbers of at least 0 (0: off)."""
YES_NO_SETTINGS = (
    "connect_notsure",
    "hold_music",
    "unknown_lines_as_mobile",
    "early_connect",
    "half_hour_guard",
    "active",
)
"""Campaign settings that are true or false."""
EDITABLE = {f.name for f in dataclasses.fields(Campaign)} - {"id", "created_at"}


TEXT_LIMITS = {
    "caller_id": field_limits.CALLER_ID,
    "abandon_message": field_limits.MESSAGE,
    "voicemail_message": field_limits.MESSAGE,
    "script": field_limits.SCRIPT,
}
"""Longest text of these campaign settings."""
JSON_LIMITS = {"survey": field_limits.SURVEY_BYTES, "term_codes": field_limits.TERM_CODES_BYTES}
"""Largest JSON of these campaign settings."""


def campaign_name(name: str) -> str:
    """A campaign name trimmed; InvalidInput if blank, too long or not one line."""
    name = name.strip()
    if not name:
        raise InvalidInput("a campaign needs a name")
    return field_limits.line("campaign name", name, field_limits.CAMPAIGN_NAME)


def checked_settings(
    settings: dict[str, Any],
    current: Campaign,
    now: datetime,
    normalize_phone: Callable[[str, str], str],
) -> dict[str, Any]:
    """Check campaign settings (changes to ``current``); InvalidInput names the first bad
    field and why."""
    unknown = set(settings) - EDITABLE
    if unknown:
        raise InvalidInput(f"unknown campaign setting(s) {sorted(unknown)}")
    clean = dict(settings)
    if "name" in clean:
        clean["name"] = campaign_name(str(clean["name"]))
    for key, limit in TEXT_LIMITS.items():
        if key in clean and isinstance(clean[key], str):
            field_limits.text(key, clean[key], limit)
    for key, limit in JSON_LIMITS.items():
        if key in clean:
            field_limits.json_size(key, clean[key], limit)
    for key in YES_NO_SETTINGS:
        if key in clean and not isinstance(clean[key], bool):
            raise InvalidInput(f"{key} must be true or false, not {clean[key]!r}")
    for key in WHOLE_NUMBER_SETTINGS:
        if key in clean:
            value = clean[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInput(f"{key} must be a whole number of at least 1")
    for key in ZERO_OR_MORE_SETTINGS:
        if key in clean:
            value = clean[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInput(f"{key} must be a whole number of at least 0 (0: never)")
    if "calling_hours_start" in clean or "calling_hours_end" in clean:
        # Checks the HH:MM format, and the order against the current value of the other.
        start = clean.get("calling_hours_start", current.calling_hours_start)
        end = clean.get("calling_hours_end", current.calling_hours_end)
        zones_within_hours([], str(start), str(end), now)
    if "time_zone" in clean:  # issue 14 item 5
        clean["time_zone"] = valid_time_zone(clean["time_zone"])
    if "script" in clean:
        problems = check_script(str(clean["script"]))
        if problems:
            raise InvalidInput("the script has a problem: " + "; ".join(problems))
    if "term_codes" in clean:
        clean["term_codes"] = _term_codes(clean["term_codes"])
    if "survey" in clean:
        check_survey(clean["survey"])
    _check_pacing(clean)
    _check_amd(clean)
    if clean.get("dnc_scope", DncScope.CAMPAIGN) not in tuple(DncScope):
        raise InvalidInput("dnc_scope must be 'campaign' or 'global'")
    if clean.get("caller_id"):
        clean["caller_id"] = normalize_phone(str(clean["caller_id"]), "caller_id")
    return clean


def _term_codes(raw: Any) -> list[TermCode]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("term_codes must be a non-empty list of {code, label, kind}")
    codes = []
    for item in raw:
        if isinstance(item, TermCode):
            codes.append(item)
            continue
        try:
            kind = TermCodeKind(item["kind"])
            codes.append(TermCode(str(item["code"]), str(item["label"]), kind))
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                f"term code {item!r} needs code, label and a kind of "
                f"{[str(k) for k in TermCodeKind]}"
            ) from None
    seen: set[str] = set()
    for number, code in enumerate(codes, 1):
        if not code.code.strip() or not code.label.strip():
            raise InvalidInput(f"Term code {number} needs a code and a label.")
        if code.code in seen:
            raise InvalidInput(
                f"two term codes have the same code '{code.code}'; give each its own code"
            )
        seen.add(code.code)
    return codes


def _check_pacing(clean: dict[str, Any]) -> None:
    """Dial modes must exist, the line cap stay sane and the abandon target within the law."""
    modes = ", ".join(DIAL_MODES)
    if "dial_mode" in clean and str(clean["dial_mode"]) not in DIAL_MODES:
        raise InvalidInput(f"dial_mode must be one of {modes}, not {clean['dial_mode']!r}")
    mobile = clean.get("mobile_dial_mode", "")
    if mobile and str(mobile) not in DIAL_MODES:
        raise InvalidInput(f"mobile_dial_mode must be empty or one of {modes}, not {mobile!r}")
    if clean.get("max_lines_per_volunteer", 1) > MAX_LINES_PER_VOLUNTEER:
        raise InvalidInput(f"max_lines_per_volunteer must be at most {MAX_LINES_PER_VOLUNTEER}")
    if "abandon_target" in clean:
        target = clean["abandon_target"]
        if isinstance(target, bool) or not isinstance(target, int | float):
            raise InvalidInput("abandon_target must be a percentage, like 2.7")
        limit = 100.0 * ABANDON_LIMIT
        if not 0.1 <= target <= limit:
            raise InvalidInput(
                f"abandon_target must be between 0.1 and {limit:g} percent (the legal limit)"
            )
        clean["abandon_target"] = float(target)


def _check_amd(clean: dict[str, Any]) -> None:
    """The answering-machine detector must be one we have, its thresholds ones it knows."""
    engine = clean.get("amd_engine", "")
    if engine and engine not in AMD_ENGINES:
        engines = ", ".join(AMD_ENGINES)
        raise InvalidInput(f"amd_engine must be empty or one of {engines}, not {engine!r}")
    if "amd_thresholds" in clean:
        thresholds = clean["amd_thresholds"]
        if not isinstance(thresholds, dict):
            raise InvalidInput('amd_thresholds must be an object, like {"human_pause_ms": 400}')
        try:
            StreamingAmdSettings.from_mapping(thresholds)
        except ConfigError as exc:
            raise InvalidInput(f"amd_thresholds: {exc}") from None
