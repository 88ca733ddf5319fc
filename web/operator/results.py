"""The operator's results table (filtered by term code, outcome and volunteer) with the CSV
export, and the do-not-call list (add; remove after a confirmation page)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from aiohttp import web

from engine.errors import InvalidInput, NotFound
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


def _campaign_filter(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@operator_page
async def dnc_page(request: web.Request, session: OperatorSession) -> web.Response:
    return await _dnc(request, session, "", "")


async def _dnc(
    request: web.Request, session: OperatorSession, error: str, done: str, status: int = 200
) -> web.Response:
    engine = engine_of(request)
    campaign_id = _campaign_filter(request.query.get("campaign_id", ""))
    campaigns = await engine.store.list_campaigns()
    context = {
        "entries": await engine.store.list_dnc(campaign_id),
        "campaigns": campaigns,
        "names": {c.id: c.name for c in campaigns},
        "campaign_id": campaign_id,
        "error": error,
        "done": done or request.query.get("done", ""),
    }
    return page(request, session, "operator/dnc.html", context, status)


@operator_page
async def add_dnc(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    form = await request.post()
    campaign_id = _campaign_filter(str(form.get("campaign_id", "")))
    try:
        phone = await engine_of(request).operators.add_dnc(
            session.username,
            str(form.get("phone", "")),
            campaign_id,
            str(form.get("reason", "")).strip() or "added by an operator",
        )
    except (InvalidInput, NotFound) as exc:
        return await _dnc(request, session, str(exc), "", 400)
    raise web.HTTPSeeOther(_back(campaign_id, f"added {phone}"))


@operator_page
async def confirm_remove(request: web.Request, session: OperatorSession) -> web.Response:
    """Ask before taking a number off a do-not-call list."""
    campaign_id = _campaign_filter(request.query.get("campaign_id", ""))
    name = ""
    if campaign_id is not None:
        name = (await engine_of(request).store.get_campaign(campaign_id)).name
    context = {"phone": request.query.get("phone", ""), "campaign_id": campaign_id, "name": name}
    return page(request, session, "operator/dnc_remove.html", context)


@operator_page
async def remove_dnc(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    form = await request.post()
    campaign_id = _campaign_filter(str(form.get("campaign_id", "")))
    phone = str(form.get("phone", ""))
    try:
        await engine_of(request).operators.remove_dnc(session.username, phone, campaign_id)
    except (InvalidInput, NotFound) as exc:
        return await _dnc(request, session, str(exc), "", 400)
    raise web.HTTPSeeOther(_back(campaign_id, f"removed {phone}"))


def _back(campaign_id: int | None, done: str) -> str:
    """The list's page, saying what was just done."""
    query = {"campaign_id": str(campaign_id)} if campaign_id else {}
    return "/operator/dnc?" + urlencode({**query, "done": done})
