"""Pure rules for our own failures: the dialing gate, the supervisor's backoff, and what a
call lost to a failure of ours is charged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.calls.gate import PBX_DOWN, DialingGate
from engine.calls.lost_calls import lost_outcome, parse_gap, status_before_claim
from engine.models import CallOutcome, CallState, Voter, VoterStatus
from engine.pbx.supervisor import BACKOFF_S, restart_delay

S = CallState


def test_the_gate_is_open_until_a_reason_holds_it_and_reopens_when_the_last_goes() -> None:
    changes: list[bool] = []
    gate = DialingGate(lambda g: changes.append(g.open))
    assert gate.open
    assert gate.hold(PBX_DOWN, "The phone system is down.")
    assert gate.hold("trunk", "The carrier does not answer.")
    assert not gate.hold(PBX_DOWN, "The phone system is down.")  # already held
    assert not gate.open
    assert gate.why() == "The phone system is down. The carrier does not answer."
    assert gate.release(PBX_DOWN)
    assert not gate.open, "the trunk still holds dialing"
    assert set(gate.reasons) == {"trunk"}
    assert gate.release("trunk")
    assert gate.open
    assert not gate.release("trunk")
    assert changes == [False, False, False, True]


def test_restarts_back_off_and_stop_growing() -> None:
    assert [restart_delay(n) for n in range(1, 4)] == [0.0, 1.0, 2.0]
    assert restart_delay(1) == 0.0, "the first restart is at once"
    assert restart_delay(100) == BACKOFF_S[-1] == 30.0
    delays = [restart_delay(n) for n in range(1, 10)]
    assert delays == sorted(delays)


@pytest.mark.parametrize(
    ("state", "verdict", "bridged", "outcome"),
    [
        (S.CLAIMED, "", False, None),
        (S.DIALING, "", False, None),  # ringing or in AMD: never reached a verdict
        (S.DIALING, "HANGUP", False, None),  # hung up during AMD (our hangup, too)
        (S.DIALING, "HUMAN", False, CallOutcome.ABANDONED),  # found no engine in Stasis
        (S.DIALING, "NOTSURE", False, CallOutcome.ABANDONED),
        (S.DIALING, "MACHINE", False, CallOutcome.MACHINE),
        (S.CONNECTING, "HUMAN", False, CallOutcome.ABANDONED),
        (S.ABANDONING, "HUMAN", False, CallOutcome.ABANDONED),
        (S.LEAVING_VOICEMAIL, "MACHINE", False, CallOutcome.MACHINE),
        (S.CONNECTED, "HUMAN", True, CallOutcome.CONTACT),
    ],
)
def test_a_call_lost_to_our_failure_is_charged_only_for_what_reached_the_voter(
    state: S, verdict: str, bridged: bool, outcome: CallOutcome | None
) -> None:
    assert lost_outcome(state, verdict, bridged, connect_notsure=True) is outcome


def test_notsure_is_a_machine_when_the_campaign_does_not_connect_it() -> None:
    assert lost_outcome(S.DIALING, "NOTSURE", False, connect_notsure=False) is CallOutcome.MACHINE


def test_the_dialplans_gap_record_gives_the_verdict_and_answer_time() -> None:
    verdict, answered = parse_gap("HUMAN,1795691629.796")
    assert verdict == "HUMAN"
    assert answered == datetime.fromtimestamp(1795691629.796, UTC)
    assert parse_gap("HANGUP,") == ("HANGUP", None)


def test_a_voter_given_back_gets_the_status_it_had_before_the_claim() -> None:
    never = Voter(
        id=1, campaign_id=1, phone="+12025550101", status=VoterStatus.IN_FLIGHT, attempts=1
    )
    again = Voter(
        id=2,
        campaign_id=1,
        phone="+12025550102",
        status=VoterStatus.IN_FLIGHT,
        attempts=2,
        next_attempt_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert status_before_claim(never) is VoterStatus.PENDING
    assert status_before_claim(again) is VoterStatus.RETRY
