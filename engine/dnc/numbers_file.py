"""Read a CSV (or plain list) of phone numbers for a do-not-call list. Pure; no store.

The phone column is the one whose header reads like a phone (any language the voter import
knows), else the first column whose first row holds a valid number; a first row without a
valid number is taken for a header. Every other line is a number or a line that is not one.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InvalidInput
from engine.voters.csv_rows import normalise_phone
from engine.voters.headers import FIELD_ALIASES
from engine.voters.line_types import header_key

MAX_BYTES = 20 * 1024 * 1024
_PHONE_HEADERS = frozenset(FIELD_ALIASES["phone"])
_TOO_LARGE = (
    f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it and upload the parts"
)


@dataclass
class NumbersFile:
    """What a file of numbers holds: valid numbers once each, in file order, and the lines
    that are not phone numbers."""

    phones: list[str] = field(default_factory=list)
    not_numbers: list[tuple[int, str]] = field(default_factory=list)
    """(line, text) of each line that is not a valid phone number."""
    repeated: int = 0
    """Lines with a number an earlier line already had."""


def read_numbers_file(path: Path, default_region: str = "US") -> NumbersFile:
    """read_numbers on a file, refused by its size before it is read. Raises InvalidInput."""
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInput(_TOO_LARGE)
    return read_numbers(path.read_bytes(), default_region)


def read_numbers(data: bytes, default_region: str = "US") -> NumbersFile:
    """The numbers in ``data``. Raises InvalidInput for an empty, binary or too large file."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(_TOO_LARGE)
    if b"\0" in data or data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InvalidInput("the file is not CSV text: save it as 'CSV UTF-8' and upload that")
    text = _decode(data)
    rows = [(n, row) for n, row in _rows(text) if any(cell.strip() for cell in row)]
    if not rows:
        raise InvalidInput("the file is empty: it has no phone numbers")
    column, start = _phone_column(rows, default_region)
    found = NumbersFile()
    seen: set[str] = set()
    for line, row in rows[start:]:
        cell = row[column].strip() if column < len(row) else ""
        phone = normalise_phone(cell, default_region) if cell else None
        if phone is None:
            found.not_numbers.append((line, cell or ", ".join(c for c in row if c.strip())))
        elif phone in seen:
            found.repeated += 1
        else:
            seen.add(phone)
            found.phones.append(phone)
    return found


def _phone_column(rows: list[tuple[int, list[str]]], region: str) -> tuple[int, int]:
    """(column, index of the first data row)."""
    first = [cell.strip() for cell in rows[0][1]]
    for index, cell in enumerate(first):
        if normalise_phone(cell, region):
            return index, 0
    named = [i for i, cell in enumerate(first) if header_key(cell) in _PHONE_HEADERS]
    return (named[0] if named else 0), 1


def _rows(text: str) -> list[tuple[int, list[str]]]:
    sample = text[:4096]
    delimiter = max(",;\t", key=sample.count) if any(d in sample for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        line = 1
        for row in reader:
            rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num} cannot be read as CSV: {exc}") from exc
    return rows


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
