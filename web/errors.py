"""Every error the API returns has one shape: ``{"error": {"code": ..., "message": ...}}``.

The middleware turns the engine's domain errors into that shape with the right status; the
messages are the domain's own sentences, written for the volunteer or operator reading them.
Anything unexpected is logged with its traceback and answered with a generic 500.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from engine.errors import (
    AriError,
    Conflict,
    InvalidInput,
    LoginFailed,
    NotAllowed,
    NotFound,
    PhonebankError,
    RateLimited,
)
from engine.transitions import IllegalTransition
from web.pages import render

log = logging.getLogger(__name__)

STREAMING = web.RequestKey("streaming", bool)
"""Set by a view once it has sent a streamed response's headers: an error after that point
cannot become a JSON answer, so the middleware lets aiohttp close the connection."""


class Unauthorized(PhonebankError):
    """No valid bearer token: the message says how to get one."""


class Forbidden(PhonebankError):
    """The request comes from somewhere it may not (another site's page)."""


class BadJson(PhonebankError):
    """The request body is not a JSON object; the message says what is wrong."""


class FieldError(InvalidInput):
    """A field of the request body is missing or of the wrong type."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UploadTooLarge(InvalidInput):
    """An uploaded file is over the size limit."""


ERROR_TABLE: tuple[tuple[type[PhonebankError], int, str], ...] = (
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (BadJson, 400, "bad_json"),
    (UploadTooLarge, 413, "too_large"),
    (InvalidInput, 400, "invalid_input"),
    (LoginFailed, 401, "login_failed"),
    (RateLimited, 429, "rate_limited"),
    (NotFound, 404, "not_found"),
    (NotAllowed, 409, "not_allowed"),
    (IllegalTransition, 409, "not_allowed"),
    (Conflict, 409, "conflict"),
)
"""Domain error → (HTTP status, error code); the first matching class wins."""

TELEPHONY_MESSAGE = "the phone system did not respond; please try again in a moment"
INTERNAL_MESSAGE = "something went wrong on our side; the error has been logged"
UNDECODABLE_MESSAGE = "the request body is not valid UTF-8 text: send forms and JSON as UTF-8"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    error = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return web.json_response({"error": error}, status=status, headers=headers)


def domain_error_response(exc: PhonebankError) -> web.Response | None:
    """The JSON answer for a domain error, or None when it is not one the API expects."""
    for cls, status, code in ERROR_TABLE:
        if isinstance(exc, cls):
            headers: dict[str, str] = {}
            if isinstance(exc, RateLimited):
                headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
            if status == 401:
                headers["WWW-Authenticate"] = "Bearer"
            field = exc.field if isinstance(exc, FieldError) else None
            return error_response(status, code, str(exc), field=field, headers=headers)
    return None


def http_error_response(request: web.Request, exc: web.HTTPException) -> web.Response:
    """aiohttp's own errors (no such route, wrong method, body too large) as JSON; a page
    that does not exist (any path outside /api/) gets an HTML page instead."""
    if exc.status == 404 and not _is_api(request.path):
        return render(request, "not_found.html", {"path": request.path}, status=404)
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    code = (exc.reason or "error").lower().replace(" ", "_").replace("-", "_")
    if exc.status == 404:
        message = f"there is no API route {request.method} {request.path}: see docs/api.md"
    elif exc.status == 405:
        allowed = headers.get("Allow", "")
        message = f"{request.path} does not take {request.method}; it takes {allowed}"
    else:
        message = exc.text or exc.reason
    return error_response(exc.status, code, message, headers=headers)


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or request.get(STREAMING):
            raise
        return http_error_response(request, exc)
    except PhonebankError as exc:
        if request.get(STREAMING):
            raise
        response = domain_error_response(exc)
        if response is not None:
            return response
        if isinstance(exc, AriError):
            log.exception("%s %s: the phone system failed", request.method, request.path)
            return error_response(503, "telephony_unavailable", TELEPHONY_MESSAGE)
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal", INTERNAL_MESSAGE)
    except UnicodeDecodeError:
        # A form whose bytes are not UTF-8 (aiohttp decodes forms strictly); JSON bodies are
        # checked by web/body.py with a more precise message.
        if request.get(STREAMING):
            raise
        log.info("%s %s: the body is not UTF-8", request.method, request.path)
        return error_response(400, "bad_encoding", UNDECODABLE_MESSAGE)
    except Exception:
        if request.get(STREAMING):
            raise
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal", INTERNAL_MESSAGE)
