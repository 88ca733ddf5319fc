"""Converting between the domain dataclasses (engine.models) and SQLite rows.

Datetimes are stored as ISO-8601 UTC strings with microseconds, so they sort as text; enums as
their values; dicts and lists as JSON; booleans as 0/1. Reading converts back by the field's type.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from engine.models import TermCode
from engine.store.fields import Kind, field_kinds, term_code, term_code_json

T = TypeVar("T")


def to_iso(when: datetime) -> str:
    """An aware datetime as UTC text that sorts correctly. Raises ValueError if naive."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {when!r}")
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, TermCode):
        return term_code_json(value)
    if isinstance(value, datetime):
        return to_iso(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON: {value!r}")


def encode(value: Any) -> Any:
    """One Python value as an SQLite value."""
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list | tuple):
        return to_json(value)
    return value


def encode_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: encode(value) for name, value in fields.items()}


def encode_record(obj: Any, without: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """A dataclass's fields (except ``without``) as SQLite values."""
    return {
        f.name: encode(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in without
    }


def decode(cls: type[T], row: Mapping[str, Any]) -> T:
    """Build dataclass ``cls`` from a row; columns that are not fields are ignored."""
    kinds = field_kinds(typing.cast(type, cls))
    values = {name: _decode_value(kinds[name], row[name]) for name in kinds if name in row}
    return cls(**values)


def _decode_value(kind: tuple[Kind, Any], value: Any) -> Any:
    what, target = kind
    if value is None:
        return None
    if what == "time":
        return from_iso(value)
    if what == "enum":
        return target(value)
    if what == "bool":
        return bool(value)
    if what == "json":
        return json.loads(value)
    if what == "term_codes":
        return [term_code(item) for item in json.loads(value)]
    return value
