"""Which column of a voter list holds which voter field: header spellings (English, Spanish,
French, German), the operator's own choices from the upload preview, the mapping an operator
checks before importing, and what the list lacks. Pure; no file reading."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.errors import InvalidInput
from engine.models import VOTER_CARD_FIELDS
from engine.voters.line_types import LINE_TYPE_HEADERS, MOBILE_FLAG_HEADERS, header_key

# fmt: off
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first", "firstname", "fname", "givenname",
        "nombre", "primernombre", "prenom", "vorname", "rufname",
    ),
    "last_name": (
        "last", "lastname", "surname", "lname", "familyname",
        "apellido", "apellidos", "primerapellido", "nom", "nomdefamille", "nachname",
        "familienname",
    ),
    "name": (
        "name", "fullname",
        "nombrecompleto", "nomcomplet", "vollstandigername", "vollername",
    ),
    "phone": (
        "phone", "phonenumber", "telephone", "tel", "cell", "mobile", "phone1",
        "primaryphone", "number", "cellphone", "mobilephone",
        "telefono", "numerodetelefono", "celular", "movil", "numero",
        "numerodetelephone", "portable", "telefon", "telefonnummer", "handy", "mobiltelefon",
        "rufnummer",
    ),
    "address": (
        "address", "street", "address1", "streetaddress", "addr",
        "direccion", "domicilio", "calle", "adresse", "rue", "strasse", "anschrift",
    ),
    "city": (
        "city", "town", "ciudad", "localidad", "municipio", "ville", "commune", "stadt", "ort",
    ),
    "state": (
        "state", "st", "province",
        "estado", "provincia", "region", "departement", "bundesland", "land",
    ),
    "zip": (
        "zip", "zipcode", "postalcode", "postcode", "zip5",
        "codigopostal", "cp", "codepostal", "plz", "postleitzahl",
    ),
    "party": ("party", "affiliation", "partyaffiliation", "partido", "parti", "partei"),
    "age": ("age", "edad", "alter"),
}
# fmt: on
"""Header spellings per voter field, compared after dropping case, accents, spaces and
punctuation (engine.voters.line_types.header_key)."""

TARGET_LABELS: dict[str, str] = {
    "phone": "Phone",
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Full name (first and last)",
    "address": "Address",
    "city": "City",
    "state": "State",
    "zip": "ZIP",
    "party": "Party",
    "age": "Age",
    "line_type": "Line type (mobile or landline)",
    "mobile_flag": "Is a mobile (yes/no)",
    "extra": "Keep as an extra field",
    "ignore": "Ignore this column",
}
"""What a column can be used as (the values of an import's ``mapping``), with their labels."""

_SINGLE = frozenset(TARGET_LABELS) - {"phone", "extra", "ignore"}
"""Targets at most one column can have."""
_FIELD_OF = {alias: name for name, aliases in FIELD_ALIASES.items() for alias in aliases}
_NAME_PARTS = frozenset({"first_name", "last_name"})


@dataclass(frozen=True)
class ColumnMapping:
    """How one header column is used, for an operator to check before importing."""

    header: str
    target: str
    """One of TARGET_LABELS."""
    note: str = ""


@dataclass(frozen=True)
class HeaderMap:
    """Which column holds which voter field; every other column goes to ``extra`` unless the
    operator chose to ignore it."""

    headers: tuple[str, ...]
    columns: dict[str, int]
    """Field name (including "name" for a full name to split) -> column index."""
    phone_columns: tuple[int, ...]
    """Every phone column in order; a row uses the first that is not blank."""
    extra: dict[int, str]
    """Column index -> key in Voter.extra."""
    line_type_column: int | None = None
    """A column naming each number's line type ("cell", "landline"…)."""
    mobile_flag_column: int | None = None
    """A yes/no column saying whether each number is a mobile (used when there is no
    line-type column, or where it is blank)."""
    ignored: frozenset[int] = frozenset()
    """Columns the operator chose to leave out."""

    def describe(self) -> list[ColumnMapping]:
        """The mapping column by column, in header order."""
        field_at = {index: name for name, index in self.columns.items()}
        return [self._describe(i, h, field_at.get(i)) for i, h in enumerate(self.headers)]

    def _describe(self, index: int, header: str, name: str | None) -> ColumnMapping:
        if name == "name":
            return ColumnMapping(header, "name", "split before the last word")
        if name is not None:
            return ColumnMapping(header, name)
        if index == self.line_type_column:
            return ColumnMapping(header, "line_type", "mobile or landline (cell, wireless, home…)")
        if index == self.mobile_flag_column:
            return ColumnMapping(header, "mobile_flag", "yes: mobile, no: landline")
        if index in self.ignored:
            return ColumnMapping(header, "ignore", "not imported")
        note = f"kept as {self.extra[index]!r}"
        if index in self.phone_columns:
            note += "; used as the phone when the earlier phone columns are blank"
        return ColumnMapping(header, "extra", note)

    def missing(self) -> list[str]:
        """Voter fields no column provides."""
        found = set(self.columns)
        if "name" in found:
            found |= _NAME_PARTS
        return [name for name in VOTER_CARD_FIELDS if name not in found]


def map_headers(headers: Sequence[str], chosen: Mapping[int, str] | None = None) -> HeaderMap:
    """Match header texts to voter fields; the first column of each field wins.

    ``chosen`` (column index -> one of TARGET_LABELS) is what the operator picked; it wins
    over the recognised headers, and a recognised column whose field was chosen for another
    column is kept as an extra field. A full-name column is used only when there is no first
    or last name column (unless it was chosen). Raises InvalidInput for choices that
    contradict each other.
    """
    headers = tuple(h.strip() for h in headers)
    keys = [header_key(header) for header in headers]
    chosen = dict(chosen or {})
    _check_choices(chosen, headers)
    targets = [chosen.get(i) or _FIELD_OF.get(key, "extra") for i, key in enumerate(keys)]
    _yield_to_choices(targets, chosen)
    for kind, names in (("line_type", LINE_TYPE_HEADERS), ("mobile_flag", MOBILE_FLAG_HEADERS)):
        if kind not in targets:
            free = (i for i, k in enumerate(keys) if i not in chosen and targets[i] == "extra")
            index = next((i for i in free if keys[i] in names), None)
            if index is not None:
                targets[index] = kind
    return _header_map(headers, targets)


def _check_choices(chosen: Mapping[int, str], headers: Sequence[str]) -> None:
    seen: dict[str, int] = {}
    for index, target in sorted(chosen.items()):
        if target not in TARGET_LABELS:
            raise InvalidInput(
                f"column {index + 1} cannot be used as {target!r}: choose one of "
                + ", ".join(TARGET_LABELS)
            )
        if target in _SINGLE and target in seen:
            raise InvalidInput(
                f"two columns are chosen as {TARGET_LABELS[target]!r}:"
                f" {_column(seen[target], headers)} and {_column(index, headers)}; choose one"
            )
        seen[target] = index
    if "name" in seen and _NAME_PARTS & seen.keys():
        raise InvalidInput(
            "choose either a full-name column or first and last name columns, not both"
        )


def _yield_to_choices(targets: list[str], chosen: Mapping[int, str]) -> None:
    """Turn recognised columns that clash with the choices (or with an earlier column of the
    same field) into extra fields."""
    taken = {t for t in chosen.values() if t in _SINGLE or t == "phone"}
    if "name" in taken:
        taken |= _NAME_PARTS
    seen: set[str] = set()
    for index, target in enumerate(targets):
        if index in chosen:
            seen.add(target)
        elif target in taken or (target in _SINGLE and target in seen):
            targets[index] = "extra"
        else:
            seen.add(target)
    if "name" in seen and _NAME_PARTS & seen:
        targets[targets.index("name")] = "extra"


def _header_map(headers: tuple[str, ...], targets: list[str]) -> HeaderMap:
    columns: dict[str, int] = {}
    phones: list[int] = []
    extra: dict[int, str] = {}
    special: dict[str, int] = {}
    for index, target in enumerate(targets):
        if target == "phone":
            phones.append(index)
            if "phone" in columns:
                target = "extra"  # a later phone column: kept, and used when the first is blank
        if target in ("line_type", "mobile_flag"):
            special[target] = index
        elif target == "extra":
            key = headers[index] or f"column {index + 1}"
            extra[index] = key if key not in extra.values() else f"{key} ({index + 1})"
        elif target != "ignore":
            columns[target] = index
    return HeaderMap(
        headers,
        columns,
        tuple(phones),
        extra,
        special.get("line_type"),
        special.get("mobile_flag"),
        frozenset(i for i, t in enumerate(targets) if t == "ignore"),
    )


def _column(index: int, headers: Sequence[str]) -> str:
    header = headers[index] if index < len(headers) else ""
    return f"column {index + 1} ({header!r})" if header else f"column {index + 1}"


def resolve_choices(choices: Mapping[str, str], headers: Sequence[str]) -> dict[int, str]:
    """The operator's mapping (column -> target) by column index. A key that is a whole
    number is a column's position (1 = the first column); any other key is a header text,
    compared like recognised headers (case, accents, spaces and punctuation aside).

    Raises InvalidInput for a column the file does not have, or a header that several
    columns share (name those by position)."""
    keys = [header_key(h) for h in headers]
    resolved: dict[int, str] = {}
    for key, target in choices.items():
        text = str(key).strip()
        if text.isdigit():
            index = int(text) - 1
            if not 0 <= index < len(headers):
                raise InvalidInput(
                    f"the mapping names column {text}, but the file has {len(headers)} columns"
                )
        else:
            matches = [i for i, k in enumerate(keys) if k and k == header_key(text)]
            if not matches:
                names = ", ".join(repr(h) for h in headers if h)
                raise InvalidInput(
                    f"the mapping names a column {text!r} the file does not have (its columns:"
                    f" {names})"
                )
            if len(matches) > 1:
                raise InvalidInput(
                    f"several columns are headed {text!r}: name them by position (1, 2, …)"
                )
            index = matches[0]
        resolved[index] = str(target).strip()
    return resolved
