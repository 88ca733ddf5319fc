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
