"""Mobile or landline: what kind of line a voter's number is, and which dial mode reaches it.

US rules treat autodialed calls to mobiles differently from calls to landlines, so a campaign
may let the dialer place landline calls on its own while a volunteer places each mobile call
by hand (preview). A list often says which numbers are mobiles (a line-type column, or a
cell flag); otherwise phonenumbers tells fixed from mobile for many regions, though hardly
ever for the US and Canada, whose numbers share one numbering plan (FIXED_LINE_OR_MOBILE).

Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

from engine.models import AUTOMATIC_MODES, Campaign, DialMode, LineType, MobileDialMode

MOBILE: Final = LineType.MOBILE
LANDLINE: Final = LineType.LANDLINE
UNKNOWN: Final = LineType.UNKNOWN
LINE_TYPES: Final = frozenset({MOBILE, LANDLINE, UNKNOWN})

# fmt: off
LINE_TYPE_HEADERS: Final = (
    "linetype", "phonetype", "line", "numbertype", "phonelinetype", "telephonetype",
    "devicetype", "phonekind", "typeofphone", "phone1type", "primaryphonetype",
)
"""Headers of a column naming the line type ("cell", "landline"…), compared after dropping
case, spaces and punctuation (as engine.voters.csv_rows does)."""

MOBILE_FLAG_HEADERS: Final = (
    "iscell", "cellflag", "iscellphone", "ismobile", "mobileflag", "iswireless", "wireless",
    "wirelessflag", "cellphoneflag", "cellular", "iscellular",
)
"""Headers of a yes/no column saying whether the number is a mobile."""

_MOBILE_WORDS: Final = frozenset({
    "mobile", "cell", "cellular", "cellphone", "wireless", "mobilephone", "smartphone",
    "m", "c", "w", "cel", "mob",
})
_LANDLINE_WORDS: Final = frozenset({
    "landline", "land", "fixed", "fixedline", "home", "homephone", "wired", "wireline",
    "residential", "business", "work", "office", "l", "h", "pots",
})
_YES: Final = frozenset({"y", "yes", "true", "t", "1", "x"})
_NO: Final = frozenset({"n", "no", "false", "f", "0"})
# fmt: on
_NOT_A_LETTER = re.compile(r"[\W_]+")


def header_key(header: str) -> str:
    """A header without case, accents, spaces or punctuation: "Phone Type" → "phonetype",
    "Código postal" → "codigopostal"."""
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_A_LETTER.sub("", plain)


def listed_line_type(value: str) -> LineType | None:
    """The line type a line-type column states ("Cell" → mobile, "Home" → landline), or None
    when the value says nothing we understand (blank, "VoIP", "unknown")."""
    word = header_key(value)
    if word in _MOBILE_WORDS:
        return MOBILE
    if word in _LANDLINE_WORDS:
        return LANDLINE
    return None


def flagged_line_type(value: str) -> LineType | None:
    """The line type a yes/no mobile-flag column states ("Y" → mobile, "N" → landline), or
    None for a blank or unreadable flag."""
    word = value.strip().casefold()
    if word in _YES:
        return MOBILE
    if word in _NO:
        return LANDLINE
    return None


def number_line_type(phone: str | PhoneNumber) -> LineType:
    """The line type phonenumbers knows from the number itself (E.164 text, or already
    parsed): MOBILE → mobile, FIXED_LINE → landline; anything else (FIXED_LINE_OR_MOBILE —
    almost every US number —, VoIP, pagers, an unparsable number) → unknown."""
    if isinstance(phone, str):
        try:
            phone = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            return UNKNOWN
    kind = phonenumbers.number_type(phone)
    if kind == PhoneNumberType.MOBILE:
        return MOBILE
    if kind == PhoneNumberType.FIXED_LINE:
        return LANDLINE
    return UNKNOWN


def line_type(phone: str | PhoneNumber, listed: LineType | None = None) -> LineType:
    """The voter's line type: what the list says (``listed``, from listed_line_type or
    flagged_line_type) when it says something, else what the number tells."""
    return listed if listed is not None else number_line_type(phone)


def _mobiles_by_hand(campaign: Campaign) -> bool:
    """Landlines are autodialed while mobiles wait for a volunteer to press Call."""
    return (
        campaign.dial_mode in AUTOMATIC_MODES
        and campaign.mobile_dial_mode == MobileDialMode.PREVIEW
    )


def _mobile_like(campaign: Campaign) -> frozenset[LineType]:
    """The line types that follow the campaign's mobile dial mode."""
    return frozenset({MOBILE, UNKNOWN}) if campaign.unknown_lines_as_mobile else frozenset({MOBILE})


def automatic_line_types(campaign: Campaign) -> frozenset[LineType] | None:
    """Which voters' line types the automatic dialer may call: None for any.

    A preview campaign has none (every call is placed by a volunteer). A campaign whose
    mobiles are previewed autodials landlines only, and numbers of unknown type too unless
    ``unknown_lines_as_mobile`` (the cautious default) says to treat them as mobiles.
    """
    if campaign.dial_mode == DialMode.PREVIEW:
        return frozenset()
    if _mobiles_by_hand(campaign):
        return LINE_TYPES - _mobile_like(campaign)
    return None


def preview_line_types(campaign: Campaign) -> frozenset[LineType]:
    """Which voters' line types volunteers call by hand (the complement of
    automatic_line_types): all of them in a preview campaign, the mobiles (and maybe the
    unknown) when mobiles are previewed, else none."""
    if campaign.dial_mode == DialMode.PREVIEW:
        return LINE_TYPES
    if _mobiles_by_hand(campaign):
        return _mobile_like(campaign)
    return frozenset()
