"""The operator's JSON API: campaigns, voter lists, statistics, results, do-not-call, audit."""

from __future__ import annotations

import re
import typing
from typing import Any

from aiohttp import web

from engine.errors import InvalidInput
from engine.models import Campaign, Operator
from engine.reports.report import report_zone
from engine.voters.csv_rows import encoding_name
from engine.voters.importer import ImportSummary
from web import body as fields
from web.appkeys import OPERATOR_SOCKETS, engine_of
from web.auth import bearer_token, client_address, operator_view
from web.errors import STREAMING, FieldError
from web.operator.report_params import export_options
from web.operator_sockets import token_key
from web.shapes import campaign_json, dnc_json, json_response
from web.uploads import uploaded_list

MAX_IMPORT_ERRORS = 100
"""Import problems listed in the upload's answer; the count covers them all."""
MAX_AUDIT_ENTRIES = 1000

_HINTS = typing.get_type_hints(Campaign)
_JSON_TYPES: dict[Any, tuple[type, str]] = {
    str: (str, "a string"),
    int: (int, "a whole number"),
    bool: (bool, "true or false"),
}


async def log_in(request: web.Request) -> web.Response:
    """Anonymous: exchange an operator's username and password for an API token."""
    body = await fields.read_json(request)
    username = fields.text(body, "username")
    password = fields.text(body, "password", strip=False)
    operator, token = await engine_of(request).operators.log_in(
        username, password, client_address(request)
    )
    return json_response({"token": token, "username": operator.username})


@operator_view
async def log_out(request: web.Request, operator: Operator) -> web.Response:
    """Revoke the token this request carries."""
    token = bearer_token(request)
    assert token is not None  # operator_view found the operator by it
    await engine_of(request).operators.log_out(operator, token)
    await request.app[OPERATOR_SOCKETS].close(token_key(token))
    return json_response({"logged_out": True})


def campaign_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def campaign_settings(body: fields.Body) -> dict[str, Any]:
    """The body's campaign settings, each of its field's JSON type (FieldError otherwise);
    which settings exist and what values they allow is the operator service's to check."""
    for key, value in body.items():
        hint = _HINTS.get(key)
        if typing.get_origin(hint) is list and not isinstance(value, list):
            raise FieldError(key, f"'{key}' must be an array")
        if hint in _JSON_TYPES:
            cls, what = _JSON_TYPES[hint]
            if not isinstance(value, cls) or (cls is int and isinstance(value, bool)):
                raise FieldError(key, f"'{key}' must be {what}")
    return dict(body)


@operator_view
async def list_campaigns(request: web.Request, operator: Operator) -> web.Response:
    found = await engine_of(request).store.list_campaigns()
    return json_response({"campaigns": [campaign_json(c) for c in found]})


@operator_view
async def create_campaign(request: web.Request, operator: Operator) -> web.Response:
    settings = campaign_settings(await fields.read_json(request))
    name = fields.text(settings, "name")
    del settings["name"]
    campaign = await engine_of(request).operators.create_campaign(
        operator.username, name, **settings
    )
    return json_response(campaign_json(campaign), status=201)


@operator_view
async def get_campaign(request: web.Request, operator: Operator) -> web.Response:
    campaign = await engine_of(request).store.get_campaign(campaign_id(request))
    return json_response(campaign_json(campaign))


@operator_view
async def update_campaign(request: web.Request, operator: Operator) -> web.Response:
    """Change some settings; the others keep their values."""
    settings = campaign_settings(await fields.read_json(request))
    if not settings:
        raise InvalidInput("nothing to change: send the settings to change as a JSON object")
    if "name" in settings:
        settings["name"] = fields.text(settings, "name")
    campaign = await engine_of(request).operators.update_campaign(
        operator.username, campaign_id(request), **settings
    )
    return json_response(campaign_json(campaign))


@operator_view
async def upload_voters(request: web.Request, operator: Operator) -> web.Response:
    """Import a voter CSV (multipart field ``file``, or a raw text/csv body) read with the
    optional column ``mapping`` (form field or query parameter); the campaign's dashboards get
    an ``import`` event after each batch."""
    engine = engine_of(request)
    campaign = await engine.store.get_campaign(campaign_id(request))

    def progress(rows: int, bytes_done: int, bytes_total: int | None) -> None:
        engine.notifier.publish(
            campaign.id,
            None,
            {
                "type": "import",
                "campaign_id": campaign.id,
                "rows": rows,
                "bytes_done": bytes_done,
                "bytes_total": bytes_total,
            },
        )

    async with uploaded_list(request) as upload:
        summary = await engine.operators.import_list(
            operator.username, campaign.id, upload.path, progress, upload.choices
        )
    return json_response(summary_json(summary))


def summary_json(summary: ImportSummary) -> dict[str, Any]:
    """The import's counts and its first MAX_IMPORT_ERRORS rejected rows."""
    return {
        "imported": summary.imported,
        "merged": summary.merged,
        "dnc": summary.dnc,
        "invalid": summary.invalid,
        "total_rows": summary.total_rows,
        "short_rows": summary.short_rows,
        "line_types": dict(summary.line_types),
        "columns": list(summary.header),
        "encoding": summary.encoding,
        "encoding_name": encoding_name(summary.encoding),
        "delimiter": summary.delimiter,
        "elapsed_seconds": round(summary.elapsed_seconds, 3),
        "errors": [
            {"line": e.line, "reason": e.reason, "row": e.raw}
            for e in summary.errors[:MAX_IMPORT_ERRORS]
        ],
        "errors_total": summary.invalid,
    }


@operator_view
async def stats(request: web.Request, operator: Operator) -> web.Response:
    return json_response(await engine_of(request).operators.stats(campaign_id(request)))


@operator_view
async def results_csv(request: web.Request, operator: Operator) -> web.StreamResponse:
    """The campaign's results as a CSV download, streamed as it is read; ``choices``:
    joined (the default) or columns; the Results page's filters limit it
    (web/operator/report_params.py)."""
    engine = engine_of(request)
    campaign = await engine.store.get_campaign(campaign_id(request))
    zone = await report_zone(engine.store, campaign)
    choices, where = export_options(request.query, zone)
    chunks = engine.operators.results_csv(operator.username, campaign.id, choices, where)
    first = await anext(chunks)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{_slug(campaign)}-results.csv"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    request[STREAMING] = True
    await response.write(first.encode())
    async for chunk in chunks:
        await response.write(chunk.encode())
    await response.write_eof()
    return response


def _slug(campaign: Campaign) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", campaign.name.lower()).strip("-")
    return slug or f"campaign-{campaign.id}"


@operator_view
async def list_dnc(request: web.Request, operator: Operator) -> web.Response:
    """The do-not-call list: the global one, or a campaign's with ``?campaign_id=``."""
    entries = await engine_of(request).store.list_dnc(fields.query_int(request, "campaign_id"))
    return json_response({"entries": [dnc_json(e) for e in entries]})


@operator_view
async def add_dnc(request: web.Request, operator: Operator) -> web.Response:
    body = await fields.read_json(request)
    campaign = fields.optional_id(body, "campaign_id")
    phone = await engine_of(request).operators.add_dnc(
        operator.username,
        fields.text(body, "phone"),
        campaign,
        fields.optional_text(body, "reason", "added by an operator"),
    )
    return json_response({"phone": phone, "campaign_id": campaign}, status=201)


@operator_view
async def remove_dnc(request: web.Request, operator: Operator) -> web.Response:
    body = await fields.read_json(request)
    campaign = fields.optional_id(body, "campaign_id")
    operators = engine_of(request).operators
    phone = fields.text(body, "phone")
    await operators.remove_dnc(operator.username, phone, campaign)
    return json_response({"phone": operators.normalize_phone(phone), "campaign_id": campaign})


@operator_view
async def audit(request: web.Request, operator: Operator) -> web.Response:
    """The newest audit entries first; ``?limit=`` (default 100)."""
    limit = fields.query_int(request, "limit")
    limit = 100 if limit is None else limit
    if not 1 <= limit <= MAX_AUDIT_ENTRIES:
        raise FieldError("limit", f"'limit' must be between 1 and {MAX_AUDIT_ENTRIES}")
    entries = await engine_of(request).store.audit_log(limit)
    return json_response({"entries": entries})
