"""Typed wrappers of ARI's /asterisk and /endpoints endpoints: system info, global variables,
dynamic configuration objects, and an endpoint's state.

Every method raises what AriRest.request raises: AriNotFound (HTTP 404), AriUnauthorized,
AriUnavailable or AriError.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.ari.rest import AriResource, Json, json_array, json_object
from engine.ari.rest import segment as _seg


class Asterisk(AriResource):
    async def info(self) -> Json:
        return json_object(await self._rest.request("GET", "/asterisk/info"))

    async def get_global_variable(self, name: str) -> str:
        """A global dialplan variable's value ("" when unset)."""
        data = await self._rest.request("GET", "/asterisk/variable", params={"variable": name})
        return "" if data is None else str(json_object(data).get("value", ""))

    async def set_global_variable(self, name: str, value: str) -> None:
        params = {"variable": name, "value": value}
        await self._rest.request("POST", "/asterisk/variable", params=params)

    async def get_endpoint(self, technology: str, resource: str) -> Json:
        """GET /endpoints/{tech}/{resource}: its "state" is online, offline or unknown."""
        path = f"/endpoints/{_seg(technology)}/{_seg(resource)}"
        return json_object(await self._rest.request("GET", path))

    async def put_config_object(
        self, config_class: str, object_type: str, object_id: str, fields: Mapping[str, str]
    ) -> list[Json]:
        """Create or update a dynamic configuration object, e.g. ("res_pjsip", "endpoint",
        "web-1-ab12"), through a sorcery backend that accepts writes (memory); returns the
        object's fields as Asterisk stored them."""
        path = _config_path(config_class, object_type, object_id)
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        return json_array(await self._rest.request("PUT", path, json=body))

    async def delete_config_object(
        self, config_class: str, object_type: str, object_id: str
    ) -> None:
        """Delete a dynamic configuration object; AriNotFound when it does not exist."""
        await self._rest.request("DELETE", _config_path(config_class, object_type, object_id))


def _config_path(config_class: str, object_type: str, object_id: str) -> str:
    return f"/asterisk/config/dynamic/{_seg(config_class)}/{_seg(object_type)}/{_seg(object_id)}"
