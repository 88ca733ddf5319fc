"""The route table: every URL of the JSON API and its view. docs/api.md documents each one."""

from __future__ import annotations

from aiohttp import web

from web import events_ws
from web.operator import api as operator_api
from web.volunteer import api as volunteer_api

CAMPAIGN = r"/api/operator/campaigns/{id:\d+}"


async def health(request: web.Request) -> web.Response:
    """Anonymous: the process is up and serving."""
    return web.json_response({"status": "ok"})


def setup_routes(app: web.Application) -> None:
    app.add_routes(
        [
            web.get("/api/health", health),
            # volunteers (sign-up, sign-in and the campaign list are anonymous)
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
            web.post("/api/session/logout", volunteer_api.log_out),
            web.get("/api/session/events", events_ws.session_events),
            # operators (all but login need an operator token)
            web.post("/api/operator/login", operator_api.log_in),
            web.post("/api/operator/logout", operator_api.log_out),
            web.get("/api/operator/campaigns", operator_api.list_campaigns),
            web.post("/api/operator/campaigns", operator_api.create_campaign),
            web.get(CAMPAIGN, operator_api.get_campaign),
            web.patch(CAMPAIGN, operator_api.update_campaign),
            web.post(CAMPAIGN + "/voters", operator_api.upload_voters),
            web.get(CAMPAIGN + "/stats", operator_api.stats),
            web.get(CAMPAIGN + "/results.csv", operator_api.results_csv),
            web.get(CAMPAIGN + "/events", events_ws.campaign_events),
            web.get("/api/operator/dnc", operator_api.list_dnc),
            web.post("/api/operator/dnc", operator_api.add_dnc),
            web.delete("/api/operator/dnc", operator_api.remove_dnc),
            web.get("/api/operator/audit", operator_api.audit),
        ]
    )
