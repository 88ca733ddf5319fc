"""The operator's results table (filtered by term code, outcome and volunteer) with the CSV
export (the do-not-call pages are web/operator/dnc.py)."""

from __future__ import annotations

import re

from aiohttp import web

from engine.models import CallOutcome
from web.appkeys import engine_of
from web.operator.auth import OperatorSession, operator_page
from web.operator.render import load_campaign, page

MAX_ROWS = 500
"""Rows shown in the table; the CSV export has them all."""
COLUMNS = ("first_name", "last_name", "phone", "outcome", "term_code", "volunteer", "notes")
FILTERS = ("term_code", "outcome", "volunteer")


@operator_page
async def results(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    chosen = {key: request.query.get(key, "") for key in FILTERS}
    rows: list[dict[str, str]] = []
    matched = 0
    volunteers: set[str] = set()
    async for row in engine_of(request).store.results(campaign.id):
        volunteers.add(str(row.get("volunteer") or ""))
        if all(not want or str(row.get(key) or "") == want for key, want in chosen.items()):
            matched += 1
            if len(rows) < MAX_ROWS:
                rows.append({key: "" if row.get(key) is None else str(row[key]) for key in COLUMNS})
    context = {
        "campaign": campaign,
        "rows": rows,
        "matched": matched,
        "chosen": chosen,
        "max_rows": MAX_ROWS,
        "term_codes": campaign.term_codes,
        "outcomes": [str(o) for o in CallOutcome],
        "volunteers": sorted(v for v in volunteers if v),
    }
    return page(request, session, "operator/results.html", context)


@operator_page
async def results_csv(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    """Every result as CSV (OperatorService.results_csv: safe to open in a spreadsheet)."""
    campaign = await load_campaign(request)
    slug = re.sub(r"[^a-z0-9]+", "-", campaign.name.lower()).strip("-") or "campaign"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{slug}-results.csv"',
            "Cache-Control": "no-store",
        }
    )
    chunks = engine_of(request).operators.results_csv(session.username, campaign.id)
    first = await anext(chunks)
    await response.prepare(request)
    await response.write(first.encode())
    async for chunk in chunks:
        await response.write(chunk.encode())
    await response.write_eof()
    return response
