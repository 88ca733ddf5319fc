"""The operator's do-not-call pages: the list of a campaign or the global one (who added each
number, by name), adding one number, removing one after a confirmation page, and adding a
CSV of numbers after a preview that says how many will be added and which lines are not
phone numbers."""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from datetime import UTC
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from engine.dnc.numbers_file import read_numbers_file
from engine.errors import InvalidInput, NotFound
from web.appkeys import engine_of
from web.operator.auth import OperatorSession, operator_page, same_token
from web.operator.render import page
from web.uploads import uploaded_list

KEPT_UPLOADS = 20
SHOWN_NOT_NUMBERS = 100


class PendingNumbers(OrderedDict[str, tuple[str, int | None, str, list[str]]]):
    """Uploaded numbers waiting for the operator's confirmation:
    key -> (operator, campaign id or None, reason, phones)."""


PENDING = web.AppKey("operator_pending_dnc_numbers", PendingNumbers)


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
        "csrf_query": urlencode({"csrf_token": session.csrf_token}),
        "utc": UTC,
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
async def preview_numbers(request: web.Request, session: OperatorSession) -> web.Response:
    """A CSV of numbers: how many will be added and which lines are not numbers; nothing is
    added before the operator confirms."""
    engine = engine_of(request)
    try:
        async with uploaded_list(request) as upload:
            campaign_id = _campaign_filter(upload.fields.get("campaign_id", ""))
            reason = upload.fields.get("reason", "").strip() or "from a list of numbers"
            region = engine.operators.default_region
            found = await asyncio.to_thread(read_numbers_file, upload.path, region)
        name = "" if campaign_id is None else (await engine.store.get_campaign(campaign_id)).name
    except (InvalidInput, NotFound) as exc:
        return await _dnc(request, session, f"That file was not added: {exc}.", "", 400)
    listed = {e.phone for e in await engine.store.list_dnc(campaign_id)}
    new = [phone for phone in found.phones if phone not in listed]
    key = secrets.token_urlsafe(16)
    pending = request.app[PENDING]
    pending[key] = (session.username, campaign_id, reason, new)
    while len(pending) > KEPT_UPLOADS:
        pending.popitem(last=False)
    context: dict[str, Any] = {
        "key": key,
        "campaign_id": campaign_id,
        "name": name,
        "reason": reason,
        "new": len(new),
        "already": len(found.phones) - len(new),
        "repeated": found.repeated,
        "not_numbers": found.not_numbers[:SHOWN_NOT_NUMBERS],
        "not_numbers_total": len(found.not_numbers),
    }
    return page(request, session, "operator/dnc_import.html", context)


@operator_page
async def add_numbers(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    """Add the numbers of a previewed file."""
    form = await request.post()
    kept = request.app[PENDING].pop(str(form.get("key", "")), None)
    if kept is None or not same_token(kept[0], session.username):
        return await _dnc(request, session, "That upload is gone: upload the file again.", "", 400)
    _, campaign_id, reason, phones = kept
    try:
        added = await engine_of(request).operators.add_dnc_numbers(
            session.username, phones, campaign_id, reason
        )
    except NotFound as exc:
        return await _dnc(request, session, str(exc), "", 400)
    raise web.HTTPSeeOther(_back(campaign_id, f"added {added:,} numbers from the file"))


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
