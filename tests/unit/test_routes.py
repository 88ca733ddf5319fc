"""web/routes.py is the one table of the app's routes: every handler is in it, each route once,
and no other module registers a route."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from aiohttp import web

from web import operator, volunteer
from web.routes import ROUTES, setup_routes

WEB = Path(__file__).resolve().parents[2] / "web"
SUPPORT_MODULES = {"web.operator.auth", "web.operator.render", "web.operator_sockets"}
"""Modules beside the handlers that hold what they share (sessions, rendering, the
credential sockets), not handlers."""
REGISTERING = {
    "add_routes",
    "add_route",
    "add_get",
    "add_post",
    "add_put",
    "add_patch",
    "add_delete",
    "add_head",
    "add_static",
    "add_view",
    "add_resource",
}
"""The aiohttp calls that register a route."""


def handler_modules() -> list[ModuleType]:
    """Every module of web/volunteer/ and web/operator/ but the support ones, and web.health."""
    names = ["web.health"]
    for package in (volunteer, operator):
        names += [
            f"{package.__name__}.{info.name}"
            for info in pkgutil.iter_modules(package.__path__)
            if f"{package.__name__}.{info.name}" not in SUPPORT_MODULES
        ]
    return [importlib.import_module(name) for name in sorted(names)]


def is_handler(function: Any) -> bool:
    """A public coroutine function whose first parameter is the request."""
    if not inspect.iscoroutinefunction(function) or function.__name__.startswith("_"):
        return False
    parameters = list(inspect.signature(function).parameters)
    return bool(parameters) and parameters[0] == "request"


def defined_handlers() -> dict[str, Callable[..., Any]]:
    """Every handler defined in a handler module, by ``module.name``."""
    found: dict[str, Callable[..., Any]] = {}
    for module in handler_modules():
        for name, value in vars(module).items():
            if is_handler(value) and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return found


def routed() -> list[web.RouteDef]:
    return [route for route in ROUTES if isinstance(route, web.RouteDef)]


def test_the_handler_modules_are_found() -> None:
    names = {module.__name__ for module in handler_modules()}
    assert {"web.volunteer.api", "web.operator.events", "web.operator.live"} <= names
    assert "web.operator.live.dashboard" in defined_handlers()


def test_every_handler_is_in_the_route_table() -> None:
    in_table = {route.handler for route in routed()}
    missing = sorted(
        name for name, handler in defined_handlers().items() if handler not in in_table
    )
    assert not missing, f"add these handlers to web/routes.py: {missing}"


def test_the_table_routes_only_handler_module_functions() -> None:
    handlers = set(defined_handlers().values())
    strays = [f"{r.method} {r.path}" for r in routed() if r.handler not in handlers]
    assert not strays, (
        f"these routes' handlers are not in web/volunteer/ or web/operator/: {strays}"
    )


def test_each_method_and_path_is_routed_once() -> None:
    counts = Counter((route.method, route.path) for route in routed())
    assert not [route for route, n in counts.items() if n > 1]


def test_the_table_is_what_the_app_serves() -> None:
    app = web.Application()
    setup_routes(app)
    served = {
        (route.method, route.handler)
        for route in app.router.routes()
        if route.method != "HEAD" and not isinstance(route.resource, web.StaticResource)
    }
    assert served == {(route.method, route.handler) for route in routed()}
    assert app.router["static"].canonical == "/static"


def test_no_module_but_the_table_registers_routes() -> None:
    registering: list[str] = []
    for path in sorted(WEB.rglob("*.py")):
        if path == WEB / "routes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in REGISTERING:
                registering.append(f"{path.relative_to(WEB.parent)}:{node.lineno} {node.attr}")
    assert not registering, f"only web/routes.py registers routes: {registering}"
