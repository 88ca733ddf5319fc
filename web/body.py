"""Reading JSON request bodies: one object, fields checked by name, errors that say which."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from web.errors import BadJson, FieldError

Body = dict[str, Any]


MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a body may have: ours are at most three deep."""


async def read_json(request: web.Request, *, allow_empty: bool = False) -> Body:
    """The request body as a JSON object.

    Raises BadJson when the body is empty (unless ``allow_empty``: then ``{}``), is not
    UTF-8, is not valid JSON (the message gives the parser's complaint and its position),
    is nested deeper than MAX_DEPTH, holds text that is not valid Unicode (a lone
    surrogate such as ``"\\ud800"``) or is not an object.
    """
    try:
        text = (await request.read()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(
            f"the request body is not valid UTF-8 text (byte {exc.start + 1}): send JSON as UTF-8"
        ) from None
    if not text.strip():
        if allow_empty:
            return {}
        raise BadJson("the request body is empty: send a JSON object")
    body = _parse(text)
    if not isinstance(body, dict):
        raise BadJson(f"the request body must be a JSON object, not {_json_type(body)}")
    _check_tree(body)
    return body


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJson(
            f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise BadJson(_TOO_DEEP) from None


_TOO_DEEP = f"the request body is nested too deeply: at most {MAX_DEPTH} levels are allowed"


def _check_tree(body: Body) -> None:
    """Raises BadJson for nesting beyond MAX_DEPTH or text that is not valid Unicode."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadJson(_TOO_DEEP)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key)
                pending.append((item, depth + 1))


def _check_text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadJson(
            f"the request body holds text that is not valid Unicode "
            f"(a lone surrogate, {value[exc.start]!a}): send real characters"
        ) from None


def text(body: Body, name: str, *, strip: bool = True) -> str:
    """A required string field, trimmed unless not ``strip`` (passwords). Raises FieldError
    when missing, blank or not text."""
    value = body.get(name)
    if value is None or value == "":
        raise FieldError(name, f"'{name}' is required")
    if not isinstance(value, str):
        raise FieldError(name, f"'{name}' must be a string, not {_json_type(value)}")
    value = value.strip() if strip else value
    if not value.strip():
        raise FieldError(name, f"'{name}' is required")
    return value


def optional_text(body: Body, name: str, default: str = "") -> str:
    """A string field that may be missing or null (then ``default``), trimmed."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise FieldError(name, f"'{name}' must be a string, not {_json_type(value)}")
    return value.strip()


def optional_id(body: Body, name: str) -> int | None:
    """A field holding a record id (a whole number), or None when missing or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(name, f"'{name}' must be a whole number, not {_json_type(value)}")
    return value


def id_or_name(body: Body, name: str) -> int | str:
    """A field naming a record either by id (a whole number) or by name (a string)."""
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is not None and not isinstance(value, str):
        raise FieldError(name, f"'{name}' must be an id (a whole number) or a name")
    return text(body, name)


def mapping(body: Body, name: str) -> dict[str, Any]:
    """An object field; missing or null is ``{}``."""
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(name, f"'{name}' must be an object, not {_json_type(value)}")
    return value


def choice(body: Body, name: str, choices: tuple[str, ...]) -> str | None:
    """One of ``choices``, or None when missing or null."""
    value = body.get(name)
    if value is None:
        return None
    if value not in choices:
        raise FieldError(name, f"'{name}' must be one of {', '.join(choices)} or null")
    return str(value)


def query_int(request: web.Request, name: str, default: int | None = None) -> int | None:
    """A whole number from the query string, or ``default`` when absent."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise FieldError(name, f"'{name}' must be a whole number, not '{raw}'") from None


def _json_type(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
