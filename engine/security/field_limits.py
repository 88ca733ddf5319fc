"""How long each text a person types may be, and which characters it may hold.

Single-line fields (names, emails, phones, usernames) refuse every control character (NUL,
tabs, newlines...); free text (notes, messages) may hold newlines and tabs but no other
control character. Each check raises InvalidInput naming the field, its limit and how long the
text was, so the person can fix it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from engine.errors import InvalidInput

VOLUNTEER_NAME = 100
EMAIL = 254
"""RFC 5321's limit on a forward path."""
PHONE = 32
LOGIN_ID = 64
PASSWORD = 256
OPERATOR_USERNAME = 64
CAMPAIGN_NAME = 100
CALLER_ID = 32
MESSAGE = 1000
"""Abandon and voicemail messages (spoken by espeak-ng to the voter)."""
NOTES = 5000
SCRIPT = 50_000
"""A campaign's call script (HTML with template fields)."""
ANSWER = 2000
"""One survey answer (a text answer, or each choice of a multiple-choice one)."""
ANSWERS_BYTES = 20_000
"""All of a result's survey answers, as JSON (UTF-8 bytes)."""
SURVEY_BYTES = 100_000
"""A campaign's survey definition, as JSON (UTF-8 bytes)."""
TERM_CODES_BYTES = 20_000
"""A campaign's term codes, as JSON (UTF-8 bytes)."""

_TEXT_CONTROLS_ALLOWED = {"\n", "\r", "\t"}


def line(field: str, value: str, limit: int) -> str:
    """``value`` if it is one line of at most ``limit`` characters; InvalidInput otherwise."""
    _length(field, value, limit)
    for ch in value:
        if _is_control(ch):
            raise InvalidInput(
                f"{field} must be one line of ordinary characters: it contains the control "
                f"character U+{ord(ch):04X}"
            )
    return value


def text(field: str, value: str, limit: int) -> str:
    """``value`` if it is at most ``limit`` characters with no control character but newlines
    and tabs; InvalidInput otherwise."""
    _length(field, value, limit)
    for ch in value:
        if ch not in _TEXT_CONTROLS_ALLOWED and _is_control(ch):
            raise InvalidInput(f"{field} contains the control character U+{ord(ch):04X}")
    return value


def json_size(field: str, value: Any, limit: int) -> None:
    """InvalidInput when ``value`` written as JSON is more than ``limit`` bytes."""
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "replace"))
    if size > limit:
        raise InvalidInput(f"{field} is too large: at most {limit:,} bytes as JSON, not {size:,}")


def answers(value: Mapping[str, Any]) -> None:
    """InvalidInput when a result's survey answers are too large in all, or one answer is
    longer than ANSWER characters (naming the question)."""
    json_size("answers", value, ANSWERS_BYTES)
    for question, answer in value.items():
        for item in answer if isinstance(answer, list) else [answer]:
            if isinstance(item, str):
                _length(f"the answer to '{question}'", item, ANSWER)


def _length(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long: at most {limit:,} characters, not {len(value):,}")


def _is_control(ch: str) -> bool:
    """C0/C1 controls, DEL, line/paragraph separators and lone surrogates."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs")
