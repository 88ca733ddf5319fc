"""What both stores need to turn rows into the domain dataclasses (engine.models): which kind of
value each field holds, and term codes from their stored form. The SQLite store's rows.py and
the PostgreSQL store's rows.py each encode and decode those kinds their own way."""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from engine.models import TermCode, TermCodeKind

Kind = Literal["time", "enum", "json", "bool", "term_codes", "plain"]


def term_code(value: TermCode | Mapping[str, Any]) -> TermCode:
    """A TermCode from itself or from a {code, label, kind} dict (raises KeyError/ValueError)."""
    if isinstance(value, TermCode):
        return value
    return TermCode(str(value["code"]), str(value["label"]), TermCodeKind(value["kind"]))


def term_code_json(value: TermCode) -> dict[str, str]:
    """A TermCode as stored in JSON."""
    return {"code": value.code, "label": value.label, "kind": value.kind.value}


@functools.cache
def field_kinds(cls: type) -> dict[str, tuple[Kind, Any]]:
    """Each field of dataclass ``cls`` with its kind (and, for an enum, its class)."""
    hints = typing.get_type_hints(cls)
    return {f.name: _kind(hints[f.name]) for f in dataclasses.fields(cls)}


def _kind(hint: Any) -> tuple[Kind, Any]:
    if isinstance(hint, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not types.NoneType]
    if hint is datetime:
        return ("time", None)
    if hint is bool:
        return ("bool", None)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return ("enum", hint)
    if typing.get_origin(hint) is list and typing.get_args(hint) == (TermCode,):
        return ("term_codes", None)
    if typing.get_origin(hint) in (list, dict):
        return ("json", None)
    return ("plain", None)
