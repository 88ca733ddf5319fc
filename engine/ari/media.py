"""Typed wrappers of ARI's media endpoints: playbacks and recordings on a channel or a bridge.

Every method raises what AriRest.request raises: AriNotFound (HTTP 404, usually a hangup race),
AriUnauthorized, AriUnavailable or AriError.
"""

from __future__ import annotations

from typing import Literal

from engine.ari.rest import AriResource, Json, Query, json_object
from engine.ari.rest import segment as _seg

TargetKind = Literal["channels", "bridges"]


class Media(AriResource):
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
        return json_object(await self._rest.request("POST", path, params=params))

    async def stop_playback(self, playback_id: str) -> None:
        await self._rest.request("DELETE", f"/playbacks/{_seg(playback_id)}")

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
        return json_object(await self._rest.request("POST", path, params=params))

    async def stop_recording(self, name: str) -> None:
        await self._rest.request("POST", f"/recordings/live/{_seg(name)}/stop")

    async def delete_stored_recording(self, name: str) -> None:
        await self._rest.request("DELETE", f"/recordings/stored/{_seg(name)}")
