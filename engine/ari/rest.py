"""HTTP requests to ARI: JSON in and out over the client's session, failures as AriErrors.

AriRest is the plumbing under the typed resource wrappers (channels.py, bridges.py, media.py and
asterisk.py); each of them holds one AriRest and nothing else.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from engine.ari.settings import AriSettings
from engine.errors import AriError, AriNotFound, AriUnauthorized, AriUnavailable

log = logging.getLogger(__name__)

SLOW_REQUEST_S = 1.0
"""A request slower than this is logged as a warning: Asterisk answers in milliseconds."""

Json = dict[str, Any]
Query = Mapping[str, str | int | float | bool | list[str] | None]


class AriRest:
    """Sends ARI requests over `session` (owned by the caller, who closes it).

    request() and send() raise AriUnavailable (Asterisk unreachable) or AriError (the client
    is closed, or another HTTP failure); request() also raises error()'s mapping of an HTTP
    error status: AriNotFound (404, usually a hangup race), AriUnauthorized (401) or AriError.
    """

    def __init__(self, settings: AriSettings, session: aiohttp.ClientSession) -> None:
        self._settings = settings
        self._session = session
        self.base = settings.url.rstrip("/") + "/ari"

    async def request(
        self, method: str, path: str, *, params: Query | None = None, json: Any = None
    ) -> Any:
        """Send one request; return the decoded JSON body, or None for 204."""
        status, data = await self.send(method, path, params=params, json=json)
        if status >= 400:
            raise self.error(method, path, status, data)
        return data

    async def send(
        self, method: str, path: str, *, params: Query | None = None, json: Any = None
    ) -> tuple[int, Any]:
        """Send one request; return its status and decoded body, whatever the status."""
        if self._session.closed:
            raise AriError(f"the ARI client for {self.base} is closed; use it inside connect()")
        started = time.monotonic()
        try:
            async with self._session.request(
                method, self.base + path, params=_query(params), json=json
            ) as response:
                status, body = response.status, await response.read()
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise self.unavailable(method, path, exc) from exc
        except aiohttp.ClientError as exc:
            raise AriError(f"ARI {method} {path} failed: {exc!r}") from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        if elapsed_ms > SLOW_REQUEST_S * 1000:
            log.warning("ARI %s %s took %.0f ms", method, path, elapsed_ms)
        log.debug("ARI %s %s -> %d in %.0f ms", method, path, status, elapsed_ms)
        return status, _decode(body)

    def error(self, method: str, path: str, status: int, data: Any) -> AriError:
        """The error for an HTTP error `status` with body `data`."""
        message = error_message(data, f"HTTP {status}")
        if status == 404:
            return AriNotFound(f"ARI {method} {path}: {message} (HTTP 404)")
        if status == 401:
            return AriUnauthorized(
                f"Asterisk ARI at {self._settings.url} rejected user {self._settings.username!r}"
                f" ({method} {path}): check the ARI username and password."
            )
        return AriError(f"ARI {method} {path} failed with HTTP {status}: {message}")

    def unavailable(self, method: str, path: str, exc: BaseException) -> AriUnavailable:
        """The error for a request that could not reach Asterisk at all."""
        reason = str(exc) or type(exc).__name__
        return AriUnavailable(
            f"cannot reach Asterisk ARI at {self._settings.url}: is the PBX running and its"
            f" HTTP server listening there? ({method} {path}: {reason})"
        )


class AriResource:
    """Base of the typed resource wrappers: each sends its requests through one AriRest."""

    def __init__(self, rest: AriRest) -> None:
        self._rest = rest


def segment(value: str) -> str:
    """Quote an id for use as one URL path segment."""
    return quote(value, safe="")


def error_message(data: Any, default: str) -> str:
    """The message of an ARI error body (JSON {"message": ...} or plain text), or `default`."""
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    if isinstance(data, str) and data.strip():
        return data.strip()[:200]
    return default


def json_object(data: Any) -> Json:
    """`data` as a JSON object; raises AriError for anything else."""
    if not isinstance(data, dict):
        raise AriError(f"ARI answered {data!r:.200} where a JSON object was expected")
    return data


def json_array(data: Any) -> list[Json]:
    """`data` as a JSON array; raises AriError for anything else."""
    if not isinstance(data, list):
        raise AriError(f"ARI answered {data!r:.200} where a JSON array was expected")
    return data


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query(params: Query | None) -> list[tuple[str, str]]:
    """ARI query parameters: None dropped, booleans as true/false, lists repeated."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if isinstance(value, list):
            pairs.extend((key, item) for item in value)
        elif value is not None:
            pairs.append((key, _text(value)))
    return pairs


def _decode(body: bytes) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text  # e.g. a proxy's error page: kept for the message, rejected by json_object()
