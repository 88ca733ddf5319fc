"""Import a voter list from a CSV file into a campaign.

engine.voters.csv_rows reads the file; import_voters() feeds its rows to the store in batches. A bad
row never stops an import, while a file that cannot be read as a voter list at all raises
InvalidInput. The parsing names are re-exported here for callers that import them from this
module.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from engine.store.base import VoterInput
from engine.voters.csv_rows import (
    MAX_LINE_BYTES,
    PROGRESS_EVERY,
    SAMPLE_BYTES,
    Choices,
    Progress,
    RowError,
    Source,
    VoterFile,
    VoterRow,
    normalise_phone,
    open_voter_file,
    read_voter_rows,
    rejected_rows_csv,
    split_full_name,
)
from engine.voters.headers import FIELD_ALIASES, ColumnMapping, HeaderMap, map_headers

__all__ = [
    "FIELD_ALIASES",
    "MAX_KEPT_ERRORS",
    "MAX_LINE_BYTES",
    "PROGRESS_EVERY",
    "SAMPLE_BYTES",
    "Choices",
    "ColumnMapping",
    "HeaderMap",
    "ImportSummary",
    "Progress",
    "RowError",
    "Source",
    "VoterFile",
    "VoterRow",
    "VoterStore",
    "import_voters",
    "map_headers",
    "normalise_phone",
    "open_voter_file",
    "read_voter_rows",
    "rejected_rows_csv",
    "split_full_name",
]

MAX_KEPT_ERRORS = 10_000


class VoterStore(Protocol):
    """The part of engine.store.base.Store an import uses."""

    async def add_voters(self, campaign_id: int, rows: Iterable[VoterInput]) -> tuple[int, int]: ...

    async def dnc_phones(self, campaign_id: int) -> set[str]: ...


@dataclass
class ImportSummary:
    """What an import did. total_rows = imported + merged + dnc + invalid."""

    imported: int = 0
    """New voters that can be called."""
    merged: int = 0
    """Rows whose phone was already in the campaign (earlier in this file or before)."""
    dnc: int = 0
    """New voters on the campaign's or the global do-not-call list: stored, never called."""
    invalid: int = 0
    total_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    """The first MAX_KEPT_ERRORS row errors; errors_not_kept counts the rest."""
    errors_not_kept: int = 0
    elapsed_seconds: float = 0.0
    line_types: dict[str, int] = field(
        default_factory=lambda: {"mobile": 0, "landline": 0, "unknown": 0}
    )
    """Valid rows by line type (engine.voters.line_types), for campaigns that preview mobiles."""
    short_rows: int = 0
    """Valid rows that left out trailing columns (those fields are empty)."""
    header: tuple[str, ...] = ()
    encoding: str = ""
    delimiter: str = ","

    def rejected_rows_csv(self) -> str:
        return rejected_rows_csv(self.errors, self.header)

    def add_error(self, error: RowError) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(error)
        else:
            self.errors_not_kept += 1


async def import_voters(
    store: VoterStore,
    campaign_id: int,
    source: Source,
    *,
    default_region: str = "US",
    progress: Progress | None = None,
    batch_size: int = 1000,
    choices: Choices | None = None,
) -> ImportSummary:
    """Import a CSV voter list into a campaign, batch by batch.

    Parsing runs in a worker thread so the event loop keeps dialing; ``progress`` is called on
    the loop after each batch; ``choices`` is the operator's column mapping (VoterFile).
    Raises InvalidInput if the file is not a usable voter list (see
    VoterFile) and OSError if the path cannot be read; bad rows only end up in the summary.
    """
    started = time.monotonic()
    dnc_phones = await store.dnc_phones(campaign_id)
    with open_voter_file(source, default_region, choices) as voter_file:
        summary = ImportSummary(
            header=voter_file.header_map.headers,
            encoding=voter_file.encoding,
            delimiter=voter_file.delimiter,
        )
        rows = voter_file.rows()
        while batch := await asyncio.to_thread(lambda: list(islice(rows, batch_size))):
            await _store_batch(store, campaign_id, batch, dnc_phones, summary)
            if progress is not None:
                progress(summary.total_rows, voter_file.bytes_done, voter_file.bytes_total)
        summary.short_rows = voter_file.short_rows
    summary.elapsed_seconds = time.monotonic() - started
    return summary


async def _store_batch(
    store: VoterStore,
    campaign_id: int,
    batch: list[VoterRow | RowError],
    dnc_phones: set[str],
    summary: ImportSummary,
) -> None:
    """Add one batch; do-not-call rows go in a call of their own so they can be counted."""
    callable_rows: list[VoterRow] = []
    dnc_rows: list[VoterRow] = []
    for row in batch:
        if isinstance(row, RowError):
            summary.add_error(row)
        else:
            (dnc_rows if row.phone in dnc_phones else callable_rows).append(row)
            summary.line_types[row.line_type or "unknown"] += 1
    summary.total_rows += len(batch)
    for rows, is_dnc in ((callable_rows, False), (dnc_rows, True)):
        if rows:
            inserted, merged = await store.add_voters(campaign_id, rows)
            summary.merged += merged
            if is_dnc:
                summary.dnc += inserted
            else:
                summary.imported += inserted
