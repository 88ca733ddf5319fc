"""Every route of the web app is documented, and every documented route exists: the JSON API
and its WebSockets (everything under /api/) in docs/api.md, the pages and static files in
docs/pages.md."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from web.routes import setup_routes

DOCS = Path(__file__).resolve().parents[2] / "docs"
API_DOC = (DOCS / "api.md").read_text()
PAGES_DOC = (DOCS / "pages.md").read_text()
HEADING = re.compile(r"^### `([A-Z]+) (/\S*)`$", re.MULTILINE)
PAGE_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")

Route = tuple[str, str]


def _app_routes() -> set[Route]:
    app = web.Application()
    setup_routes(app)
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        path = route.resource.canonical
        if isinstance(route.resource, web.StaticResource):
            path += "/{filename}"
        routes.add((route.method, path))
    return routes


def _api_routes() -> set[Route]:
    return {route for route in _app_routes() if route[1].startswith("/api/")}


def _page_routes() -> set[Route]:
    return _app_routes() - _api_routes()


def test_every_route_is_documented() -> None:
    documented = set(HEADING.findall(API_DOC))
    missing = sorted(_api_routes() - documented)
    assert not missing, f"add a '### `METHOD /path`' section to docs/api.md for {missing}"


def test_every_documented_route_exists() -> None:
    stale = sorted(set(HEADING.findall(API_DOC)) - _api_routes())
    assert not stale, f"docs/api.md documents routes the app does not have: {stale}"


def test_every_page_route_is_documented() -> None:
    documented = set(PAGE_ROUTE.findall(PAGES_DOC))
    missing = sorted(_page_routes() - documented)
    assert not missing, f"name each of {missing} as `METHOD /path` in docs/pages.md"


def test_every_page_route_named_in_the_pages_doc_exists() -> None:
    named = set(PAGE_ROUTE.findall(PAGES_DOC))
    stale = sorted(route for route in named - _page_routes() if not route[1].startswith("/api/"))
    assert not stale, f"docs/pages.md names routes the app does not have: {stale}"
