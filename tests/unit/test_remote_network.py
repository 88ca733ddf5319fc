"""The pure parts of the test bed's NAT'd volunteer network (testbed/remote_network.py)."""

from __future__ import annotations

from testbed.remote_network import (
    PREFIX,
    RemoteNetwork,
    leftovers,
    new_network,
    owner_pid,
    setup_commands,
    teardown_commands,
)

NET = RemoteNetwork("4242x0", 7, 3478)


def test_names_fit_the_kernels_limit_and_carry_the_prefix() -> None:
    for name in (NET.host_link, NET.router_uplink, NET.router_lan, NET.client_link):
        assert len(name) <= 15 and name.startswith(PREFIX)
    assert NET.client_ns.startswith(PREFIX) and NET.router_ns.startswith(PREFIX)


def test_the_link_avoids_subnets_the_host_already_has() -> None:
    taken = [f"10.78.{n}.1/30" for n in range(256) if n != 9]
    net = new_network("1x0", ["127.0.0.1/8", *taken], 3478)
    assert net.server_address == "10.78.9.1" and net.router_address == "10.78.9.2"


def test_the_router_masquerades_and_lets_udp_reach_only_the_turn_port() -> None:
    commands = [" ".join(c) for c in setup_commands(NET)]
    router = f"ip netns exec {NET.router_ns} "
    rules = [c.removeprefix(router) for c in commands if c.startswith(router + "iptables")]
    assert rules == [
        f"iptables -t nat -A POSTROUTING -o {NET.router_uplink} -j MASQUERADE",
        f"iptables -A FORWARD -i {NET.router_uplink} -m conntrack --ctstate ESTABLISHED,RELATED"
        " -j ACCEPT",
        f"iptables -A FORWARD -i {NET.router_uplink} -j DROP",
        "iptables -A FORWARD -p udp -d 10.78.7.1 --dport 3478 -j ACCEPT",
        "iptables -A FORWARD -p udp -d 10.78.7.1 -j DROP",
    ]
    # Forwarding is switched on in the router namespace only, never on the host.
    assert [c for c in commands if "ip_forward" in c] == [
        router + "sysctl -q -w net.ipv4.ip_forward=1"
    ]


def test_only_the_client_gets_a_default_route_and_it_points_at_the_router() -> None:
    routes = [" ".join(c) for c in setup_commands(NET) if "route" in c]
    assert routes == [f"ip netns exec {NET.client_ns} ip route add default via 192.168.77.1"]


def test_the_namespaces_have_no_ipv6_to_change_under_the_browser() -> None:
    commands = [" ".join(c) for c in setup_commands(NET)]
    for namespace in (NET.client_ns, NET.router_ns):
        for which in ("all", "default"):
            line = f"ip netns exec {namespace} sysctl -q -w net.ipv6.conf.{which}.disable_ipv6=1"
            assert line in commands
    # Switched off before any link is made in (or moved to) the namespaces.
    first_link = next(n for n, c in enumerate(commands) if c.startswith("ip link add"))
    assert all(n < first_link for n, c in enumerate(commands) if "disable_ipv6" in c)


def test_the_host_gets_one_address_on_its_own_link() -> None:
    on_host = [c for c in setup_commands(NET) if c[:3] == ["ip", "addr", "add"]]
    assert on_host == [["ip", "addr", "add", "10.78.7.1/30", "dev", NET.host_link]]


def test_leftovers_are_ours_and_belong_to_dead_processes() -> None:
    namespaces = [f"{PREFIX}-c11x0", f"{PREFIX}-r11x0", f"{PREFIX}-c22x0", "someone-else-33"]
    links = ["eth0", f"{PREFIX}h11x0", f"{PREFIX}h22x0"]
    assert owner_pid(f"{PREFIX}-r11x0") == 11 and owner_pid("eth0") is None
    assert leftovers(namespaces, links, alive={22}) == (
        [f"{PREFIX}-c11x0", f"{PREFIX}-r11x0"],
        [f"{PREFIX}h11x0"],
    )


def test_teardown_deletes_namespaces_then_links() -> None:
    assert teardown_commands(["a"], ["b"]) == [
        ["ip", "netns", "delete", "a"],
        ["ip", "link", "delete", "b"],
    ]
