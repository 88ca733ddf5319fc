"""Typed wrappers of ARI's /channels endpoints: originate, answer, hang up, variables, DTMF,
music on hold, snoop, external media, and list.

Every method raises what AriRest.request raises: AriNotFound (HTTP 404, usually a hangup race),
AriUnauthorized, AriUnavailable or AriError.
"""

from __future__ import annotations

from typing import Literal

from engine.ari.rest import AriResource, Json, Query, error_message, json_array, json_object
from engine.ari.rest import segment as _seg

SnoopDirection = Literal["none", "both", "out", "in"]


class Channels(AriResource):
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
        return json_object(await self._rest.request("POST", "/channels", params=params, json=body))

    async def answer(self, channel_id: str) -> None:
        await self._rest.request("POST", f"/channels/{_seg(channel_id)}/answer")

    async def hangup(
        self, channel_id: str, reason: str | None = None, *, reason_code: int | None = None
    ) -> None:
        params: Query = {"reason": reason, "reason_code": reason_code}
        await self._rest.request("DELETE", f"/channels/{_seg(channel_id)}", params=params)

    async def ring(self, channel_id: str) -> None:
        await self._rest.request("POST", f"/channels/{_seg(channel_id)}/ring")

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
        path = f"/channels/{_seg(channel_id)}/continue"
        await self._rest.request("POST", path, params=params)

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        """Return the channel variable, or None when it is unset.

        Raises AriNotFound when the channel itself is gone (ARI answers 404 in both cases;
        only its message tells them apart).
        """
        method, path = "GET", f"/channels/{_seg(channel_id)}/variable"
        status, data = await self._rest.send(method, path, params={"variable": name})
        if status == 404 and "variable was not found" in error_message(data, "").lower():
            return None
        if status >= 400:
            raise self._rest.error(method, path, status, data)
        return str(json_object(data).get("value", ""))

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        params: Query = {"variable": name, "value": value}
        path = f"/channels/{_seg(channel_id)}/variable"
        await self._rest.request("POST", path, params=params)

    async def send_dtmf(
        self,
        channel_id: str,
        dtmf: str,
        *,
        between_ms: int | None = None,
        duration_ms: int | None = None,
    ) -> None:
        params: Query = {"dtmf": dtmf, "between": between_ms, "duration": duration_ms}
        await self._rest.request("POST", f"/channels/{_seg(channel_id)}/dtmf", params=params)

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        params: Query = {"mohClass": moh_class}
        await self._rest.request("POST", f"/channels/{_seg(channel_id)}/moh", params=params)

    async def stop_moh(self, channel_id: str) -> None:
        await self._rest.request("DELETE", f"/channels/{_seg(channel_id)}/moh")

    async def snoop(
        self,
        channel_id: str,
        *,
        spy: SnoopDirection = "in",
        whisper: SnoopDirection = "none",
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
        return json_object(await self._rest.request("POST", path, params=params))

    async def external_media(
        self,
        *,
        app: str,
        external_host: str,
        audio_format: str = "ulaw",
        channel_id: str | None = None,
    ) -> Json:
        """Create an externalMedia channel (chan_rtp) in Stasis `app` that sends the audio of
        whatever it is bridged with as RTP over UDP to `external_host` (host:port); returns
        the Channel, whose channelvars name the local address it sends from
        (UNICASTRTP_LOCAL_ADDRESS, UNICASTRTP_LOCAL_PORT)."""
        params: Query = {
            "app": app,
            "external_host": external_host,
            "format": audio_format,
            "encapsulation": "rtp",
            "transport": "udp",
            "channelId": channel_id,
        }
        return json_object(
            await self._rest.request("POST", "/channels/externalMedia", params=params)
        )

    async def list_channels(self) -> list[Json]:
        return json_array(await self._rest.request("GET", "/channels"))
