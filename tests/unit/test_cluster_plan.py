"""The pure rules of node leases (engine/cluster/plan.py) and the engines table's view
(engine/cluster/engines.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.cluster.engines import EngineIdentity, engine_views, local_view
from engine.cluster.plan import LOCK_SPACE, Peer, fair_share, lock_key, lock_keys, plan

NODES = ("n1", "n2", "n3")


def peer(engine_id: str, nodes: tuple[str, ...] = (), preferred: tuple[str, ...] = ()) -> Peer:
    return Peer(engine_id, frozenset(nodes), frozenset(preferred))


def test_fair_share_is_the_ceiling_over_live_engines() -> None:
    assert [fair_share(3, engines) for engines in (0, 1, 2, 3, 4)] == [3, 3, 2, 1, 1]


def test_lock_keys_live_in_the_node_space_and_differ_per_node() -> None:
    keys = lock_keys(NODES)
    assert sorted(keys.values()) == list(NODES)
    assert all(key >> 32 == LOCK_SPACE and key < 2**63 for key in keys)
    assert lock_key("n1") == lock_key("n1") != lock_key("n2")


def test_an_engine_alone_takes_every_free_node() -> None:
    step = plan(NODES, set(), set(), [], held=set(), free_for={}, patience=3)
    assert step.take == NODES and step.release == ()


def test_an_engine_takes_no_more_than_its_share() -> None:
    step = plan(NODES, {"n1"}, set(), [peer("b")], held={"n1"}, free_for={}, patience=3)
    assert step.take == ("n2",)


def test_nodes_held_by_others_are_not_tried() -> None:
    step = plan(NODES, set(), set(), [peer("b", ("n1",))], held={"n1"}, free_for={}, patience=3)
    assert step.take == ("n2", "n3")


def test_preferred_nodes_come_first() -> None:
    step = plan(NODES, set(), {"n3"}, [], held=set(), free_for={}, patience=3)
    assert step.take == ("n3", "n1", "n2")


def test_a_node_another_engine_prefers_is_left_to_it_for_a_while() -> None:
    others = [peer("b", preferred=("n1",))]
    early = plan(("n1", "n2"), set(), set(), others, held=set(), free_for={"n1": 1}, patience=3)
    late = plan(("n1", "n2"), set(), set(), others, held=set(), free_for={"n1": 4}, patience=3)
    assert early.take == ("n2",)
    assert late.take == ("n2",), "the share (1 of 2) is full with n2"
    alone = plan(("n1",), set(), set(), others, held=set(), free_for={"n1": 4}, patience=3)
    assert alone.take == ("n1",), "unclaimed past patience: taken"


def test_an_engine_over_its_share_gives_one_node_to_an_engine_with_room() -> None:
    owned = {"n1", "n2", "n3"}
    step = plan(NODES, owned, set(), [peer("b")], held=owned, free_for={}, patience=3)
    assert step == type(step)(take=(), release=("n3",))


def test_the_node_given_up_is_the_one_the_taker_prefers() -> None:
    owned = {"n1", "n2"}
    b = peer("b", preferred=("n1",))
    step = plan(("n1", "n2"), owned, {"n2"}, [b], held=owned, free_for={}, patience=3)
    assert step.release == ("n1",)


def test_nothing_is_given_up_when_no_live_engine_has_room() -> None:
    owned = {"n1", "n2"}
    full = peer("b", ("n3",))
    step = plan(NODES, owned, set(), [full], held={"n1", "n2", "n3"}, free_for={}, patience=3)
    assert step.release == () and step.take == ()


def test_two_nodes_with_one_key_are_refused() -> None:
    with pytest.raises(ValueError, match="same lock key"):
        lock_keys(["plumless", "buckeroo"])  # a known CRC-32 collision


def test_engine_views_mark_dead_engines_and_show_no_nodes_for_them() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    row = {"host": "h", "pid": 1, "preferred": ["n1"], "started_at": started}
    rows = [
        {**row, "engine_id": "gone", "nodes": ["n2"], "age_s": 1.0, "connected": False},
        {**row, "engine_id": "stale", "nodes": ["n3"], "age_s": 9.0, "connected": True},
        {**row, "engine_id": "live", "nodes": '["n1"]', "age_s": 0.4, "connected": True},
    ]
    views = engine_views(rows, stale_after=5)
    assert [(v.engine_id, v.alive, v.nodes) for v in views] == [
        ("live", True, ("n1",)),
        ("gone", False, ()),
        ("stale", False, ()),
    ]
    assert views[0].preferred == ("n1",) and views[0].heartbeat_age_s == 0.4


def test_with_sqlite_the_view_is_the_one_engine_owning_every_node() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    view = local_view(EngineIdentity("solo", "h", 9), ["n1", "n2"], started)
    assert (view.engine_id, view.alive, view.nodes, view.started_at) == (
        "solo",
        True,
        ("n1", "n2"),
        started,
    )
