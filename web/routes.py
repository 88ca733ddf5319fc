"""Every route of the web app, in one table: method, path, handler.

Pages are documented in docs/pages.md, the JSON API and the WebSockets in docs/api.md
(tests/unit/test_docs_routes.py checks both). Handlers live by audience: web/volunteer/ and
web/operator/; no handler module registers routes itself.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_routedef import AbstractRouteDef

from web import health
from web.operator import api as operator_api
from web.operator import dnc as operator_dnc
from web.operator import dnc_api as operator_dnc_api
from web.operator import events as operator_events
from web.operator import lists as operator_lists
from web.operator import live as operator_live
from web.operator import metrics as operator_metrics
from web.operator import pages as operator_pages
from web.operator import results as operator_results
from web.pages import STATIC
from web.volunteer import api as volunteer_api
from web.volunteer import events as volunteer_events
from web.volunteer import pages as volunteer_pages

CAMPAIGN_PAGE = r"/operator/campaigns/{id:\d+}"
CAMPAIGN_API = r"/api/operator/campaigns/{id:\d+}"

VOLUNTEER_PAGES: tuple[AbstractRouteDef, ...] = (
    web.get("/", volunteer_pages.index),
    web.get(r"/join/{id:\d+}", volunteer_pages.join),
    web.get("/signin", volunteer_pages.signin),
    web.get("/session", volunteer_pages.session),
    web.get("/logged-out", volunteer_pages.logged_out),
)

VOLUNTEER_API: tuple[AbstractRouteDef, ...] = (
    # sign-up, sign-in and the campaign list are anonymous; the rest needs the session's token
    web.get("/api/health", health.health),
    web.post("/api/signup", volunteer_api.sign_up),
    web.post("/api/signin", volunteer_api.sign_in),
    web.get("/api/campaigns", volunteer_api.campaigns),
    web.get("/api/session", volunteer_api.get_session),
    web.post("/api/session/ready", volunteer_api.ready),
    web.post("/api/session/pause", volunteer_api.pause),
    web.post("/api/session/end-call", volunteer_api.end_call),
    web.post("/api/session/call", volunteer_api.call_voter),
    web.post("/api/session/skip", volunteer_api.skip_voter),
    web.post("/api/session/cancel-call", volunteer_api.cancel_call),
    web.post("/api/session/result", volunteer_api.submit_result),
    web.put("/api/session/result", volunteer_api.edit_result),
    web.put("/api/session/result/draft", volunteer_api.save_draft),
    web.post("/api/session/logout", volunteer_api.log_out),
)

OPERATOR_PAGES: tuple[AbstractRouteDef, ...] = (
    # all but the login form need a signed-in operator (cookie) and, to POST, its CSRF token
    web.get("/operator/login", operator_pages.login_form),
    web.post("/operator/login", operator_pages.log_in),
    web.post("/operator/logout", operator_pages.log_out),
    web.get("/operator", operator_pages.campaigns),
    web.get("/operator/campaigns/new", operator_pages.new_campaign),
    web.post("/operator/campaigns/new", operator_pages.save_campaign),
    web.get(CAMPAIGN_PAGE, operator_pages.edit_campaign),
    web.post(CAMPAIGN_PAGE, operator_pages.save_campaign),
    web.post("/operator/script-preview", operator_pages.script_preview),
    web.get(CAMPAIGN_PAGE + "/list", operator_lists.list_page),
    web.post(CAMPAIGN_PAGE + "/list/preview", operator_lists.preview),
    web.post(CAMPAIGN_PAGE + "/list/import", operator_lists.import_list),
    web.get(CAMPAIGN_PAGE + "/list/rejected/{key}", operator_lists.rejected_rows),
    web.get(CAMPAIGN_PAGE + "/list/report/{key}", operator_lists.report_page),
    web.get(CAMPAIGN_PAGE + "/dashboard", operator_live.dashboard),
    web.get(CAMPAIGN_PAGE + "/stats", operator_live.stats),
    web.get(CAMPAIGN_PAGE + "/results", operator_results.results),
    web.get(CAMPAIGN_PAGE + "/results.csv", operator_results.results_csv),
    web.get("/operator/dnc", operator_dnc.dnc_page),
    web.post("/operator/dnc", operator_dnc.add_dnc),
    web.post("/operator/dnc/upload", operator_dnc.preview_numbers),
    web.post("/operator/dnc/upload/confirm", operator_dnc.add_numbers),
    web.get("/operator/dnc/remove", operator_dnc.confirm_remove),
    web.post("/operator/dnc/remove", operator_dnc.remove_dnc),
)

OPERATOR_API: tuple[AbstractRouteDef, ...] = (
    # all but login need an operator's token
    web.post("/api/operator/login", operator_api.log_in),
    web.post("/api/operator/logout", operator_api.log_out),
    web.get("/api/operator/campaigns", operator_api.list_campaigns),
    web.post("/api/operator/campaigns", operator_api.create_campaign),
    web.get(CAMPAIGN_API, operator_api.get_campaign),
    web.patch(CAMPAIGN_API, operator_api.update_campaign),
    web.post(CAMPAIGN_API + "/voters", operator_api.upload_voters),
    web.get(CAMPAIGN_API + "/stats", operator_api.stats),
    web.get(CAMPAIGN_API + "/results.csv", operator_api.results_csv),
    web.get("/api/operator/dnc", operator_api.list_dnc),
    web.post("/api/operator/dnc", operator_api.add_dnc),
    web.delete("/api/operator/dnc", operator_api.remove_dnc),
    web.post("/api/operator/dnc/numbers", operator_dnc_api.add_numbers),
    web.get("/api/operator/audit", operator_api.audit),
)

LIVE_EVENTS: tuple[AbstractRouteDef, ...] = (
    # WebSockets (the loop: web/event_stream.py)
    web.get("/api/session/events", volunteer_events.session_events),
    web.get(CAMPAIGN_API + "/events", operator_events.campaign_events),
    web.get(CAMPAIGN_PAGE + "/events", operator_events.dashboard_events),
)

MONITORING: tuple[AbstractRouteDef, ...] = (
    # operators' token; web.metrics_address serves it without one on a private address
    web.get("/metrics", operator_metrics.metrics),
)

METRICS_LISTENER: tuple[AbstractRouteDef, ...] = (
    # the web.metrics_address listener's whole table (web/metrics_listener.py): no token
    web.get("/metrics", operator_metrics.metrics),
)

STATIC_FILES: tuple[AbstractRouteDef, ...] = (
    web.static("/static/", STATIC, name="static", append_version=True),
    web.get("/favicon.ico", volunteer_pages.favicon),
)

ROUTES = (
    *VOLUNTEER_PAGES,
    *VOLUNTEER_API,
    *OPERATOR_PAGES,
    *OPERATOR_API,
    *LIVE_EVENTS,
    *MONITORING,
    *STATIC_FILES,
)
"""The whole table, in the order it is registered."""


def setup_routes(app: web.Application) -> None:
    app.add_routes(ROUTES)


def setup_metrics_listener_routes(app: web.Application) -> None:
    app.add_routes(METRICS_LISTENER)
