"""Converting between the domain dataclasses (engine.models) and PostgreSQL rows.

Datetimes are timestamptz (read back as aware UTC datetimes), enums their values, booleans
booleans, dicts and lists `json` (kept as written, so key order survives: voter-list columns
and survey answers are shown in their order), term codes {code, label, kind} objects.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from psycopg.types.json import Json

from engine.models import TermCode
from engine.store.fields import Kind, field_kinds, term_code, term_code_json

T = TypeVar("T")


def aware(when: datetime) -> datetime:
    """``when`` in UTC. Raises ValueError if it is naive."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {when!r}")
    return when.astimezone(UTC)


def utc(when: datetime) -> datetime:
    """A timestamptz read from the database as a datetime whose tzinfo is datetime.UTC."""
    return when.astimezone(UTC)


def maybe_utc(when: datetime | None) -> datetime | None:
    return None if when is None else when.astimezone(UTC)


def to_json(value: Any) -> Json:
    """A value for a `json` column."""
    return Json(value, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, TermCode):
        return term_code_json(value)
    if isinstance(value, datetime):
        return aware(value).isoformat(timespec="microseconds")
    raise TypeError(f"cannot store {type(value).__name__} as JSON: {value!r}")


def encode(value: Any) -> Any:
    """One Python value as a query parameter."""
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict | list | tuple):
        return to_json(value)
    return value


def encode_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: encode(value) for name, value in fields.items()}


def encode_record(obj: Any, without: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """A dataclass's fields (except ``without``) as query parameters."""
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
        return utc(value)
    if what == "enum":
        return target(value)
    if what == "term_codes":
        return [term_code(item) for item in value]
    return value  # json columns arrive parsed; booleans as bool
