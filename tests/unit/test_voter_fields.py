"""The voter fields are declared once (engine.models.VoterDetails): the importer's rows, the
store's input, the voter record, header matching and the results export follow it."""

from __future__ import annotations

import dataclasses

from engine.models import VOTER_CARD_FIELDS, VOTER_FIELDS, Voter, VoterDetails
from engine.store import voter_rows
from engine.store.base import VoterInput
from engine.store.sqlite import results as sqlite_results
from engine.voters.csv_rows import VoterRow
from engine.voters.headers import FIELD_ALIASES, map_headers

CARD = ("first_name", "last_name", "phone", "address", "city", "state", "zip", "party", "age")


def test_the_card_shows_the_named_fields_in_the_order_it_always_had() -> None:
    assert VOTER_CARD_FIELDS == CARD
    assert set(VOTER_FIELDS) - set(CARD) == {"extra", "timezone", "source_line", "line_type"}


def test_the_importer_and_the_store_take_the_one_declaration() -> None:
    assert VoterRow is VoterDetails
    assert VoterInput is VoterDetails
    voter_fields = [f.name for f in dataclasses.fields(Voter)]
    assert voter_fields[: len(VOTER_FIELDS)] == list(VOTER_FIELDS)
    assert set(voter_fields) - set(VOTER_FIELDS) == {
        "id",
        "campaign_id",
        "status",
        "attempts",
        "next_attempt_at",
    }


def test_the_store_merges_every_listed_field_but_the_phone() -> None:
    assert set(voter_rows.MERGED_FIELDS) == set(VOTER_FIELDS) - {"phone"}
    assert "age" not in voter_rows.TEXT_FIELDS
    assert sqlite_results._VOTER_COLUMNS == CARD


def test_every_named_field_has_header_spellings_and_is_missing_when_absent() -> None:
    assert set(FIELD_ALIASES) == {*CARD, "name"}
    assert map_headers(["phone"]).missing() == [name for name in CARD if name != "phone"]


def test_a_voters_fields_are_the_card_fields_then_the_extra_ones() -> None:
    voter = Voter(id=1, campaign_id=1, phone="+12025550100", first_name="Ann", extra={"w": "6"})
    assert list(voter.fields()) == [*CARD, "w"]
    assert voter.fields()["first_name"] == "Ann"
