"""The operator API's do-not-call upload: a CSV of numbers put on a list in one request."""

from __future__ import annotations

import asyncio

from aiohttp import web

from engine.dnc.numbers_file import read_numbers_file
from engine.models import Operator
from web.appkeys import engine_of
from web.auth import operator_view
from web.errors import FieldError
from web.shapes import json_response
from web.uploads import uploaded_list

MAX_LISTED = 1000
"""Lines that are not phone numbers listed in the answer; the total counts them all."""


@operator_view
async def add_numbers(request: web.Request, operator: Operator) -> web.Response:
    """Numbers from a file (multipart ``file`` or a text/csv body) onto the global list or a
    campaign's (``campaign_id``); ``dry_run=true`` only says what would be added. The
    parameters come as form fields or in the query string."""
    engine = engine_of(request)
    async with uploaded_list(request) as upload:
        params = {**request.query, **upload.fields}
        region = engine.operators.default_region
        found = await asyncio.to_thread(read_numbers_file, upload.path, region)
    campaign_id = _whole_number(params.get("campaign_id", ""), "campaign_id")
    reason = params.get("reason", "").strip() or "from a list of numbers"
    dry_run = params.get("dry_run", "").lower() in ("1", "true", "yes")
    if campaign_id is not None:
        await engine.store.get_campaign(campaign_id)
    listed = {e.phone for e in await engine.store.list_dnc(campaign_id)}
    new = [phone for phone in found.phones if phone not in listed]
    added = 0
    if not dry_run and new:
        added = await engine.operators.add_dnc_numbers(operator.username, new, campaign_id, reason)
    return json_response(
        {
            "campaign_id": campaign_id,
            "dry_run": dry_run,
            "numbers": len(found.phones),
            "added": added,
            "to_add": len(new),
            "already_listed": len(found.phones) - len(new),
            "repeated": found.repeated,
            "not_phone_numbers": [
                {"line": line, "text": text} for line, text in found.not_numbers[:MAX_LISTED]
            ],
            "not_phone_numbers_total": len(found.not_numbers),
        }
    )


def _whole_number(text: str, name: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise FieldError(name, f"'{name}' must be a whole number, not '{text}'")
    return int(text)
