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


class RejectedRows(OrderedDict[str, tuple[str, int, str]]):
    """Rejected-rows CSVs of recent imports: key -> (operator, campaign id, CSV text)."""


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
        with open_voter_file(io.BytesIO(data), region, choices) as voter_file:
            columns = voter_file.header_map.describe()
            missing = voter_file.header_map.missing()
            rows = []
            for row in voter_file.rows():
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
        report["rejected_url"] = _keep(request, session, campaign.id, summary.rejected_rows_csv())
    if wants_json:
        return web.json_response(report)
    return page(request, session, "operator/list_report.html", _ctx(campaign, report))


def page_report(summary: ImportSummary) -> dict[str, Any]:
    """The API's summary with every kept rejected row (the page lists them page by page)."""
    report = summary_json(summary)
    report["errors"] = [{"line": e.line, "reason": e.reason} for e in summary.errors]
    report["errors_not_listed"] = summary.errors_not_kept
    report["encoding_name"] = encoding_name(summary.encoding)
    return report


def _ctx(campaign: Any, report: dict[str, Any]) -> dict[str, Any]:
    return {"campaign": campaign, "report": report}


def _keep(request: web.Request, session: OperatorSession, campaign_id: int, text: str) -> str:
    kept = request.app[REJECTED]
    key = secrets.token_urlsafe(16)
    kept[key] = (session.username, campaign_id, text)
    while len(kept) > KEPT_REPORTS:
        kept.popitem(last=False)
    return f"/operator/campaigns/{campaign_id}/list/rejected/{key}"


@operator_page
async def rejected_rows(request: web.Request, session: OperatorSession) -> web.Response:
    kept = request.app[REJECTED].get(request.match_info["key"])
    campaign_id = int(request.match_info["id"])
    if kept is None or kept[1] != campaign_id or not same_token(kept[0], session.username):
        raise web.HTTPNotFound(text="that report is gone: import the file again to see it")
    return web.Response(
        text=kept[2],
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-rejected.csv"',
            "Cache-Control": "no-store",
        },
    )
