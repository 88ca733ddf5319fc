"""Where sessions and calls live with several dialer nodes (engine/sessions/placement.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from engine.models import AudioMode, Session, SessionState
from engine.sessions.placement import (
    NodeLoad,
    channel_on_node,
    choose_node,
    local_channel_id,
    node_channel_id,
    on_node,
)

SESSION = Session(
    1, 1, 1, AudioMode.PHONE, "1234", "hash", SessionState.READY, datetime(2026, 1, 1, tzinfo=UTC)
)


def test_the_node_with_the_fewest_live_channels_is_chosen() -> None:
    loads = [NodeLoad("node1", True, 5), NodeLoad("node2", True, 2), NodeLoad("node3", True, 3)]
    assert choose_node(loads) == "node2"


def test_an_unhealthy_node_is_never_chosen_however_idle() -> None:
    loads = [NodeLoad("node1", True, 9), NodeLoad("node2", False, 0)]
    assert choose_node(loads) == "node1"


def test_no_healthy_node_means_no_choice() -> None:
    assert choose_node([NodeLoad("node1", False, 0)]) is None
    assert choose_node([]) is None


def test_a_tie_goes_to_the_first_name() -> None:
    assert choose_node([NodeLoad("node2", True, 1), NodeLoad("node1", True, 1)]) == "node1"


def test_the_single_node_holds_every_session() -> None:
    assert on_node(SESSION, None)
    assert on_node(replace(SESSION, node="node1"), None)


def test_a_named_node_holds_only_its_own_sessions() -> None:
    assert on_node(replace(SESSION, node="node1"), "node1")
    assert not on_node(replace(SESSION, node="node2"), "node1")
    assert not on_node(SESSION, "node1")  # no node chosen yet


def test_channel_ids_carry_their_node_so_a_node_adopts_only_its_own_calls() -> None:
    assert node_channel_id(None, "call-7-ab") == "call-7-ab"
    made = node_channel_id("node1", "call-7-ab")
    assert made == "node1.call-7-ab"
    assert channel_on_node("node1", made)
    assert not channel_on_node("node10", made)
    assert not channel_on_node("node2", made)
    assert not channel_on_node("node1", None)
    assert channel_on_node(None, "call-7-ab") and channel_on_node(None, None)


def test_a_node_s_channel_id_without_its_prefix_is_the_id_it_was_made_from() -> None:
    assert local_channel_id("node1", node_channel_id("node1", "call-7-ab")) == "call-7-ab"
    assert local_channel_id(None, "call-7-ab") == "call-7-ab"
    assert local_channel_id("node1", "node2.call-7-ab") == "node2.call-7-ab"  # not its own
