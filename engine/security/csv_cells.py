"""CSV cells a spreadsheet will not run as formulas (OWASP CSV injection advice), for every
CSV phonebank hands out: the results export and the rejected rows of a list import.

A cell starting with ``= + - @``, tab or CR is prefixed with ``'``. The check is made on the
NFKC form of the text, so fullwidth ``＝＋－＠`` (which some spreadsheets read as their ASCII
twins) are caught too; the cell itself keeps its characters.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
"""A phone number in E.164 or a negative number: a spreadsheet reads it as a number, never as
a formula, so it is exported as it is."""


def safe_cell(value: Any) -> str:
    """``value`` as CSV cell text a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, dict | list)
        else str(value)
    )
    folded = unicodedata.normalize("NFKC", text)
    if folded.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(folded):
        return "'" + text
    return text
