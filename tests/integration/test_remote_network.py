"""The NAT'd volunteer network (testbed/remote_network.py) on this machine: it behaves like a
home router in front of the server, and removes every namespace and link it made."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from testbed.remote_network import (
    RemoteNetwork,
    host_addresses,
    host_links,
    network_namespaces,
    remote_network,
    remove_leftovers,
    setup_commands,
)

SEND_UDP = "import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', (sys.argv[1], int(sys.argv[2])))"  # noqa: E501
CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)"


def in_client(net: RemoteNetwork, script: str, *args: object) -> subprocess.CompletedProcess[str]:
    command = ["ip", "netns", "exec", net.client_ns, sys.executable, "-c", script]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=10)


def ours(net: RemoteNetwork) -> list[str]:
    names = network_namespaces() + host_links()
    return [n for n in (net.client_ns, net.router_ns, net.host_link) if n in names]


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def test_the_server_sees_the_router_and_only_turn_gets_udp() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as turn:
        turn.bind(("127.0.0.1", 0))  # any free number for the TURN port
        turn_port = turn.getsockname()[1]
    with remote_network(turn_port) as net:
        server = net.server_address
        with socket.create_server((server, 0)) as listener:
            port = listener.getsockname()[1]
            assert in_client(net, CONNECT, server, port).returncode == 0
            connection, (source, _) = listener.accept()
            connection.close()
        assert source == net.router_address  # masqueraded, like a home router
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as to_turn,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as to_other,
        ):
            to_turn.bind((server, turn_port))
            to_other.bind((server, free_udp_port(server)))
            to_turn.settimeout(5)
            to_other.settimeout(1)
            in_client(net, SEND_UDP, server, turn_port)
            in_client(net, SEND_UDP, server, to_other.getsockname()[1])
            assert to_turn.recvfrom(10)[0] == b"x"
            with pytest.raises(TimeoutError):
                to_other.recvfrom(10)
        # The host's other addresses are out of reach: the router has no default route.
        others = [a.split("/")[0] for a in host_addresses() if not a.startswith(("127.", "10.78."))]
        for address in others:
            assert "Network is unreachable" in in_client(net, CONNECT, address, 9).stderr
    assert ours(net) == []


def test_everything_is_removed_when_the_test_inside_fails() -> None:
    with pytest.raises(ZeroDivisionError), remote_network(3478) as net:
        assert len(ours(net)) == 3
        1 / 0  # noqa: B018
    assert ours(net) == []


def test_leftovers_of_a_killed_run_are_removed() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that is no longer running
    dead = RemoteNetwork(f"{gone.pid}x9", 250, 3478)
    made = [
        c for c in setup_commands(dead) if c[:3] in (["ip", "netns", "add"], ["ip", "link", "add"])
    ]
    for command in made:  # namespaces and links, as a kill in the middle leaves them
        subprocess.run(command, check=True)
    try:
        assert len(ours(dead)) == 3
        remove_leftovers()
        assert ours(dead) == []
    finally:
        for name in ours(dead):
            subprocess.run(["ip", "netns", "delete", name], check=False)
            subprocess.run(["ip", "link", "delete", name], check=False)
