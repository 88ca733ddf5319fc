"""HTML pages: the jinja2 environment (autoescaped) and rendering a page with it.

Volunteer pages live in web/volunteer/pages.py, operator pages in web/operator/; templates
under web/templates/, CSS and JavaScript under web/static/ (routed as ``static`` by
web/routes.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from engine.voters.phone_display import format_phone
from web.appkeys import TEMPLATES

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"


def page_templates(region: str = "US") -> jinja2.Environment:
    """The templates' environment: every value escaped, an undefined name an error; the
    `phone` filter formats numbers for reading in ``region`` (engine/voters/phone_display.py)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def phone(text: object, in_region: str = region) -> str:
        return format_phone(text, in_region)

    env.filters["phone"] = phone
    return env


FAVICON = STATIC / "favicon.svg"
"""The site's icon: linked from base.html, and served as /favicon.ico."""


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """Render ``template`` with ``context`` (every value escaped) as an HTML response."""
    env = request.app[TEMPLATES]
    html = env.get_template(template).render(
        static=lambda name: str(request.app.router["static"].url_for(filename=name)),
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html")
