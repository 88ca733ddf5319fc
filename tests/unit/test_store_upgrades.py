"""Upgrades: a database written at every earlier schema version, full of the rows a campaign
leaves, opens with the current store; its data is kept and its schema ends up equal to a
fresh database's. A database newer than the code is refused with one sentence."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from engine.errors import SetupError
from engine.models import AudioMode, CallOutcome, SessionState
from engine.store.sqlite.migrations import MIGRATIONS, migrate
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import T0

NOW = "2024-10-01T16:00:00.000000+00:00"

V1_ROWS = [
    "INSERT INTO campaigns (name, name_key, script, survey, term_codes, caller_id, dial_mode,"
    " lines_per_volunteer, calling_hours_start, calling_hours_end, max_attempts, retry_minutes,"
    " abandon_message, voicemail_message, connect_notsure, hold_music, dnc_scope,"
    " wrapup_seconds, ring_seconds, amd_args, active, created_at) VALUES ('Fall Canvass',"
    " 'fall canvass', 'Hi {{ first_name }}', '[]',"
    ' \'[{"code": "talked", "label": "Talked", "kind": "contact"}]\', \'+12025550199\','
    " 'power', 2, '09:00', '21:00', 3, 60, 'Sorry, goodbye', '', 1, 0, 'campaign', 60, 28, '',"
    f" 1, '{NOW}')",
    "INSERT INTO voters (campaign_id, phone, first_name, last_name, address, city, state, zip,"
    " party, age, extra, timezone, status, attempts, next_attempt_at, source_line) VALUES"
    " (1, '+12025550100', 'Ann', 'Lee', '1 Main St', 'Washington', 'DC', '20001', 'D', 44,"
    f" '{{\"precinct\": \"P1\"}}', 'America/New_York', 'done', 1, NULL, 2),"
    " (1, '+12025550101', 'Bob', 'Ray', '', '', '', '', '', NULL, '{}', '', 'retry', 1,"
    f" '{NOW}', 3)",
    f"INSERT INTO volunteers (name, email, phone, created_at) VALUES ('Vera', 'vera@example.org',"
    f" '+12025550111', '{NOW}')",
    "INSERT INTO logins (login_id, volunteer_id, password_hash, created_at, used_at) VALUES"
    f" ('brave-otter-17', 1, 'scrypt$abc', '{NOW}', '{NOW}')",
    "INSERT INTO sessions (volunteer_id, campaign_id, audio_mode, pin, token_hash, state,"
    " state_since, channel_id, bridge_id, attempt_id, wrapup_deadline, created_at, ended_at,"
    f" end_reason) VALUES (1, 1, 'phone', '482913', 'hash-1', 'logged out', '{NOW}', NULL, NULL,"
    f" NULL, NULL, '{NOW}', '{NOW}', 'logout')",
    "INSERT INTO attempts (campaign_id, voter_id, phone, state, session_id, channel_id,"
    " claimed_at, originated_at, answered_at, amd_verdict, amd_cause, amd_at, bridged_at,"
    " ended_at, hangup_cause, outcome) VALUES (1, 1, '+12025550100', 'ended', 1, 'call-1-ab',"
    f" '{NOW}', '{NOW}', '{NOW}', 'HUMAN', 'HUMAN-200-1200', '{NOW}', '{NOW}', '{NOW}', 16,"
    " 'contact'),"
    f" (1, 2, '+12025550101', 'ended', NULL, 'call-2-cd', '{NOW}', '{NOW}', NULL, '', '', NULL,"
    f" NULL, '{NOW}', 17, 'busy')",
    "INSERT INTO results (attempt_id, voter_id, campaign_id, session_id, volunteer_id,"
    " term_code, answers, notes, created_at, updated_at) VALUES (1, 1, 1, 1, 1, 'talked',"
    f" '{{\"support\": \"yes\"}}', 'friendly', '{NOW}', '{NOW}')",
    f"INSERT INTO result_history (result_id, edited_at, version) VALUES (1, '{NOW}', '{{}}')",
    "INSERT INTO dnc (phone, campaign_id, reason, created_at, created_by) VALUES"
    f" ('+12025550102', NULL, 'asked', '{NOW}', 'olive')",
    f"INSERT INTO operators (username, password_hash, created_at) VALUES ('olive', 'scrypt$x',"
    f" '{NOW}')",
    "INSERT INTO api_tokens (operator_id, token_hash, label, created_at) VALUES (1, 'tok-1',"
    f" 'login', '{NOW}')",
    f"INSERT INTO audit_log (at, actor, action, detail) VALUES ('{NOW}', 'olive', 'login', '{{}}')",
]
V2_ROWS = [
    "UPDATE campaigns SET max_lines_per_volunteer = 5, abandon_target = 2.0,"
    " mobile_dial_mode = 'preview', unknown_lines_as_mobile = 0",
    "UPDATE voters SET line_type = 'landline' WHERE id = 1",
    f"INSERT INTO pacing_models (campaign_id, learned, updated_at) VALUES (1, '{{}}', '{NOW}')",
]


def old_database(path: Path, version: int) -> None:
    """A database at schema `version`, filled as a campaign in progress leaves it."""
    db = Database(path)
    migrate(db, T0, migrations=MIGRATIONS[:version])
    for sql in V1_ROWS + (V2_ROWS if version >= 2 else []):
        db.execute(sql)
    db.conn.commit()
    db.close()


def table_rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'migrations'"
            )
        ]
        return {
            table: [dict(row) for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1")]
            for table in tables
        }
    finally:
        connection.close()


def schema(path: Path) -> list[tuple[str, str, str]]:
    """sqlite_master, normalised: (type, name, SQL with whitespace collapsed), sorted."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    finally:
        connection.close()
    return sorted((kind, name, re.sub(r"\s+", " ", sql or "").strip()) for kind, name, sql in rows)


@pytest.mark.parametrize("version", range(1, len(MIGRATIONS)))
async def test_an_older_database_keeps_its_data_and_gets_the_current_schema(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "old.db"
    old_database(path, version)
    before = table_rows(path)
    store = SqliteStore.open(path)
    try:
        versions = [row[0] for row in store.db.execute("SELECT version FROM migrations")]
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        campaign = await store.get_campaign(1)
        assert (campaign.name, campaign.caller_id, campaign.term_codes[0].code) == (
            "Fall Canvass",
            "+12025550199",
            "talked",
        )
        voter = await store.get_voter(1)
        assert (voter.first_name, voter.extra, voter.timezone) == (
            "Ann",
            {"precinct": "P1"},
            "America/New_York",
        )
        attempts = await store.list_attempts(1)
        assert [a.outcome for a in attempts] == [CallOutcome.CONTACT, CallOutcome.BUSY]
        session = await store.get_session(1)
        assert (session.state, session.audio_mode) == (SessionState.LOGGED_OUT, AudioMode.PHONE)
        result = await store.result_for_attempt(1)
        assert result is not None and result.answers == {"support": "yes"}
        assert [entry.phone for entry in await store.list_dnc()] == ["+12025550102"]
        assert await store.get_operator("olive") is not None
    finally:
        await store.close()
    after = table_rows(path)
    for table, rows in before.items():
        assert len(after[table]) == len(rows), table
        kept = [{c: row[c] for c in old} for row, old in zip(after[table], rows, strict=True)]
        assert kept == rows, table
    fresh = tmp_path / "fresh.db"
    await SqliteStore.open(fresh).close()
    assert schema(path) == schema(fresh)


async def test_a_database_from_a_newer_phonebank_is_refused_with_one_sentence(
    tmp_path: Path,
) -> None:
    path = tmp_path / "newer.db"
    db = Database(path)
    migrate(db, T0)
    newer = len(MIGRATIONS) + 1
    db.execute("INSERT INTO migrations VALUES (?, ?)", [newer, NOW])
    db.conn.commit()
    db.close()
    with pytest.raises(SetupError) as refused:
        SqliteStore.open(path)
    assert str(refused.value) == (
        f"The database {str(path)!r} was written by a newer phonebank (schema {newer}; this one"
        f" knows up to {len(MIGRATIONS)}): upgrade phonebank or restore a backup."
    )
