"""Configuration: one frozen dataclass built once at start-up.

Values come from defaults, then an optional TOML file, then ``PHONEBANK_<SECTION>_<KEY>``
environment variables (for example ``PHONEBANK_PBX_CACHE_DIR``). A missing or bad value stops
start-up with a :class:`~engine.errors.ConfigError` naming the key and what is wrong.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from engine.errors import ConfigError

AsteriskSource = Literal["rootfs", "host"]
IceTransportPolicy = Literal["all", "relay"]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK_PROXIES = "127.0.0.1,::1"
STATIC_TURN = (
    "static TURN passwords are not allowed: set [turn] secret and urls so each volunteer "
    "gets short-lived credentials"
)


@dataclass(frozen=True)
class PbxConfig:
    """Where Asterisk comes from and where its files live."""

    name: str = "pbx"
    """Name of the pair started by `phonebank pbx start` and `phonebank run` (its run directory);
    two deployments on one machine need different names."""
    asterisk: AsteriskSource = "rootfs"
    """``rootfs``: Asterisk 22 from a Debian sid rootfs run in a chroot; ``host``: an installed
    Asterisk 20 or newer (``host_asterisk``)."""
    host_asterisk: Path = Path("/usr/sbin/asterisk")
    cache_dir: Path = Path("/var/cache/phonebank")
    """Holds the rootfs (~500 MB) and the synthetic voices; reused across runs and checkouts."""
    state_dir: Path = Path("/var/lib/phonebank")
    """Holds the runtime state of ``phonebank pbx start`` (ports, PIDs, credentials)."""
    debian_suite: str = "sid"
    debootstrap_mirror: str = ""
    """Empty: debootstrap's default mirror."""
    dialer_sip_port: int = 0
    """UDP port of the dialer PBX's SIP transport; 0 picks a free one."""
    dialer_http_port: int = 0
    """Loopback port of the dialer PBX's HTTP server (ARI); 0 picks a free one."""
    carrier_sip_port: int = 0
    carrier_http_port: int = 0
    callin_number: str = "+18005550100"
    """The number volunteers dial to join a shift (the DID the carrier delivers)."""
    amd_args: str = ",,800,,,,5,512"
    """Default arguments of app_amd's AMD(); docs/testbed.md has the measurement behind them."""
    start_timeout: float = 30.0
    """Seconds an Asterisk instance may take to answer ARI after start."""
    watchdog_seconds: float = 30.0
    """An Asterisk that is alive but has not answered ARI for this long (frozen, e.g. by
    SIGSTOP) is killed and restarted by `phonebank run`."""


@dataclass(frozen=True)
class TrunkConfig:
    """A real SIP carrier. With no host, the carrier simulator is the phone network."""

    host: str = ""
    """The carrier's SIP host (name or address); empty: use the carrier simulator."""
    port: int = 5060
    username: str = ""
    """Digest username for outbound calls (and registration); empty: IP-authenticated trunk."""
    password: str = ""
    register: bool = False
    """Register with the carrier (needed by carriers that deliver call-ins to a registration)."""
    from_domain: str = ""
    """The domain in From headers, if the carrier wants its own."""
    bind: str = "127.0.0.1"
    """Address the dialer PBX's SIP transport listens on; a real carrier needs a reachable one
    (e.g. 0.0.0.0) and pbx.dialer_sip_port set to the port the carrier sends to."""
    external_address: str = ""
    """Public address to put in SIP and SDP when the PBX is behind NAT; empty: none."""


@dataclass(frozen=True)
class EngineConfig:
    """The dialer engine."""

    database: Path = Path("/var/lib/phonebank/phonebank.db")
    """SQLite database file (WAL mode)."""
    default_region: str = "US"
    """Region for phone numbers written without a country code (ISO 3166 code)."""
    originates_per_second: float = 20.0
    """Upper bound on new outbound calls per second, so bursts never overload Asterisk."""
    trunk: str = ""
    """PJSIP endpoint outbound calls go through; empty: 'trunk' when a real carrier is
    configured ([trunk] host), else 'carrier' (the simulator)."""


@dataclass(frozen=True)
class CallinConfig:
    """Volunteers calling in with their PIN: timeouts and the limits on guessing PINs
    (engine/callin/pin_limits.py; docs/security.md has the arithmetic behind the defaults)."""

    pin_idle_seconds: float = 20.0
    """A caller who types no digit for this long after the prompt is told goodbye."""
    pin_entry_seconds: float = 60.0
    """Longest time a call may spend entering its PIN (all tries), however slowly typed."""
    caller_failures: int = 6
    """Wrong PINs from one caller ID within caller_window_seconds that lock that caller ID."""
    caller_window_seconds: float = 900.0
    caller_lockout_seconds: float = 300.0
    """First lockout of a caller ID; each further one within a day doubles, up to 16 times."""
    overall_failures: int = 30
    """Wrong PINs from all callers together within overall_window_seconds that stop PIN
    entry for everyone (a guesser changing caller IDs)."""
    overall_window_seconds: float = 600.0
    overall_lockout_seconds: float = 120.0
    """First overall lockout; each further one within a day doubles, up to 16 times."""


@dataclass(frozen=True)
class WebConfig:
    """The web app and JSON API."""

    host: str = "127.0.0.1"
    port: int = 8080
    """TCP port of the web app; 0 picks a free one."""
    secure_cookies: bool = False
    """Mark cookies Secure (set this when serving over HTTPS)."""
    ice_servers: str = "[]"
    """STUN servers for browser softphones, as the JSON list RTCPeerConnection takes; empty
    on one network (a STUN server that does not answer delays every call). TURN goes in
    [turn], never here."""
    public_url: str = ""
    """The https:// address volunteers open when a TLS proxy (Caddy) is in front, e.g.
    https://dial.example.org; then cookies are Secure, responses carry HSTS, X-Forwarded-For
    is believed from trusted_proxies and softphones use wss://<that host>/ws."""
    trusted_proxies: str = ""
    """Comma-separated addresses or CIDRs whose X-Forwarded-For is believed; empty: loopback
    when public_url is set, nobody otherwise."""
    ice_transport_policy: IceTransportPolicy = "all"
    """``relay``: browser media only through TURN (restrictive networks; needs [turn])."""

    def ice_server_list(self) -> list[Any]:
        return list(json.loads(self.ice_servers))

    @property
    def behind_proxy(self) -> bool:
        return bool(self.public_url)

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies: set explicitly, or automatically behind the TLS proxy."""
        return self.secure_cookies or self.behind_proxy

    def trusted_proxy_networks(self) -> list[IpNetwork]:
        raw = self.trusted_proxies or (LOOPBACK_PROXIES if self.behind_proxy else "")
        return [_network(item) for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class TurnConfig:
    """coturn with a shared secret: each browser session gets its own short-lived TURN
    credentials (the TURN REST API scheme, engine/security/turn_credentials.py)."""

    urls: str = ""
    """Comma-separated TURN URLs, e.g. turn:dial.example.org:3478?transport=udp."""
    secret: str = ""
    """coturn's static-auth-secret."""
    ttl_seconds: int = 43200
    """How long minted credentials stay valid."""

    def url_list(self) -> list[str]:
        return [u.strip() for u in self.urls.split(",") if u.strip()]


@dataclass(frozen=True)
class LoginsConfig:
    """Sign-up, sign-in and operator tokens (docs/api.md "Limits")."""

    operator_token_hours: float = 12.0
    """How long an operator API token lasts from login (an absolute expiry)."""
    signups_per_address: int = 30
    """Sign-ups one address may make in 10 minutes (a venue's volunteers share one address)."""
    signups_per_minute: int = 120
    """Sign-ups everyone together may make in a minute."""
    hash_workers: int = 0
    """Threads hashing passwords; 0: one per CPU core less one (at least one)."""


@dataclass(frozen=True)
class Config:
    pbx: PbxConfig = field(default_factory=PbxConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    trunk: TrunkConfig = field(default_factory=TrunkConfig)
    callin: CallinConfig = field(default_factory=CallinConfig)
    web: WebConfig = field(default_factory=WebConfig)
    turn: TurnConfig = field(default_factory=TurnConfig)
    logins: LoginsConfig = field(default_factory=LoginsConfig)
    log_level: str = "INFO"


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
    if config.pbx.watchdog_seconds <= 0:
        raise ConfigError(
            f"pbx.watchdog_seconds must be more than 0, not {config.pbx.watchdog_seconds}"
        )
    if config.trunk.password and not config.trunk.username:
        raise ConfigError("trunk.password is set but trunk.username is not: set both or neither")
    return config


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


def _network(item: str) -> IpNetwork:
    try:
        return ipaddress.ip_network(item.strip(), strict=False)
    except ValueError:
        raise ConfigError(
            f"web.trusted_proxies has {item.strip()!r}, which is not an address or CIDR: "
            "list the proxy's addresses, e.g. 127.0.0.1,10.0.0.0/8"
        ) from None


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
