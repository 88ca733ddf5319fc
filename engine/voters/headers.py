"""Which column of a voter list holds which voter field: header spellings, the mapping an
operator checks before importing, and what the list lacks. Pure; no file reading."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.models import VOTER_CARD_FIELDS
from engine.voters.line_types import LINE_TYPE_HEADERS, MOBILE_FLAG_HEADERS, header_key

# fmt: off
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("first", "firstname", "fname", "givenname"),
    "last_name": ("last", "lastname", "surname", "lname", "familyname"),
    "name": ("name", "fullname"),
    "phone": (
        "phone", "phonenumber", "telephone", "tel", "cell", "mobile", "phone1",
        "primaryphone", "number", "cellphone", "mobilephone",
    ),
    "address": ("address", "street", "address1", "streetaddress", "addr"),
    "city": ("city", "town"),
    "state": ("state", "st", "province"),
    "zip": ("zip", "zipcode", "postalcode", "postcode", "zip5"),
    "party": ("party", "affiliation", "partyaffiliation"),
    "age": ("age",),
}
# fmt: on
"""Header spellings per voter field, compared after dropping case, spaces and punctuation."""

_FIELD_OF = {alias: name for name, aliases in FIELD_ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMapping:
    """How one header column is used, for an operator to check before importing."""

    header: str
    target: str
    """A voter field, "first_name + last_name" for a full name, or "extra"."""
    note: str = ""


@dataclass(frozen=True)
class HeaderMap:
    """Which column holds which voter field; every other column goes to ``extra``."""

    headers: tuple[str, ...]
    columns: dict[str, int]
    """Field name (including "name" for a full name to split) -> column index."""
    phone_columns: tuple[int, ...]
    """Every phone-like column in order; a row uses the first that is not blank."""
    extra: dict[int, str]
    """Column index -> key in Voter.extra."""
    line_type_column: int | None = None
    """A column naming each number's line type ("cell", "landline"…)."""
    mobile_flag_column: int | None = None
    """A yes/no column saying whether each number is a mobile (used when there is no
    line-type column, or where it is blank)."""

    def describe(self) -> list[ColumnMapping]:
        """The mapping column by column, in header order."""
        field_at = {index: name for name, index in self.columns.items()}
        return [self._describe(i, h, field_at.get(i)) for i, h in enumerate(self.headers)]

    def _describe(self, index: int, header: str, name: str | None) -> ColumnMapping:
        if name == "name":
            return ColumnMapping(header, "first_name + last_name", "split before the last word")
        if name is not None:
            return ColumnMapping(header, name)
        if index == self.line_type_column:
            return ColumnMapping(header, "line_type", "mobile or landline (cell, wireless, home…)")
        if index == self.mobile_flag_column:
            return ColumnMapping(header, "line_type", "yes: mobile, no: landline")
        note = f"kept as {self.extra[index]!r}"
        if index in self.phone_columns:
            note += "; used as the phone when the earlier phone columns are blank"
        return ColumnMapping(header, "extra", note)

    def missing(self) -> list[str]:
        """Voter fields no column provides."""
        found = set(self.columns)
        if "name" in found:
            found |= {"first_name", "last_name"}
        return [name for name in VOTER_CARD_FIELDS if name not in found]


def map_headers(headers: Sequence[str]) -> HeaderMap:
    """Match header texts to voter fields; the first column of each field wins.

    A full-name column is used only when there is no first or last name column.
    """
    headers = tuple(h.strip() for h in headers)
    keys = [header_key(header) for header in headers]
    columns: dict[str, int] = {}
    phones: list[int] = []
    for index, key in enumerate(keys):
        name = _FIELD_OF.get(key)
        if name == "phone":
            phones.append(index)
        if name is not None:
            columns.setdefault(name, index)
    if "name" in columns and ({"first_name", "last_name"} & columns.keys()):
        del columns["name"]
    line_type_column = _first_column(keys, LINE_TYPE_HEADERS, columns.values())
    mobile_flag_column = _first_column(keys, MOBILE_FLAG_HEADERS, columns.values())
    extra: dict[int, str] = {}
    used = {*columns.values(), line_type_column, mobile_flag_column}
    for index, header in enumerate(headers):
        if index not in used:
            key = header or f"column {index + 1}"
            extra[index] = key if key not in extra.values() else f"{key} ({index + 1})"
    return HeaderMap(headers, columns, tuple(phones), extra, line_type_column, mobile_flag_column)


def _first_column(keys: list[str], names: tuple[str, ...], taken: Iterable[int]) -> int | None:
    """The first column whose header key is one of ``names`` and that no field took."""
    used = set(taken)
    return next((i for i, key in enumerate(keys) if key in names and i not in used), None)
