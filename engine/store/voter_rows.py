"""How both stores merge an imported voter row into one they already have: the columns an
import fills, a row as a record of them, and the merge rule (blank fields filled, extra fields
added; status and attempts are the store's own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.models import VOTER_FIELDS
from engine.store.base import VoterInput

MERGED_FIELDS = tuple(name for name in VOTER_FIELDS if name != "phone")
"""The voter columns an import writes besides the phone, in VOTER_FIELDS order."""
TEXT_FIELDS = tuple(name for name in MERGED_FIELDS if name not in ("age", "extra", "source_line"))


def import_record(row: VoterInput) -> dict[str, Any]:
    """The MERGED_FIELDS of one import row (text fields never None; extra a new dict)."""
    record: dict[str, Any] = {name: str(getattr(row, name) or "") for name in TEXT_FIELDS}
    record.update(age=row.age, extra=dict(row.extra), source_line=row.source_line)
    return record


def merge(target: dict[str, Any], new: dict[str, Any]) -> bool:
    """Fill target's blank fields and extra values from ``new``; True if anything changed."""
    changed = False
    for name in (*TEXT_FIELDS, "age", "source_line"):
        if target[name] in ("", None) and new[name] not in ("", None):
            target[name] = new[name]
            changed = True
    for key, value in new["extra"].items():
        if key not in target["extra"] or (value and not target["extra"][key]):
            target["extra"][key] = value
            changed = True
    return changed


@dataclass
class SplitBatch:
    """One import batch sorted out against the voters the campaign already has."""

    new: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Records to insert, by phone (rows repeating a phone merged into the first)."""
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Existing voters' records that the batch filled in, by phone (each has its "id")."""
    merged: int = 0
    """Rows merged into a voter already there or earlier in the batch."""


def split_batch(batch: Sequence[VoterInput], existing: Mapping[str, dict[str, Any]]) -> SplitBatch:
    """Which rows of ``batch`` are new voters and which fill in ``existing`` ones (records by
    phone, with their MERGED_FIELDS; those merged into are changed in place)."""
    split = SplitBatch()
    for row in batch:
        record = import_record(row)
        if row.phone in split.new:
            merge(split.new[row.phone], record)
            split.merged += 1
        elif row.phone in existing:
            if merge(existing[row.phone], record):
                split.changed[row.phone] = existing[row.phone]
            split.merged += 1
        else:
            split.new[row.phone] = record
    return split
