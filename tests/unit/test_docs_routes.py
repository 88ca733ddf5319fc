"""Every route of the web app is documented in docs/api.md, and every documented route exists."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from web.routes import setup_routes

API_DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
HEADING = re.compile(r"^### `([A-Z]+) (/\S*)`$", re.MULTILINE)


def _app_routes() -> set[tuple[str, str]]:
    app = web.Application()
    setup_routes(app)
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def test_every_route_is_documented() -> None:
    documented = set(HEADING.findall(API_DOC))
    missing = sorted(_app_routes() - documented)
    assert not missing, f"add a '### `METHOD /path`' section to docs/api.md for {missing}"


def test_every_documented_route_exists() -> None:
    stale = sorted(set(HEADING.findall(API_DOC)) - _app_routes())
    assert not stale, f"docs/api.md documents routes the app does not have: {stale}"
