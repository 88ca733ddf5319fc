"""HTML pages: a jinja2 environment (autoescaped), the static files, and the page routes.

Volunteer pages live in web/volunteer/pages.py, operator pages in web/operator/pages.py;
templates under web/templates/, CSS and JavaScript under web/static/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from web.appkeys import TEMPLATES

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"


def setup_pages(app: web.Application) -> None:
    from web.operator import pages as operator_pages
    from web.volunteer import pages as volunteer_pages

    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app.router.add_static("/static/", STATIC, name="static", append_version=True)
    volunteer_pages.add_routes(app)
    operator_pages.add_routes(app)


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
