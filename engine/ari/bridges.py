"""Typed wrappers of ARI's /bridges endpoints: create, destroy, add and remove channels,
music on hold, and list.

Every method raises what AriRest.request raises: AriNotFound (HTTP 404, usually a hangup race),
AriUnauthorized, AriUnavailable or AriError.
"""

from __future__ import annotations

from engine.ari.rest import AriResource, Json, Query, json_array, json_object
from engine.ari.rest import segment as _seg


class Bridges(AriResource):
    async def create_bridge(
        self, bridge_type: str = "mixing", *, bridge_id: str | None = None, name: str | None = None
    ) -> Json:
        params: Query = {"type": bridge_type, "bridgeId": bridge_id, "name": name}
        return json_object(await self._rest.request("POST", "/bridges", params=params))

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._rest.request("DELETE", f"/bridges/{_seg(bridge_id)}")

    async def add_channel(
        self, bridge_id: str, channel_id: str, *, role: str | None = None
    ) -> None:
        params: Query = {"channel": channel_id, "role": role}
        path = f"/bridges/{_seg(bridge_id)}/addChannel"
        await self._rest.request("POST", path, params=params)

    async def remove_channel(self, bridge_id: str, channel_id: str) -> None:
        params: Query = {"channel": channel_id}
        path = f"/bridges/{_seg(bridge_id)}/removeChannel"
        await self._rest.request("POST", path, params=params)

    async def start_bridge_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        params: Query = {"mohClass": moh_class}
        await self._rest.request("POST", f"/bridges/{_seg(bridge_id)}/moh", params=params)

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self._rest.request("DELETE", f"/bridges/{_seg(bridge_id)}/moh")

    async def list_bridges(self) -> list[Json]:
        return json_array(await self._rest.request("GET", "/bridges"))
