from __future__ import annotations

import socket

import pytest

from engine.errors import SetupError
from engine.pbx.ports import pick_port, pick_rtp_range, port_free


def test_a_busy_wanted_port_is_named_with_the_key_to_change() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_free(port, socket.SOCK_STREAM)
        with pytest.raises(SetupError, match=rf"port {port}/tcp .* set pbx.x_port"):
            pick_port(socket.SOCK_STREAM, port, "test service", "pbx.x_port")


def test_zero_picks_a_free_port() -> None:
    port = pick_port(socket.SOCK_DGRAM)
    assert port_free(port, socket.SOCK_DGRAM)


def test_rtp_range_avoids_given_ports_and_is_free() -> None:
    avoid = set(range(20000, 59000))
    start, end = pick_rtp_range(avoid, size=10)
    assert end - start == 9
    assert not set(range(start, end + 1)) & avoid


def test_a_free_port_already_picked_for_something_not_listening_yet_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A Kamailio front's port is picked before it binds, while the nodes behind it pick theirs:
    # free at that moment, but taken (CI once gave a node the front's port).
    draws = iter([15001, 15001, 15002])
    monkeypatch.setattr("engine.pbx.ports.random.randint", lambda low, high: next(draws))
    monkeypatch.setattr("engine.pbx.ports.port_free", lambda port, kind: True)
    assert pick_port(socket.SOCK_DGRAM, avoid={15001}) == 15002


def test_the_carrier_and_dialer_ports_avoid_ports_picked_before_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.config import PbxConfig
    from engine.pbx.dialer import pick_dialer_ports
    from testbed.carrier import pick_carrier_ports

    draws = iter([16001, 16001, 16002, 16002, 16003])
    monkeypatch.setattr("engine.pbx.ports.random.randint", lambda low, high: next(draws))
    monkeypatch.setattr("engine.pbx.ports.port_free", lambda port, kind: True)
    monkeypatch.setattr("engine.pbx.dialer.pick_rtp_range", lambda used: (20000, 20999))
    carrier = pick_carrier_ports(PbxConfig(), {16001})
    assert (carrier.sip, carrier.http) == (16002, 16003)
    draws = iter([16002, 16004, 16003, 16004, 16005])
    dialer = pick_dialer_ports(PbxConfig(), {carrier.sip, carrier.http})
    assert (dialer.sip, dialer.http) == (16004, 16005)
