"""The configuration's sections: frozen dataclasses with their defaults and documentation
(README.md "Configuration" lists every key). Built by engine/config/loading.py."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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
    """Port of the dialer PBX's HTTP server (ARI, the softphone WebSocket); 0 picks a free one."""
    dialer_http_bind: str = "127.0.0.1"
    """Address that HTTP server listens on: loopback, for an engine on the same machine; a
    dialer node of several (``[[nodes]]``, docs/scaling.md) listens on its private network's
    address (or 0.0.0.0) so the engines reach its ARI — plain HTTP with a password: never on
    a public address."""
    dialer_ari_password: str = ""
    """The dialer PBX's ARI password; empty: a new random one at each start (an engine on
    the same machine reads it from the run's state). A node the engines reach over the
    network keeps a fixed one, the ``ari_password`` of its ``[[nodes]]`` entry."""
    dialer_rtp_ports: str = ""
    """UDP port range of the dialer PBX's media, e.g. "10000-19999" (the range a firewall must
    open); empty picks a free range of 1,000 ports at each start."""
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

    database: str = "/var/lib/phonebank/phonebank.db"
    """The SQLite database file (WAL mode), or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE
    URL for the PostgreSQL store (engine/store/open.py)."""
    default_region: str = "US"
    """Region for phone numbers written without a country code (ISO 3166 code)."""
    originates_per_second: float = 20.0
    """Upper bound on new outbound calls per second, so bursts never overload Asterisk."""
    trunk: str = ""
    """PJSIP endpoint outbound calls go through; empty: 'trunk' when a real carrier is
    configured ([trunk] host), else 'carrier' (the simulator)."""
    engine_id: str = ""
    """This engine's name among several on one PostgreSQL database (the engines table, the
    node leases, /api/health); empty: host-pid."""
    sounds_dir: Path = Path("/var/lib/phonebank/sounds")
    """With ``[[nodes]]``: where the engine writes the messages it speaks (abandon, voicemail,
    log-out), as WAV files named by their text's hash; each node reads them at its
    ``nodes[].sounds_dir`` (docs/scaling.md, "Sounds on the nodes")."""


AmdEngine = Literal["app_amd", "streaming"]
AMD_ENGINES: tuple[AmdEngine, ...] = ("app_amd", "streaming")


@dataclass(frozen=True)
class AmdConfig:
    """Telling people from answering machines (a campaign's amd_engine overrides it)."""

    engine: AmdEngine = "app_amd"
    """``app_amd``: Asterisk's AMD() in the dialplan (pbx.amd_args); ``streaming``: the
    engine listens to each answered call and decides with its own detector (engine/amd/)."""
    listen_address: str = "127.0.0.1"
    """The address of this engine's machine the dialer PBX (every node) sends each answered
    call's audio to for the streaming detector (RTP, a free UDP port there): loopback when
    the PBX runs beside the engine; with nodes on other machines, an address of this machine
    they reach (a private network's)."""


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
    metrics_address: str = ""
    """host:port of a separate listener serving /metrics without authentication, for a
    Prometheus on a private network (e.g. "127.0.0.1:9464"); empty: none (the web app's
    /metrics needs an operator's token)."""

    def __post_init__(self) -> None:
        self.metrics_listen()  # a bad web.metrics_address stops start-up

    def ice_server_list(self) -> list[Any]:
        return list(json.loads(self.ice_servers))

    def metrics_listen(self) -> tuple[str, int] | None:
        """web.metrics_address as (host, port), or None when empty. Raises ConfigError."""
        if not self.metrics_address:
            return None
        host, colon, port = self.metrics_address.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not colon or not host or not port.isdigit() or int(port) > 65535:
            raise ConfigError(
                f"web.metrics_address {self.metrics_address!r} must be host:port, e.g."
                ' "127.0.0.1:9464" (port 0 picks a free one)'
            )
        return host, int(port)

    @property
    def behind_proxy(self) -> bool:
        return bool(self.public_url)

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies: set explicitly, or automatically behind the TLS proxy."""
        return self.secure_cookies or self.behind_proxy

    def trusted_proxy_networks(self) -> list[IpNetwork]:
        raw = self.trusted_proxies or (LOOPBACK_PROXIES if self.behind_proxy else "")
        return [parse_network(item) for item in raw.split(",") if item.strip()]


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
class NodeConfig:
    """One dialer Asterisk node the engine drives (``[[nodes]]``, issue 16)."""

    name: str = ""
    """A short unique name: letters, digits, '-' and '_' (sessions record it)."""
    ari_url: str = ""
    """The node's ARI base address, e.g. ``http://10.0.0.11:8088``."""
    ari_user: str = ""
    ari_password: str = ""
    sip_address: str = ""
    """``host:port`` where the SIP front (Kamailio) or the carrier reaches the node."""
    ws_url: str = ""
    """The browser softphone's WebSocket for this node, e.g. ``wss://dial.example.org/node1/ws``;
    empty: derived from ``ari_url`` (or ``web.public_url``) as for a single node."""
    sounds_dir: str = ""
    """Where the node's Asterisk reads the engine's sounds (an absolute path on the node: a
    mount of ``engine.sounds_dir``, or a copy made by ``phonebank pbx sounds``); empty: the
    same path as ``engine.sounds_dir`` (a node on the engine's machine)."""


@dataclass(frozen=True)
class Config:
    pbx: PbxConfig = field(default_factory=PbxConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    amd: AmdConfig = field(default_factory=AmdConfig)
    trunk: TrunkConfig = field(default_factory=TrunkConfig)
    callin: CallinConfig = field(default_factory=CallinConfig)
    web: WebConfig = field(default_factory=WebConfig)
    turn: TurnConfig = field(default_factory=TurnConfig)
    logins: LoginsConfig = field(default_factory=LoginsConfig)
    nodes: tuple[NodeConfig, ...] = ()
    """The dialer nodes; empty: the one dialer PBX that `phonebank run` starts."""
    log_level: str = "INFO"


def parse_network(item: str) -> IpNetwork:
    try:
        return ipaddress.ip_network(item.strip(), strict=False)
    except ValueError:
        raise ConfigError(
            f"web.trusted_proxies has {item.strip()!r}, which is not an address or CIDR: "
            "list the proxy's addresses, e.g. 127.0.0.1,10.0.0.0/8"
        ) from None
