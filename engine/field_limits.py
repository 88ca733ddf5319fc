"""How long each text a person types may be, and which characters it may hold.

Single-line fields (names, emails, phones, usernames) refuse every control character (NUL,
tabs, newlines...); free text (notes, messages) may hold newlines and tabs but no other
control character. Each check raises InvalidInput naming the field, its limit and how long the
text was, so the person can fix it.
"""

from __future__ import annotations

import unicodedata

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


def _length(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long: at most {limit:,} characters, not {len(value):,}")


def _is_control(ch: str) -> bool:
    """C0/C1 controls, DEL, line/paragraph separators and lone surrogates."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs")
