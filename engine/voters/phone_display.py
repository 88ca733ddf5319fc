"""Phone numbers as people read them: the `phone` filter of the page templates (web/pages.py)
and the call-in number on the volunteer's page.

    {{ voter.phone|phone }}           → "(415) 555-0134" for a number in the campaigns' region
    {{ number|phone("GB") }}          → the national format of another region

A number of another country is written in international format ("+44 20 7946 0958"); text
that is not a phone number is shown as it is.
"""

from __future__ import annotations

import phonenumbers


def format_phone(text: object, region: str) -> str:
    """``text`` (E.164 or as typed) formatted for reading by someone in ``region``."""
    raw = "" if text is None else str(text)
    try:
        number = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    if phonenumbers.region_code_for_number(number) == region.upper():
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
