"""The results export as CSV text chunks (engine/reports/export_columns.py for the columns):
the header row always, even before the first result; every cell safe to open in a
spreadsheet (engine/security/csv_cells.py); read from the store a page at a time and handed
out in chunks, so a large campaign is streamed, never held in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from engine.models import Campaign
from engine.reports.answers import questions, with_unknown
from engine.reports.export_columns import Choices, export_columns, export_row
from engine.reports.time_zone import campaign_zone
from engine.security.csv_cells import safe_cell
from engine.store.base import Store
from engine.store.result_rows import ResultFilter

CHUNK = 65536
"""Characters gathered before a chunk is handed out."""


async def results_csv(
    store: Store, campaign: Campaign, choices: Choices, where: ResultFilter | None = None
) -> AsyncIterator[str]:
    """The results ``where`` matches (all when None), oldest first, as CSV chunks."""
    zone = campaign_zone(campaign, await store.voter_zones(campaign.id))
    answered = await store.result_answer_keys(campaign.id)
    survey = with_unknown(questions(campaign.survey), answered)
    columns = export_columns(survey, await store.result_extra_keys(campaign.id), choices)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(column.name) for column in columns])
    async for record in store.result_records(campaign.id, where):
        row = export_row(columns, survey, campaign.term_codes, record, zone)
        writer.writerow([safe_cell(cell) for cell in row])
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
