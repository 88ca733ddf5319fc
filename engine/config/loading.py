"""Building the configuration from defaults, a TOML file and the environment, and the checks
that refuse a bad value with a sentence naming the key."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from engine.config.nodes import check_nodes
from engine.config.sections import (
    STATIC_TURN,
    CallinConfig,
    Config,
    LoginsConfig,
    PbxConfig,
    TurnConfig,
    WebConfig,
)
from engine.errors import ConfigError


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from defaults, the TOML file at ``path`` and the environment.

    Raises ConfigError for an unreadable file, an unknown key or a value of the wrong type.
    """
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"config file {path} does not exist: create it or drop --config"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    config: Config = _build(Config, data, environ, prefix="")
    _check_ice_servers(config.web.ice_servers)
    _check_proxy(config.web)
    _check_turn(config.turn, config.web)
    _check_callin(config.callin)
    _check_logins(config.logins)
    check_nodes(config.nodes)
    _check_listen_address(config.amd.listen_address)
    rtp_port_range(config.pbx.dialer_rtp_ports)
    _check_dialer_http(config.pbx)
    if config.pbx.watchdog_seconds <= 0:
        raise ConfigError(
            f"pbx.watchdog_seconds must be more than 0, not {config.pbx.watchdog_seconds}"
        )
    if config.trunk.password and not config.trunk.username:
        raise ConfigError("trunk.password is set but trunk.username is not: set both or neither")
    return config


def rtp_port_range(raw: str) -> tuple[int, int] | None:
    """``pbx.dialer_rtp_ports`` as (first, last), or None when empty. Raises ConfigError."""
    if not raw.strip():
        return None
    first, sep, last = raw.partition("-")
    try:
        low, high = int(first), int(last)
    except ValueError:
        low = high = 0
    if not sep or not 1024 <= low < high <= 65535 or high - low < 99:
        raise ConfigError(
            f'pbx.dialer_rtp_ports must be a UDP port range like "10000-19999" (at least 100 '
            f"ports, between 1024 and 65535), not {raw!r}"
        )
    return low, high


def _check_dialer_http(pbx: PbxConfig) -> None:
    try:
        ipaddress.ip_address(pbx.dialer_http_bind)
    except ValueError:
        raise ConfigError(
            "pbx.dialer_http_bind must be an IP address of this machine (or 0.0.0.0), e.g. "
            f"127.0.0.1 or 10.0.0.13, not {pbx.dialer_http_bind!r}"
        ) from None
    password = pbx.dialer_ari_password
    if password and (len(password) < 16 or not password.isascii() or not password.isalnum()):
        raise ConfigError(
            "pbx.dialer_ari_password must be at least 16 letters and digits (it guards ARI, "
            "which can place calls), or empty for a new random one at each start"
        )


def _check_listen_address(address: str) -> None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is None or ip.is_unspecified or ip.is_multicast:
        raise ConfigError(
            "amd.listen_address must be one IP address of this machine that the dialer PBX "
            f"(each node) can send audio to, e.g. 127.0.0.1 or 10.0.0.5, not {address!r}"
        )


def _check_ice_servers(raw: str) -> None:
    try:
        servers = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"web.ice_servers is not valid JSON: {exc}") from None
    if not isinstance(servers, list) or not all(
        isinstance(s, dict) and "urls" in s for s in servers
    ):
        raise ConfigError(
            "web.ice_servers must be a JSON list of objects with 'urls', e.g. "
            '[{"urls": "stun:stun.example.org:3478"}]'
        )
    for server in servers:
        urls = server["urls"] if isinstance(server["urls"], list) else [server["urls"]]
        if any(str(u).lower().startswith(("turn:", "turns:")) for u in urls):
            if "username" in server or "credential" in server:
                raise ConfigError(STATIC_TURN)
            raise ConfigError(
                "web.ice_servers lists a TURN server: put it in [turn] urls with [turn] secret "
                "so each volunteer gets short-lived credentials"
            )


def _check_proxy(web: WebConfig) -> None:
    if web.public_url and not _is_https_origin(web.public_url):
        raise ConfigError(
            "web.public_url must be the https:// address volunteers open, e.g. "
            f"https://dial.example.org or https://dial.example.org:8443, not {web.public_url!r}"
        )
    web.trusted_proxy_networks()  # raises ConfigError for a bad entry


def _is_https_origin(url: str) -> bool:
    """https://host[:port] with nothing after it but an optional '/'."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (reading it checks the port)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or parts.username)
    )


def _check_turn(turn: TurnConfig, web: WebConfig) -> None:
    if turn.urls and not turn.secret:
        raise ConfigError("turn.urls is set but turn.secret is not: set both or neither")
    if turn.secret and not turn.urls:
        raise ConfigError("turn.secret is set but turn.urls is not: set both or neither")
    for url in turn.url_list():
        if not url.lower().startswith(("turn:", "turns:")):
            raise ConfigError(
                f"turn.urls has {url!r}: each entry must start with turn: or turns:, e.g. "
                "turn:dial.example.org:3478?transport=udp"
            )
    if turn.ttl_seconds <= 0:
        raise ConfigError(f"turn.ttl_seconds must be more than 0, not {turn.ttl_seconds}")
    if web.ice_transport_policy == "relay" and not turn.urls:
        raise ConfigError(
            "web.ice_transport_policy is 'relay' but no TURN server is set: set [turn] urls "
            "and secret, or use 'all'"
        )


def _check_callin(callin: CallinConfig) -> None:
    for f in dataclasses.fields(callin):
        if getattr(callin, f.name) <= 0:
            raise ConfigError(f"callin.{f.name} must be more than 0, not {getattr(callin, f.name)}")


def _check_logins(logins: LoginsConfig) -> None:
    if logins.operator_token_hours <= 0:
        raise ConfigError("logins.operator_token_hours must be more than 0")
    for key in ("signups_per_address", "signups_per_minute"):
        if getattr(logins, key) < 1:
            raise ConfigError(f"logins.{key} must be at least 1")
    if logins.hash_workers < 0:
        raise ConfigError("logins.hash_workers must be 0 (automatic) or more")


def outbound_trunk(cfg: Config) -> str:
    """The PJSIP endpoint outbound calls use (see EngineConfig.trunk)."""
    return cfg.engine.trunk or ("trunk" if cfg.trunk.host else "carrier")


def _build(cls: type[Any], data: Mapping[str, Any], environ: Mapping[str, str], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown config key '{prefix}{key}': valid keys are {sorted(known)}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        hint = hints[f.name]
        item = _table_array_item(hint)
        if item is not None:
            values[f.name] = _build_table_array(item, data.get(f.name, []), name)
            continue
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            section = data.get(f.name, {})
            if not isinstance(section, Mapping):
                raise ConfigError(f"config key '{name}' must be a table ([{name}])")
            values[f.name] = _build(hint, section, environ, prefix=f"{name}.")
            continue
        env_name = "PHONEBANK_" + name.replace(".", "_").upper()
        if env_name in environ:
            values[f.name] = _convert(hint, environ[env_name], env_name)
        elif f.name in data:
            values[f.name] = _convert(hint, data[f.name], name)
    return cls(**values)


def _table_array_item(hint: Any) -> type[Any] | None:
    """The dataclass of a ``tuple[Section, ...]`` field (an array of tables), else None."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            return item
    return None


def _build_table_array(item: type[Any], raw: Any, name: str) -> tuple[Any, ...]:
    """``[[name]]`` tables, each built like a section (no environment overrides: an array has
    no stable names for them)."""
    if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
        raise ConfigError(f"config key '{name}' must be an array of tables ([[{name}]])")
    return tuple(_build(item, table, {}, prefix=f"{name}[{i}].") for i, table in enumerate(raw))


def _convert(hint: Any, raw: Any, name: str) -> Any:
    """Convert a TOML or environment value to the field's type, or raise ConfigError."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if raw not in choices:
            raise ConfigError(f"{name} must be one of {list(choices)}, not {raw!r}")
        return raw
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    try:
        if hint is bool:
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if hint is int and isinstance(raw, float):
            raise ValueError("expected a whole number")
        return hint(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} has a bad value {raw!r}: {exc}") from None
