from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import load_config, rtp_port_range
from engine.errors import ConfigError


def test_defaults_need_no_file_and_no_environment() -> None:
    cfg = load_config(environ={})
    assert cfg.pbx.asterisk == "rootfs"
    assert cfg.pbx.cache_dir == Path("/var/cache/phonebank")


def test_toml_file_sets_values(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.toml"
    path.write_text('[pbx]\ncache_dir = "/srv/cache"\ndialer_sip_port = 5070\n')
    cfg = load_config(path, environ={})
    assert cfg.pbx.cache_dir == Path("/srv/cache")
    assert cfg.pbx.dialer_sip_port == 5070


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.toml"
    path.write_text("[pbx]\ndialer_sip_port = 5070\n")
    cfg = load_config(path, environ={"PHONEBANK_PBX_DIALER_SIP_PORT": "5080"})
    assert cfg.pbx.dialer_sip_port == 5080


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.toml"
    path.write_text("[pbx]\ncache_dri = '/x'\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'pbx\.cache_dri'"):
        load_config(path, environ={})


def test_bad_number_names_the_environment_variable() -> None:
    with pytest.raises(ConfigError, match="PHONEBANK_PBX_DIALER_SIP_PORT has a bad value 'five'"):
        load_config(environ={"PHONEBANK_PBX_DIALER_SIP_PORT": "five"})


def test_choice_outside_the_allowed_values_lists_them() -> None:
    with pytest.raises(ConfigError, match=r"must be one of \['rootfs', 'host'\]"):
        load_config(environ={"PHONEBANK_PBX_ASTERISK": "docker"})


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_invalid_toml_says_so(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.toml"
    path.write_text("[pbx\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(path, environ={})


def test_ice_servers_default_to_none_and_take_a_json_list() -> None:
    assert load_config(environ={}).web.ice_server_list() == []
    raw = '[{"urls": "stun:stun.example.org:3478"}]'
    cfg = load_config(environ={"PHONEBANK_WEB_ICE_SERVERS": raw})
    assert cfg.web.ice_server_list() == [{"urls": "stun:stun.example.org:3478"}]


@pytest.mark.parametrize("raw", ["stun:x", '{"urls": "stun:x"}', '[{"url": "stun:x"}]'])
def test_ice_servers_that_are_not_a_list_of_urls_objects_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"web\.ice_servers"):
        load_config(environ={"PHONEBANK_WEB_ICE_SERVERS": raw})


def test_the_documented_stun_turn_example_is_a_valid_configuration(tmp_path: Path) -> None:
    """docs/softphone.md's example loads as it is: STUN in [web], TURN with a secret in [turn]."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "softphone.md").read_text()
    example = doc.split("```toml\n[web]\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "phonebank.toml"
    path.write_text("[web]\n" + example)
    cfg = load_config(path, environ={})
    assert [s["urls"] for s in cfg.web.ice_server_list()] == ["stun:stun.example.org:3478"]
    assert len(cfg.turn.url_list()) == 2 and cfg.turn.secret


@pytest.mark.parametrize("raw", ["10000", "10000-", "x-y", "20000-10000", "80-1000", "10000-10010"])
def test_a_bad_rtp_range_is_named(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"pbx\.dialer_rtp_ports must be a UDP port range"):
        load_config(environ={"PHONEBANK_PBX_DIALER_RTP_PORTS": raw})


def test_a_good_rtp_range_loads() -> None:
    cfg = load_config(environ={"PHONEBANK_PBX_DIALER_RTP_PORTS": "10000-19999"})
    assert rtp_port_range(cfg.pbx.dialer_rtp_ports) == (10000, 19999)


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("PHONEBANK_PBX_DIALER_HTTP_BIND", "node3.example.org", "must be an IP address"),
        ("PHONEBANK_PBX_DIALER_ARI_PASSWORD", "short1", "at least 16 letters and digits"),
        ("PHONEBANK_PBX_DIALER_ARI_PASSWORD", "sixteen chars; no", "at least 16 letters"),
    ],
)
def test_bad_node_http_settings_are_named(setting: str, value: str, says: str) -> None:
    assert load_config(environ={}).pbx.dialer_http_bind == "127.0.0.1"
    with pytest.raises(ConfigError, match=says):
        load_config(environ={setting: value})


@pytest.mark.parametrize("address", ["0.0.0.0", "dialer.example.org", "10.0.0.5:4000", ""])
def test_the_detector_s_listen_address_must_be_one_address_of_this_machine(address: str) -> None:
    assert load_config(environ={}).amd.listen_address == "127.0.0.1"
    assert load_config(environ={"PHONEBANK_AMD_LISTEN_ADDRESS": "10.0.0.5"}).amd.listen_address
    with pytest.raises(ConfigError, match=r"amd\.listen_address must be one IP address"):
        load_config(environ={"PHONEBANK_AMD_LISTEN_ADDRESS": address})


def test_amd_engine_is_app_amd_unless_set_and_refuses_others() -> None:
    assert load_config(environ={}).amd.engine == "app_amd"
    assert load_config(environ={"PHONEBANK_AMD_ENGINE": "streaming"}).amd.engine == "streaming"
    with pytest.raises(ConfigError, match="PHONEBANK_AMD_ENGINE must be one of"):
        load_config(environ={"PHONEBANK_AMD_ENGINE": "magic"})
