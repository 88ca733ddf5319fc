"""The operator's Results page (tallies with a chart and the results with their answers,
filtered by dates, volunteer, term code and outcome) with the CSV export (the do-not-call
pages are web/operator/dnc.py)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from aiohttp import web

from engine.clock import utc_now
from engine.errors import InvalidInput
from engine.models import CallOutcome
from engine.reports.report import (
    PAGE_SIZE,
    ResultFilter,
    pages,
    report_zone,
    results_report,
)
from web.appkeys import engine_of
from web.operator.auth import OperatorSession, operator_page
from web.operator.render import load_campaign, page
from web.operator.report_params import (
    chosen_filters,
    export_options,
    page_offset,
    result_filter,
)


@operator_page
async def results(request: web.Request, session: OperatorSession) -> web.Response:
    """The campaign's results: tallies with their chart, then the results themselves, a page
    at a time, as the filters choose (engine/reports/report.py)."""
    campaign = await load_campaign(request)
    store = engine_of(request).store
    zone = await report_zone(store, campaign)
    chosen = chosen_filters(request.query)
    error = ""
    try:
        where = result_filter(chosen, zone)
    except InvalidInput as exc:
        error, where = str(exc), ResultFilter(since=utc_now(), until=utc_now())
    offset = page_offset(request.query)
    report = await results_report(store, campaign, zone, where, offset)
    previous, following = pages(report.matched, offset)
    base = f"/operator/campaigns/{campaign.id}/results"
    kept = {key: value for key, value in chosen.items() if value}
    context = {
        "campaign": campaign,
        "report": report,
        "chosen": chosen,
        "filtered": bool(kept),
        "error": error,
        "page_size": PAGE_SIZE,
        "previous": None
        if previous is None
        else f"{base}?{urlencode({**kept, 'offset': previous})}",
        "following": None
        if following is None
        else f"{base}?{urlencode({**kept, 'offset': following})}",
        "term_codes": campaign.term_codes,
        "outcomes": [str(o) for o in CallOutcome],
        "volunteers": await store.result_volunteers(campaign.id),
        "export_filtered": f"{base}.csv?{urlencode(kept)}",
    }
    return page(request, session, "operator/results.html", context, 400 if error else 200)


@operator_page
async def results_csv(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    """Every result as CSV (engine/reports/export.py: safe to open in a spreadsheet)."""
    campaign = await load_campaign(request)
    zone = await report_zone(engine_of(request).store, campaign)
    try:
        choices, where = export_options(request.query, zone)
    except InvalidInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    slug = re.sub(r"[^a-z0-9]+", "-", campaign.name.lower()).strip("-") or "campaign"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{slug}-results.csv"',
            "Cache-Control": "no-store",
        }
    )
    operators = engine_of(request).operators
    chunks = operators.results_csv(session.username, campaign.id, choices, where)
    first = await anext(chunks)
    await response.prepare(request)
    await response.write(first.encode())
    async for chunk in chunks:
        await response.write(chunk.encode())
    await response.write_eof()
    return response
