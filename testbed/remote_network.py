"""A volunteer at home behind NAT, on this machine: network namespaces, veth pairs and NAT.

::

    client ns                 router ns (NAT)                  this machine
    192.168.77.2 ──veth── 192.168.77.1 │ 10.78.N.2 ──veth── 10.78.N.1 ("public" server)

The client namespace (where the browser runs) reaches the server only through the router,
which masquerades it onto the link to the host, like a home router. In the router, UDP to the
server is dropped except to the TURN port, and nothing new comes in from the server side. The
router has no default route, so nothing can leave this machine. Every name carries a prefix
and the creating process's id: leftovers of a killed earlier run are found by the prefix and
removed when their process is gone. ``remote_network()`` removes what it made, also when the
test inside it fails or is interrupted.

The command lists are pure functions (unit-tested); ``remote_network`` runs them as root.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

PREFIX = "pbnat"
"""Every namespace and host link this module creates starts with this."""
LAN = "192.168.77"
"""The home network inside the namespaces (never on the host)."""
UPLINK_BASE = "10.78"
"""The router-host links are 10.78.N.0/30; N is picked so that the host has no such address."""

Command = list[str]


@dataclass(frozen=True)
class RemoteNetwork:
    """The names and addresses of one run's namespaces and links."""

    tag: str
    """Unique per run: the creating process's id (and a counter within it)."""
    subnet: int
    """N of the 10.78.N.0/30 link between the router and the host."""
    turn_port: int
    """The only UDP port of the server the router lets through."""

    @property
    def client_ns(self) -> str:
        return f"{PREFIX}-c{self.tag}"

    @property
    def router_ns(self) -> str:
        return f"{PREFIX}-r{self.tag}"

    @property
    def host_link(self) -> str:
        """The host's end of the router-host link (also the name prefix of leftovers)."""
        return f"{PREFIX}h{self.tag}"[:15]

    @property
    def router_uplink(self) -> str:
        return f"{PREFIX}u{self.tag}"[:15]

    @property
    def router_lan(self) -> str:
        return f"{PREFIX}l{self.tag}"[:15]

    @property
    def client_link(self) -> str:
        return f"{PREFIX}c{self.tag}"[:15]

    @property
    def server_address(self) -> str:
        """The server's address as the volunteer sees it (on the host's end of the link)."""
        return f"{UPLINK_BASE}.{self.subnet}.1"

    @property
    def router_address(self) -> str:
        """The router's "public" address: what the server sees the volunteer come from."""
        return f"{UPLINK_BASE}.{self.subnet}.2"

    @property
    def client_address(self) -> str:
        return f"{LAN}.2"


def new_network(tag: str, host_addresses: Sequence[str], turn_port: int) -> RemoteNetwork:
    """A network whose 10.78.N.0/30 link clashes with none of ``host_addresses``.

    Raises RuntimeError when all 256 subnets are taken.
    """
    taken = {
        int(match.group(1))
        for address in host_addresses
        if (match := re.match(rf"{re.escape(UPLINK_BASE)}\.(\d+)\.", address))
    }
    start = sum(map(ord, tag)) % 256
    for step in range(256):
        subnet = (start + step) % 256
        if subnet not in taken:
            return RemoteNetwork(tag, subnet, turn_port)
    raise RuntimeError(f"every {UPLINK_BASE}.N.0/30 link is in use on this machine")


def setup_commands(net: RemoteNetwork) -> list[Command]:
    """The commands that build ``net`` (run in this order, as root)."""
    router = f"ip netns exec {net.router_ns}"
    client = f"ip netns exec {net.client_ns}"
    server = net.server_address
    lines = [
        f"ip netns add {net.router_ns}",
        f"ip netns add {net.client_ns}",
        # IPv4 only: an IPv6 link-local address appearing a moment after the link comes up
        # is a "network change" to Chromium, which then aborts its requests in flight.
        *(
            f"ip netns exec {ns} sysctl -q -w net.ipv6.conf.{which}.disable_ipv6=1"
            for ns in (net.router_ns, net.client_ns)
            for which in ("all", "default")
        ),
        # Router <-> host: the router's "internet" is just this one link to the server.
        f"ip link add {net.host_link} type veth peer name {net.router_uplink}",
        f"ip link set {net.router_uplink} netns {net.router_ns}",
        f"ip addr add {server}/30 dev {net.host_link}",
        f"ip link set {net.host_link} up",
        f"{router} ip addr add {net.router_address}/30 dev {net.router_uplink}",
        f"{router} ip link set {net.router_uplink} up",
        f"{router} ip link set lo up",
        # Router <-> client: the home network.
        f"ip link add {net.router_lan} netns {net.router_ns} type veth"
        f" peer name {net.client_link} netns {net.client_ns}",
        f"{router} ip addr add {LAN}.1/24 dev {net.router_lan}",
        f"{router} ip link set {net.router_lan} up",
        f"{client} ip addr add {net.client_address}/24 dev {net.client_link}",
        f"{client} ip link set {net.client_link} up",
        f"{client} ip link set lo up",
        f"{client} ip route add default via {LAN}.1",
        # The router forwards and masquerades (its own sysctl: the host's is untouched); new
        # connections from the server side are dropped, UDP to the server only reaches TURN.
        f"{router} sysctl -q -w net.ipv4.ip_forward=1",
        f"{router} iptables -t nat -A POSTROUTING -o {net.router_uplink} -j MASQUERADE",
        f"{router} iptables -A FORWARD -i {net.router_uplink} -m conntrack"
        " --ctstate ESTABLISHED,RELATED -j ACCEPT",
        f"{router} iptables -A FORWARD -i {net.router_uplink} -j DROP",
        f"{router} iptables -A FORWARD -p udp -d {server} --dport {net.turn_port} -j ACCEPT",
        f"{router} iptables -A FORWARD -p udp -d {server} -j DROP",
    ]
    return [line.split() for line in lines]


def teardown_commands(namespaces: Sequence[str], host_links: Sequence[str]) -> list[Command]:
    """Remove namespaces (their links and rules go with them) and host links left behind."""
    return [["ip", "netns", "delete", name] for name in namespaces] + [
        ["ip", "link", "delete", link] for link in host_links
    ]


def owner_pid(name: str) -> int | None:
    """The id of the process that created a namespace or link of this module, from its name."""
    match = re.match(rf"{PREFIX}-?[a-z](\d+)", name)
    return int(match.group(1)) if match else None


def leftovers(
    namespaces: Sequence[str], host_links: Sequence[str], alive: set[int]
) -> tuple[list[str], list[str]]:
    """Which of the machine's namespaces and links are ours and belong to no live process."""

    def stale(name: str) -> bool:
        pid = owner_pid(name)
        return name.startswith(PREFIX) and pid is not None and pid not in alive

    return [n for n in namespaces if stale(n)], [n for n in host_links if stale(n)]


def network_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def host_links() -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True)
    return [line.split(":")[1].strip().split("@")[0] for line in out.stdout.splitlines()]


def host_addresses() -> list[str]:
    out = subprocess.run(
        ["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True
    )
    return [line.split()[3] for line in out.stdout.splitlines()]


def _running_pids() -> set[int]:
    return {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}


def _run(commands: list[Command], check: bool) -> None:
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode and check:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        if done.returncode:
            log.warning("cleanup: %s failed: %s", " ".join(command), done.stderr.strip())


def _remove(namespaces: list[str], links: list[str]) -> None:
    """Delete those of ``namespaces`` that exist, then those of ``links`` still there (a veth
    goes away with its peer's namespace)."""
    _run(teardown_commands([n for n in namespaces if n in network_namespaces()], []), False)
    _run(teardown_commands([], [link for link in links if link in host_links()]), False)


def remove_leftovers() -> None:
    """Remove namespaces and host links of earlier runs whose process is gone (killed)."""
    namespaces, links = leftovers(network_namespaces(), host_links(), _running_pids())
    if namespaces or links:
        log.info("removing leftovers of a killed run: %s", namespaces + links)
        _remove(namespaces, links)


_counter = iter(range(1_000_000))


@contextlib.contextmanager
def remote_network(turn_port: int) -> Iterator[RemoteNetwork]:
    """Build a volunteer's NAT'd home network; remove every namespace and link on exit.

    Raises RuntimeError naming the failed command when the network cannot be built.
    """
    remove_leftovers()
    tag = f"{os.getpid()}x{next(_counter)}"
    net = new_network(tag, host_addresses(), turn_port)
    try:
        _run(setup_commands(net), check=True)
        log.info("remote network %s: server %s", net.tag, net.server_address)
        yield net
    finally:
        _remove([net.client_ns, net.router_ns], [net.host_link])


def netns_exec(namespace: str) -> Command:
    """The command prefix that runs a program inside ``namespace``."""
    return ["ip", "netns", "exec", namespace]
