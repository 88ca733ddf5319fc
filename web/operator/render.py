"""What every operator page shares: rendering with the session's CSRF token and the
operator's name (never cached), and the campaign the page's URL names."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from engine.errors import NotFound
from engine.models import Campaign
from web.appkeys import engine_of
from web.operator.auth import OperatorSession
from web.pages import render


def page(
    request: web.Request,
    session: OperatorSession,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> web.Response:
    """Render an operator page with the CSRF token and the operator's name."""
    full = {"csrf_token": session.csrf_token, "operator": session.username, **context}
    response = render(request, template, full, status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def load_campaign(request: web.Request) -> Campaign:
    """The campaign of the URL's ``{id}``. Raises HTTPNotFound when there is none."""
    try:
        return await engine_of(request).store.get_campaign(int(request.match_info["id"]))
    except NotFound:
        raise web.HTTPNotFound(text="no such campaign") from None
