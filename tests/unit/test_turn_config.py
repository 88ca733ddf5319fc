"""The proxy and TURN settings (engine/config.py): [web] public_url, trusted_proxies,
ice_transport_policy and [turn], each bad value refused with one sentence."""

from __future__ import annotations

import ipaddress

import pytest

from engine.config import STATIC_TURN, load_config
from engine.errors import ConfigError

TURN = {"PHONEBANK_TURN_URLS": "turn:dial.example.org:3478", "PHONEBANK_TURN_SECRET": "s3cret"}


def test_defaults_are_not_behind_a_proxy_and_have_no_turn() -> None:
    cfg = load_config(environ={})
    assert (cfg.web.public_url, cfg.web.behind_proxy, cfg.web.cookies_secure) == ("", False, False)
    assert cfg.web.trusted_proxy_networks() == []
    assert cfg.web.ice_transport_policy == "all"
    assert (cfg.turn.url_list(), cfg.turn.secret, cfg.turn.ttl_seconds) == ([], "", 43200)


def test_public_url_makes_cookies_secure_and_trusts_loopback_by_default() -> None:
    cfg = load_config(environ={"PHONEBANK_WEB_PUBLIC_URL": "https://dial.example.org:8443"})
    assert cfg.web.behind_proxy and cfg.web.cookies_secure
    assert cfg.web.trusted_proxy_networks() == [
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    ]


def test_secure_cookies_alone_still_makes_cookies_secure() -> None:
    assert load_config(environ={"PHONEBANK_WEB_SECURE_COOKIES": "true"}).web.cookies_secure


def test_trusted_proxies_take_addresses_and_cidrs() -> None:
    cfg = load_config(environ={"PHONEBANK_WEB_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"})
    assert cfg.web.trusted_proxy_networks() == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://dial.example.org",
        "dial.example.org",
        "https://",
        "https://x.org/app",
        "https://x:99999",
    ],
)
def test_a_public_url_that_is_not_an_https_origin_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"web\.public_url must be the https:// address"):
        load_config(environ={"PHONEBANK_WEB_PUBLIC_URL": url})


def test_a_bad_trusted_proxy_is_named() -> None:
    with pytest.raises(ConfigError, match=r"web\.trusted_proxies has 'caddy'"):
        load_config(environ={"PHONEBANK_WEB_TRUSTED_PROXIES": "127.0.0.1,caddy"})


def test_a_bad_ice_transport_policy_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"must be one of \['all', 'relay'\]"):
        load_config(environ={"PHONEBANK_WEB_ICE_TRANSPORT_POLICY": "tcp"})


def test_relay_needs_a_turn_server() -> None:
    with pytest.raises(ConfigError, match="'relay' but no TURN server is set"):
        load_config(environ={"PHONEBANK_WEB_ICE_TRANSPORT_POLICY": "relay"})
    cfg = load_config(environ={"PHONEBANK_WEB_ICE_TRANSPORT_POLICY": "relay", **TURN})
    assert cfg.web.ice_transport_policy == "relay"


def test_turn_urls_and_secret_go_together() -> None:
    with pytest.raises(ConfigError, match=r"turn\.urls is set but turn.secret is not"):
        load_config(environ={"PHONEBANK_TURN_URLS": "turn:x:3478"})
    with pytest.raises(ConfigError, match=r"turn\.secret is set but turn.urls is not"):
        load_config(environ={"PHONEBANK_TURN_SECRET": "s"})


def test_turn_urls_are_split_and_must_be_turn_urls() -> None:
    cfg = load_config(
        environ={
            **TURN,
            "PHONEBANK_TURN_URLS": "turn:h:3478?transport=udp, turn:h:3478?transport=tcp",
        }
    )
    assert cfg.turn.url_list() == ["turn:h:3478?transport=udp", "turn:h:3478?transport=tcp"]
    with pytest.raises(ConfigError, match="must start with turn: or turns:"):
        load_config(environ={**TURN, "PHONEBANK_TURN_URLS": "stun:h:3478"})


@pytest.mark.parametrize("ttl", ["0", "-5"])
def test_a_ttl_of_zero_or_less_is_refused(ttl: str) -> None:
    with pytest.raises(ConfigError, match=r"turn\.ttl_seconds must be more than 0"):
        load_config(environ={**TURN, "PHONEBANK_TURN_TTL_SECONDS": ttl})


@pytest.mark.parametrize(
    "entry",
    [
        '{"urls": "turn:t.example.org:3478", "username": "u", "credential": "p"}',
        '{"urls": ["stun:s:3478", "turns:t:5349"], "username": "u", "credential": "p"}',
    ],
)
def test_static_turn_passwords_in_ice_servers_are_refused(entry: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ={"PHONEBANK_WEB_ICE_SERVERS": f"[{entry}]"})
    assert str(caught.value) == STATIC_TURN


def test_a_turn_server_without_credentials_in_ice_servers_points_to_turn_section() -> None:
    with pytest.raises(ConfigError, match=r"put it in \[turn\] urls"):
        load_config(environ={"PHONEBANK_WEB_ICE_SERVERS": '[{"urls": "turn:t:3478"}]'})


def test_stun_servers_stay_allowed_in_ice_servers() -> None:
    raw = '[{"urls": "stun:stun.example.org:3478"}]'
    assert load_config(environ={"PHONEBANK_WEB_ICE_SERVERS": raw}).web.ice_server_list()
