"""Configuration: one frozen dataclass built once at start-up.

Values come from defaults, then an optional TOML file, then ``PHONEBANK_<SECTION>_<KEY>``
environment variables (for example ``PHONEBANK_PBX_CACHE_DIR``). A missing or bad value stops
start-up with a :class:`~engine.errors.ConfigError` naming the key and what is wrong.
"""

from engine.config.loading import load_config, outbound_trunk, rtp_port_range
from engine.config.sections import (
    AMD_ENGINES,
    STATIC_TURN,
    AmdConfig,
    AmdEngine,
    AsteriskSource,
    CallinConfig,
    Config,
    EngineConfig,
    IceTransportPolicy,
    IpNetwork,
    LoginsConfig,
    NodeConfig,
    PbxConfig,
    TrunkConfig,
    TurnConfig,
    WebConfig,
)

__all__ = [
    "AMD_ENGINES",
    "STATIC_TURN",
    "AmdConfig",
    "AmdEngine",
    "AsteriskSource",
    "CallinConfig",
    "Config",
    "EngineConfig",
    "IceTransportPolicy",
    "IpNetwork",
    "LoginsConfig",
    "NodeConfig",
    "PbxConfig",
    "TrunkConfig",
    "TurnConfig",
    "WebConfig",
    "load_config",
    "outbound_trunk",
    "rtp_port_range",
]
