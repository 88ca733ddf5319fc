"""The operator's voter-list page: a column-mapping preview, the upload with progress, and the
validation report with the rejected rows to download.

The page's script posts the file's first 64 KB to ``…/list/preview`` to show how columns map,
then uploads the whole file with XHR (upload progress) while the campaign's events socket
reports import progress. Without JavaScript the form posts straight to ``…/list/import``.
"""

from __future__ import annotations

import io
import secrets
from collections import OrderedDict
from typing import Any

from aiohttp import web

from engine.errors import InvalidInput
from engine.notifier import ImportProgressEvent
from engine.voters.csv_rows import SAMPLE_BYTES, RowError, encoding_name, open_voter_file
from engine.voters.headers import TARGET_LABELS
from engine.voters.importer import ImportSummary
from web.appkeys import engine_of
from web.operator.api import summary_json
from web.operator.auth import OperatorSession, operator_page, same_token
from web.operator.render import load_campaign, page
from web.uploads import parse_mapping, uploaded_list

PREVIEW_ROWS = 5
KEPT_REPORTS = 50
NO_PHONE_COLUMN = (
    "No column was recognised as the phone number: choose it under “Used as” before importing."
)
ERRORS_PER_PAGE = 50
"""Rejected rows per page of the report (the page's script pages them the same way)."""


class RejectedRows(OrderedDict[str, tuple[str, int, str, dict[str, Any]]]):
    """Rejected rows of recent imports: key -> (operator, campaign id, CSV text, report)."""


REJECTED = web.AppKey("operator_rejected_rows", RejectedRows)


@operator_page
async def list_page(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    counts = await engine_of(request).store.voter_counts(campaign.id)
    context = {"campaign": campaign, "counts": {str(k): v for k, v in counts.items()}}
    return page(request, session, "operator/list.html", context)


@operator_page
async def preview(request: web.Request, session: OperatorSession) -> web.Response:
    """How the columns of a file's first 64 KB map onto voter fields (with the operator's
    ``?mapping=`` choices so far), and its first rows."""
    data = await request.content.read(SAMPLE_BYTES)
    if len(data) == SAMPLE_BYTES and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]  # drop a row cut in half
    region = engine_of(request).operators.default_region
    try:
        choices = parse_mapping(request.query.get("mapping", ""))
        with open_voter_file(io.BytesIO(data), region, choices, False) as voter_file:
            columns = voter_file.header_map.describe()
            missing = voter_file.header_map.missing()
            has_phone = bool(voter_file.header_map.phone_columns)
            rows: list[dict[str, Any]] = []
            for row in voter_file.rows() if has_phone else ():
                rows.append(
                    {"line": row.line, "error": row.reason}
                    if isinstance(row, RowError)
                    else {
                        "name": f"{row.first_name} {row.last_name}".strip(),
                        "phone": row.phone,
                        "zip": row.zip,
                        "city": row.city,
                    }
                )
                if len(rows) == PREVIEW_ROWS:
                    break
            encoding, delimiter = voter_file.encoding, voter_file.delimiter
    except InvalidInput as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(
        {
            "columns": [{"header": c.header, "target": c.target, "note": c.note} for c in columns],
            "missing": missing,
            "rows": rows,
            "encoding": encoding,
            "encoding_name": encoding_name(encoding),
            "delimiter": delimiter,
            "targets": [{"value": k, "label": v} for k, v in TARGET_LABELS.items()],
            "problem": "" if has_phone else NO_PHONE_COLUMN,
        }
    )


@operator_page
async def import_list(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    """Import the uploaded file; JSON for the page's script, else the report page."""
    campaign = await load_campaign(request)
    engine = engine_of(request)

    def progress(rows: int, bytes_done: int, bytes_total: int | None) -> None:
        event: ImportProgressEvent = {
            "type": "import",
            "campaign_id": campaign.id,
            "rows": rows,
            "bytes_done": bytes_done,
            "bytes_total": bytes_total,
        }
        engine.notifier.publish(campaign.id, None, event)

    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        async with uploaded_list(request) as upload:
            summary = await engine.operators.import_list(
                session.username, campaign.id, upload.path, progress, upload.choices
            )
    except InvalidInput as exc:
        if wants_json:
            return web.json_response({"error": str(exc)}, status=400)
        report: dict[str, Any] = {"error": str(exc)}
        return page(request, session, "operator/list_report.html", _ctx(campaign, report), 400)
    report = page_report(summary)
    if summary.invalid:
        key = _keep(request, session, campaign.id, summary.rejected_rows_csv(), report)
        report["rejected_url"] = f"/operator/campaigns/{campaign.id}/list/rejected/{key}"
        report["report_url"] = f"/operator/campaigns/{campaign.id}/list/report/{key}"
    if wants_json:
        return web.json_response(report)
    return page(request, session, "operator/list_report.html", _ctx(campaign, report))


@operator_page
async def report_page(request: web.Request, session: OperatorSession) -> web.Response:
    """A page of a recent import's rejected rows (``?page=``, from 1), for the report page
    without JavaScript."""
    campaign = await load_campaign(request)
    kept = _kept(request, session)
    number = request.query.get("page", "1")
    return page(
        request,
        session,
        "operator/list_report.html",
        _ctx(campaign, kept[3], int(number) if number.isdigit() else 1),
    )


def page_report(summary: ImportSummary) -> dict[str, Any]:
    """The API's summary with every kept rejected row (the page lists them page by page)."""
    report = summary_json(summary)
    report["errors"] = [{"line": e.line, "reason": e.reason} for e in summary.errors]
    report["errors_not_listed"] = summary.errors_not_kept
    report["encoding_name"] = encoding_name(summary.encoding)
    return report


def _ctx(campaign: Any, report: dict[str, Any], number: int = 1) -> dict[str, Any]:
    """The report page's context: the rejected rows of page ``number``."""
    errors = report.get("errors", [])
    pages = max(1, -(-len(errors) // ERRORS_PER_PAGE))
    number = min(max(1, number), pages)
    first = (number - 1) * ERRORS_PER_PAGE
    shown = errors[first : first + ERRORS_PER_PAGE]
    return {
        "campaign": campaign,
        "report": report,
        "errors": shown,
        "first": first + 1,
        "page_number": number,
        "pages": pages,
    }


def _keep(
    request: web.Request,
    session: OperatorSession,
    campaign_id: int,
    text: str,
    report: dict[str, Any],
) -> str:
    kept = request.app[REJECTED]
    key = secrets.token_urlsafe(16)
    kept[key] = (session.username, campaign_id, text, report)
    while len(kept) > KEPT_REPORTS:
        kept.popitem(last=False)
    return key


def _kept(request: web.Request, session: OperatorSession) -> tuple[str, int, str, dict[str, Any]]:
    """The kept import of the URL's key, only for the operator who imported it."""
    kept = request.app[REJECTED].get(request.match_info["key"])
    campaign_id = int(request.match_info["id"])
    if kept is None or kept[1] != campaign_id or not same_token(kept[0], session.username):
        raise web.HTTPNotFound(text="that report is gone: import the file again to see it")
    return kept


@operator_page
async def rejected_rows(request: web.Request, session: OperatorSession) -> web.Response:
    kept = _kept(request, session)
    campaign_id = kept[1]
    return web.Response(
        text=kept[2],
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-rejected.csv"',
            "Cache-Control": "no-store",
        },
    )
