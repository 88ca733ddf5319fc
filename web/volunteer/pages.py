"""The volunteer's HTML pages: page shells that static/volunteer.js fills from the JSON API.

/                  the active campaigns, each with its team link
/join/{id}         a campaign's team link: sign up, get a Login ID and password
/signin            sign in to a campaign with phone or browser ("Call using computer") audio
/session           the shift: call-in, waiting, the voter card, wrap-up
/logged-out        why the session ended (log-out or a missed wrap-up deadline)
/favicon.ico       the site's icon, for browsers that ask for it by that name
"""

from __future__ import annotations

from aiohttp import web

from engine.errors import NotFound
from engine.models import Campaign
from web.appkeys import engine_of
from web.pages import FAVICON, render


async def _active_campaigns(request: web.Request) -> list[Campaign]:
    return [c for c in await engine_of(request).store.list_campaigns() if c.active]


async def index(request: web.Request) -> web.Response:
    campaigns = await _active_campaigns(request)
    return render(request, "volunteer/index.html", {"campaigns": campaigns})


async def join(request: web.Request) -> web.Response:
    try:
        campaign = await engine_of(request).store.get_campaign(int(request.match_info["id"]))
    except NotFound:
        raise web.HTTPNotFound() from None
    if not campaign.active:
        raise web.HTTPNotFound()
    return render(request, "volunteer/join.html", {"campaign": campaign})


async def signin(request: web.Request) -> web.Response:
    campaigns = await _active_campaigns(request)
    wanted = request.query.get("campaign", "")
    selected = int(wanted) if wanted.isdigit() else None
    return render(request, "volunteer/signin.html", {"campaigns": campaigns, "selected": selected})


async def session(request: web.Request) -> web.Response:
    return render(request, "volunteer/session.html", {})


async def logged_out(request: web.Request) -> web.Response:
    return render(request, "volunteer/logged_out.html", {})


async def favicon(request: web.Request) -> web.FileResponse:
    """/favicon.ico, for browsers that ask for it before reading the page's icon link."""
    return web.FileResponse(FAVICON, headers={"Content-Type": "image/svg+xml"})
