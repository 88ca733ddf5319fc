"""TURN REST API credentials (engine/security/turn_credentials.py), against known vectors
(computed independently with `openssl dgst -sha1 -hmac north -binary | base64`)."""

from __future__ import annotations

from engine.config import TurnConfig, WebConfig
from engine.security.turn_credentials import (
    TurnCredential,
    mint,
    softphone_ice,
    turn_ice_server,
    turn_password,
    turn_username,
)

STUN = '[{"urls": "stun:stun.example.org:3478"}]'
TURN = TurnConfig(urls="turn:t:3478?transport=udp,turn:t:3478?transport=tcp", secret="north")


def test_username_is_expiry_colon_pb_session() -> None:
    assert turn_username(1700000000, 7) == "1700000000:pb-7"


def test_password_is_base64_hmac_sha1_of_the_username() -> None:
    assert turn_password("north", "1700000000:pb-7") == "IiB9YRNX9puSC0BPOna/ko3/lrQ="


def test_mint_expires_ttl_seconds_from_now() -> None:
    minted = mint("north", 7, 1699956800.9, 43200)
    assert minted == TurnCredential("1700000000:pb-7", "IiB9YRNX9puSC0BPOna/ko3/lrQ=", 1700000000)


def test_different_sessions_and_secrets_get_different_credentials() -> None:
    a, b = mint("north", 1, 0, 60), mint("north", 2, 0, 60)
    assert a.username != b.username and a.credential != b.credential
    assert mint("south", 1, 0, 60).credential != a.credential


def test_ice_server_entry_has_the_urls_and_the_minted_pair() -> None:
    minted = mint("north", 7, 0, 60)
    assert turn_ice_server(["turn:t:3478"], minted) == {
        "urls": ["turn:t:3478"],
        "username": "60:pb-7",
        "credential": minted.credential,
    }


def test_softphone_ice_adds_the_minted_turn_entry_after_the_stun_servers() -> None:
    ice = softphone_ice(WebConfig(ice_servers=STUN, ice_transport_policy="relay"), TURN, 7, 100)
    assert ice["ice_transport_policy"] == "relay"
    stun, turn = ice["ice_servers"]
    assert stun == {"urls": "stun:stun.example.org:3478"}
    assert turn["urls"] == ["turn:t:3478?transport=udp", "turn:t:3478?transport=tcp"]
    assert turn["username"] == "43300:pb-7"
    assert turn["credential"] == turn_password("north", "43300:pb-7")


def test_softphone_ice_without_turn_has_only_the_stun_servers() -> None:
    ice = softphone_ice(WebConfig(ice_servers=STUN), TurnConfig(), 7, 100)
    assert ice == {
        "ice_servers": [{"urls": "stun:stun.example.org:3478"}],
        "ice_transport_policy": "all",
    }
