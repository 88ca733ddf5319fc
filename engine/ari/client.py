"""A small, typed client for Asterisk's REST Interface (ARI) and its events websocket.

Use it as ``async with AriClient.connect(settings) as ari:``; the context manager owns the
HTTP session and the EventStream (events.py) whose one long-lived task reads events, so nothing
outlives it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
from yarl import URL

from engine.ari.events import DISCONNECTED as DISCONNECTED
from engine.ari.events import RECONNECTED as RECONNECTED
from engine.ari.events import EventStream, Json
from engine.errors import AriError, AriNotFound, AriUnauthorized, AriUnavailable, ConfigError

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 10
"""Asterisk's HTTP server keeps only ~10 pending connections; more queue for a 1 s SYN retry.
All of them serve REST requests: the events websocket has its own session."""
SLOW_REQUEST_S = 1.0

_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=8.0, sock_connect=3.0)
"""A frozen Asterisk (SIGSTOP) accepts connections and never answers: every request gives up
after 8 s (AriUnavailable) rather than hanging the engine. Asterisk answers in milliseconds."""

Query = Mapping[str, str | int | float | bool | list[str] | None]
TargetKind = Literal["channels", "bridges"]


@dataclass(frozen=True)
class AriSettings:
    url: str  # e.g. "http://127.0.0.1:8088"; the ARI base is url + "/ari"
    username: str
    password: str
    app: str  # Stasis application name for the events websocket; "" for REST only
    subscribe_all: bool = False


class AriClient:
    """Thin wrappers over the ARI endpoints phonebank uses.

    Every request method raises AriNotFound (HTTP 404, usually a hangup race),
    AriUnauthorized (401), AriUnavailable (Asterisk unreachable) or AriError (anything else).
    """

    def __init__(
        self, settings: AriSettings, session: aiohttp.ClientSession, reconnect_max_delay: float
    ) -> None:
        self._settings = settings
        self._session = session
        self._base = settings.url.rstrip("/") + "/ari"
        self._stream = EventStream(
            settings,
            self._base,
            reconnect_max_delay,
            http_error=self._error,
            unreachable=self._unavailable,
        )

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, settings: AriSettings, *, reconnect_max_delay: float = 5.0
    ) -> AsyncIterator[AriClient]:
        """Check ARI answers, open the events websocket, and yield a connected client.

        Raises AriUnauthorized, AriUnavailable or AriError when Asterisk cannot be used,
        and ConfigError for a malformed URL or username.
        """
        if URL(settings.url).scheme not in ("http", "https"):
            raise ConfigError(f"ARI url {settings.url!r} must start with http:// or https://.")
        if ":" in settings.username:
            raise ConfigError(f"ARI username {settings.username!r} must not contain ':'.")
        if reconnect_max_delay <= 0:
            raise ValueError("reconnect_max_delay must be positive")
        auth = aiohttp.encode_basic_auth(settings.username, settings.password)
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
            headers={"Authorization": auth},
            timeout=_HTTP_TIMEOUT,
        )
        client = cls(settings, session, reconnect_max_delay)
        try:
            await client._start()
            yield client
        finally:
            await client._close()

    @property
    def app(self) -> str:
        """The Stasis application this client receives events for (originate targets it)."""
        return self._settings.app

    @property
    def connected(self) -> bool:
        """True while the events websocket is open."""
        return self._stream.connected

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the events websocket is open; raises AriUnavailable after `timeout` s."""
        await self._stream.wait_connected(timeout)

    def events(self) -> AsyncIterator[Json]:
        """Yield ARI events in order, plus {"type": DISCONNECTED, "reason": ...} when the
        websocket is lost and {"type": RECONNECTED} after each reconnect.

        Ends when the client closes; raises AriError if the reader task crashed.
        Meant for one consumer.
        """
        return self._stream.events()

    # --- REST endpoints -------------------------------------------------------------------

    async def info(self) -> Json:
        return _object(await self._request("GET", "/asterisk/info"))

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        app: str | None = None,
        app_args: str | None = None,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
        caller_id: str | None = None,
        timeout: int | None = None,
        variables: dict[str, str] | None = None,
        formats: str | None = None,
    ) -> Json:
        """Create a channel to `endpoint` (POST /channels); returns the ARI Channel."""
        params: Query = {
            "endpoint": endpoint,
            "channelId": channel_id,
            "otherChannelId": other_channel_id,
            "app": app,
            "appArgs": app_args,
            "context": context,
            "extension": extension,
            "priority": priority,
            "label": label,
            "callerId": caller_id,
            "timeout": timeout,
            "formats": formats,
        }
        body = None if variables is None else {"variables": variables}
        return _object(await self._request("POST", "/channels", params=params, json=body))

    async def answer(self, channel_id: str) -> None:
        await self._request("POST", f"/channels/{_seg(channel_id)}/answer")

    async def hangup(
        self, channel_id: str, reason: str | None = None, *, reason_code: int | None = None
    ) -> None:
        params: Query = {"reason": reason, "reason_code": reason_code}
        await self._request("DELETE", f"/channels/{_seg(channel_id)}", params=params)

    async def ring(self, channel_id: str) -> None:
        await self._request("POST", f"/channels/{_seg(channel_id)}/ring")

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        params: Query = {
            "context": context,
            "extension": extension,
            "priority": priority,
            "label": label,
        }
        await self._request("POST", f"/channels/{_seg(channel_id)}/continue", params=params)

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        """Return the channel variable, or None when it is unset.

        Raises AriNotFound when the channel itself is gone (ARI answers 404 in both cases;
        only its message tells them apart).
        """
        method, path = "GET", f"/channels/{_seg(channel_id)}/variable"
        status, data = await self._send(method, path, params={"variable": name})
        if status == 404 and "variable was not found" in _message(data, "").lower():
            return None
        if status >= 400:
            raise self._error(method, path, status, data)
        return str(_object(data).get("value", ""))

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        params: Query = {"variable": name, "value": value}
        await self._request("POST", f"/channels/{_seg(channel_id)}/variable", params=params)

    async def get_global_variable(self, name: str) -> str:
        """A global dialplan variable's value ("" when unset)."""
        data = await self._request("GET", "/asterisk/variable", params={"variable": name})
        return "" if data is None else str(_object(data).get("value", ""))

    async def set_global_variable(self, name: str, value: str) -> None:
        await self._request("POST", "/asterisk/variable", params={"variable": name, "value": value})

    async def send_dtmf(
        self,
        channel_id: str,
        dtmf: str,
        *,
        between_ms: int | None = None,
        duration_ms: int | None = None,
    ) -> None:
        params: Query = {"dtmf": dtmf, "between": between_ms, "duration": duration_ms}
        await self._request("POST", f"/channels/{_seg(channel_id)}/dtmf", params=params)

    async def play(
        self,
        target_kind: TargetKind,
        target_id: str,
        media: str | list[str],
        *,
        playback_id: str | None = None,
    ) -> Json:
        """Play one or more media URIs ("sound:...", "tone:...") in order; returns the Playback."""
        params: Query = {"media": media, "playbackId": playback_id}
        path = f"/{target_kind}/{_seg(target_id)}/play"
        return _object(await self._request("POST", path, params=params))

    async def stop_playback(self, playback_id: str) -> None:
        await self._request("DELETE", f"/playbacks/{_seg(playback_id)}")

    async def record(
        self,
        target_kind: TargetKind,
        target_id: str,
        name: str,
        *,
        format: str = "wav",
        max_duration_s: int | None = None,
        max_silence_s: int | None = None,
        if_exists: Literal["fail", "overwrite", "append"] = "overwrite",
        beep: bool = False,
        terminate_on: Literal["none", "any", "*", "#"] = "none",
    ) -> Json:
        """Start a live recording named `name`; returns the LiveRecording."""
        params: Query = {
            "name": name,
            "format": format,
            "maxDurationSeconds": max_duration_s,
            "maxSilenceSeconds": max_silence_s,
            "ifExists": if_exists,
            "beep": beep,
            "terminateOn": terminate_on,
        }
        path = f"/{target_kind}/{_seg(target_id)}/record"
        return _object(await self._request("POST", path, params=params))

    async def stop_recording(self, name: str) -> None:
        await self._request("POST", f"/recordings/live/{_seg(name)}/stop")

    async def delete_stored_recording(self, name: str) -> None:
        await self._request("DELETE", f"/recordings/stored/{_seg(name)}")

    async def create_bridge(
        self, bridge_type: str = "mixing", *, bridge_id: str | None = None, name: str | None = None
    ) -> Json:
        params: Query = {"type": bridge_type, "bridgeId": bridge_id, "name": name}
        return _object(await self._request("POST", "/bridges", params=params))

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._request("DELETE", f"/bridges/{_seg(bridge_id)}")

    async def add_channel(
        self, bridge_id: str, channel_id: str, *, role: str | None = None
    ) -> None:
        params: Query = {"channel": channel_id, "role": role}
        await self._request("POST", f"/bridges/{_seg(bridge_id)}/addChannel", params=params)

    async def remove_channel(self, bridge_id: str, channel_id: str) -> None:
        params: Query = {"channel": channel_id}
        await self._request("POST", f"/bridges/{_seg(bridge_id)}/removeChannel", params=params)

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        params: Query = {"mohClass": moh_class}
        await self._request("POST", f"/channels/{_seg(channel_id)}/moh", params=params)

    async def stop_moh(self, channel_id: str) -> None:
        await self._request("DELETE", f"/channels/{_seg(channel_id)}/moh")

    async def start_bridge_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        params: Query = {"mohClass": moh_class}
        await self._request("POST", f"/bridges/{_seg(bridge_id)}/moh", params=params)

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self._request("DELETE", f"/bridges/{_seg(bridge_id)}/moh")

    async def list_channels(self) -> list[Json]:
        return _array(await self._request("GET", "/channels"))

    async def list_bridges(self) -> list[Json]:
        return _array(await self._request("GET", "/bridges"))

    async def get_endpoint(self, technology: str, resource: str) -> Json:
        """GET /endpoints/{tech}/{resource}: its "state" is online, offline or unknown."""
        return _object(
            await self._request("GET", f"/endpoints/{_seg(technology)}/{_seg(resource)}")
        )

    async def subscribe(self, event_source: str) -> Json:
        """Subscribe our app to e.g. "channel:ID", "bridge:ID" or "endpoint:PJSIP/100"."""
        path = f"/applications/{_seg(self._settings.app)}/subscription"
        return _object(await self._request("POST", path, params={"eventSource": event_source}))

    async def unsubscribe(self, event_source: str) -> Json:
        """Undo subscribe(); Asterisk keeps an app's subscriptions after its websocket closes."""
        path = f"/applications/{_seg(self._settings.app)}/subscription"
        return _object(await self._request("DELETE", path, params={"eventSource": event_source}))

    async def snoop(
        self,
        channel_id: str,
        *,
        spy: Literal["none", "both", "out", "in"] = "in",
        whisper: Literal["none", "both", "out", "in"] = "none",
        app: str,
        app_args: str | None = None,
        snoop_id: str | None = None,
    ) -> Json:
        """Create a snoop channel on `channel_id` placed in Stasis `app`; returns the Channel."""
        params: Query = {
            "spy": spy,
            "whisper": whisper,
            "app": app,
            "appArgs": app_args,
            "snoopId": snoop_id,
        }
        path = f"/channels/{_seg(channel_id)}/snoop"
        return _object(await self._request("POST", path, params=params))

    async def put_config_object(
        self, config_class: str, object_type: str, object_id: str, fields: Mapping[str, str]
    ) -> list[Json]:
        """Create or update a dynamic configuration object, e.g. ("res_pjsip", "endpoint",
        "web-1-ab12"), through a sorcery backend that accepts writes (memory); returns the
        object's fields as Asterisk stored them."""
        path = (
            f"/asterisk/config/dynamic/{_seg(config_class)}/{_seg(object_type)}/{_seg(object_id)}"
        )
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        return _array(await self._request("PUT", path, json=body))

    async def delete_config_object(
        self, config_class: str, object_type: str, object_id: str
    ) -> None:
        """Delete a dynamic configuration object; AriNotFound when it does not exist."""
        path = (
            f"/asterisk/config/dynamic/{_seg(config_class)}/{_seg(object_type)}/{_seg(object_id)}"
        )
        await self._request("DELETE", path)

    # --- HTTP plumbing ------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, params: Query | None = None, json: Any = None
    ) -> Any:
        """Send one request; return the decoded JSON body, or None for 204."""
        status, data = await self._send(method, path, params=params, json=json)
        if status >= 400:
            raise self._error(method, path, status, data)
        return data

    async def _send(
        self, method: str, path: str, *, params: Query | None = None, json: Any = None
    ) -> tuple[int, Any]:
        if self._session.closed:
            raise AriError(f"the ARI client for {self._base} is closed; use it inside connect()")
        started = time.monotonic()
        try:
            async with self._session.request(
                method, self._base + path, params=_query(params), json=json
            ) as response:
                status, body = response.status, await response.read()
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise self._unavailable(method, path, exc) from exc
        except aiohttp.ClientError as exc:
            raise AriError(f"ARI {method} {path} failed: {exc!r}") from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        if elapsed_ms > SLOW_REQUEST_S * 1000:
            log.warning("ARI %s %s took %.0f ms", method, path, elapsed_ms)
        log.debug("ARI %s %s -> %d in %.0f ms", method, path, status, elapsed_ms)
        return status, _decode(body)

    def _error(self, method: str, path: str, status: int, data: Any) -> AriError:
        message = _message(data, f"HTTP {status}")
        if status == 404:
            return AriNotFound(f"ARI {method} {path}: {message} (HTTP 404)")
        if status == 401:
            return AriUnauthorized(
                f"Asterisk ARI at {self._settings.url} rejected user {self._settings.username!r}"
                f" ({method} {path}): check the ARI username and password."
            )
        return AriError(f"ARI {method} {path} failed with HTTP {status}: {message}")

    def _unavailable(self, method: str, path: str, exc: BaseException) -> AriUnavailable:
        reason = str(exc) or type(exc).__name__
        return AriUnavailable(
            f"cannot reach Asterisk ARI at {self._settings.url}: is the PBX running and its"
            f" HTTP server listening there? ({method} {path}: {reason})"
        )

    # --- lifetime -----------------------------------------------------------------------

    async def _start(self) -> None:
        try:
            await self.info()
        except AriNotFound as exc:
            raise AriError(
                f"{self._settings.url} answered but has no ARI at /ari: enable ARI in"
                " http.conf and ari.conf."
            ) from exc
        if self._settings.app:
            await self._stream.start()
        log.info("connected to Asterisk ARI at %s as app %r", self._base, self._settings.app)

    async def _close(self) -> None:
        try:
            await self._stream.close()
        finally:
            await self._session.close()


def _seg(value: str) -> str:
    """Quote an id for use as one URL path segment."""
    return quote(value, safe="")


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
        return text  # e.g. a proxy's error page: kept for the message, rejected by _object()


def _message(data: Any, default: str) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    if isinstance(data, str) and data.strip():
        return data.strip()[:200]
    return default


def _object(data: Any) -> Json:
    if not isinstance(data, dict):
        raise AriError(f"ARI answered {data!r:.200} where a JSON object was expected")
    return data


def _array(data: Any) -> list[Json]:
    if not isinstance(data, list):
        raise AriError(f"ARI answered {data!r:.200} where a JSON array was expected")
    return data
