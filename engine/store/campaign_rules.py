"""The campaign rules both stores apply the same way: which settings exist, how a name is
cleaned and compared, and the sentence for a name already taken."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.errors import Conflict, InvalidInput
from engine.models import Campaign
from engine.store.fields import term_code


def campaign_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as Campaign fields (term codes as TermCode). Raises TypeError naming any
    name that is not a Campaign field."""
    allowed = {f.name for f in dataclasses.fields(Campaign)} - {"id"}
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise TypeError(f"not campaign settings: {', '.join(unknown)}")
    fields = dict(settings)
    if "term_codes" in fields:
        fields["term_codes"] = [term_code(item) for item in fields["term_codes"]]
    return fields


def clean_name(name: str) -> str:
    """The name trimmed. Raises InvalidInput for a blank one."""
    name = name.strip()
    if not name:
        raise InvalidInput("A campaign needs a name.")
    return name


def name_key(name: str) -> str:
    """What campaign names are compared by: trimmed and case-folded."""
    return name.strip().casefold()


def name_taken(name: str) -> Conflict:
    return Conflict(f"A campaign named {name!r} already exists: choose another name.")
