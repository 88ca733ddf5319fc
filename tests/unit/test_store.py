"""The stores: opening and migrations (SQLite), campaigns, operators and the audit log."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from engine.errors import Conflict, InvalidInput, NotFound, SetupError
from engine.models import DEFAULT_TERM_CODES, Campaign, TermCode, TermCodeKind
from engine.store.base import Store
from engine.store.sqlite.migrations import MIGRATIONS, migrate
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import T0

pytestmark = pytest.mark.every_store

# --- opening and migrations ----------------------------------------------------------------


async def test_open_creates_parent_directories_and_uses_wal(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "a" / "b" / "phonebank.db")
    try:
        assert (tmp_path / "a" / "b" / "phonebank.db").exists()
        assert store.db.journal_mode == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        await store.close()


async def test_reopening_applies_only_new_migrations(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.db"
    await SqliteStore.open(path).close()
    store = SqliteStore.open(path)
    try:
        added = (*MIGRATIONS, "CREATE TABLE later (id INTEGER PRIMARY KEY);")
        assert migrate(store.db, T0, migrations=added) == [len(added)]
        assert migrate(store.db, T0, migrations=added) == []
        versions = [row[0] for row in store.db.execute("SELECT version FROM migrations")]
        assert versions == list(range(1, len(added) + 1))
    finally:
        await store.close()


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.db"
    store = SqliteStore.open(path)
    store.db.execute("INSERT INTO migrations VALUES (99, '2030-01-01T00:00:00.000000+00:00')")
    await store.close()
    with pytest.raises(
        SetupError, match=r"written by a newer phonebank \(schema 99; .* restore a backup"
    ):
        SqliteStore.open(path)


@pytest.mark.sqlite_only
async def test_a_failed_migration_leaves_no_trace(store: SqliteStore) -> None:
    def broken(db: Database) -> None:
        db.execute("CREATE TABLE half (id INTEGER PRIMARY KEY)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrate(store.db, T0, migrations=(*MIGRATIONS, broken))
    assert "half" not in store.db.table_names()
    assert store.db.execute("SELECT max(version) FROM migrations").fetchone()[0] == len(MIGRATIONS)


async def test_a_version_1_database_keeps_its_campaigns_and_voters_when_upgraded(
    tmp_path: Path,
) -> None:

    path = tmp_path / "old.db"
    old = Database(path)
    migrate(old, T0, migrations=MIGRATIONS[:1])
    old.execute(
        "INSERT INTO campaigns (name, name_key, script, survey, term_codes, caller_id, "
        "dial_mode, lines_per_volunteer, calling_hours_start, calling_hours_end, max_attempts, "
        "retry_minutes, abandon_message, voicemail_message, connect_notsure, hold_music, "
        "dnc_scope, wrapup_seconds, ring_seconds, amd_args, active) VALUES ('Old', 'old', '', "
        "'[]', '[]', '', 'power', 2, '09:00', '21:00', 3, 60, 'Bye', '', 1, 0, 'campaign', 60, "
        "28, '', 1)"
    )
    old.execute(
        "INSERT INTO voters (campaign_id, phone, first_name, last_name, address, city, state, "
        "zip, party, extra, timezone, status, attempts) VALUES (1, '+12025550100', 'Ann', '', "
        "'', '', '', '', '', '{}', '', 'pending', 0)"
    )
    old.conn.commit()
    old.close()
    store = SqliteStore.open(path)
    try:
        campaign = await store.get_campaign(1)
        assert (campaign.name, campaign.lines_per_volunteer) == ("Old", 2)
        assert (campaign.max_lines_per_volunteer, campaign.abandon_target) == (12, 2.7)
        assert campaign.mobile_dial_mode == ""
        voter = await store.get_voter(1)
        assert (voter.first_name, voter.line_type) == ("Ann", "")
    finally:
        await store.close()


# --- campaigns -----------------------------------------------------------------------------


async def test_new_campaign_has_the_model_defaults(store: Store) -> None:
    campaign = await store.create_campaign("Fall")
    assert campaign.created_at is not None
    assert campaign.created_at.tzinfo is UTC
    assert campaign == Campaign(id=campaign.id, name="Fall", created_at=campaign.created_at)
    assert campaign.term_codes == list(DEFAULT_TERM_CODES)


async def test_a_new_campaign_has_the_half_hour_guard_on_unless_turned_off(store: Store) -> None:
    """The column's DEFAULT is still off (campaigns stored before keep their value): the store
    writes the model's default, on, for a new campaign, so no migration changes it."""
    assert (await store.create_campaign("Fall")).half_hour_guard
    assert (await store.get_campaign((await store.create_campaign("Spring")).id)).half_hour_guard
    unguarded = await store.create_campaign("Winter", half_hour_guard=False)
    assert not (await store.get_campaign(unguarded.id)).half_hour_guard


async def test_campaign_settings_round_trip(store: Store) -> None:
    survey = [
        {
            "id": "q1",
            "text": "Support?",
            "kind": "single",
            "options": [{"value": "y", "label": "Yes", "next": None}],
        }
    ]
    codes = [TermCode("moved", "Moved away", TermCodeKind.NO_CONTACT)]
    campaign = await store.create_campaign(
        "Fall",
        survey=survey,
        term_codes=codes,
        hold_music=True,
        connect_notsure=False,
        max_attempts=5,
        created_at=T0,
    )
    assert await store.get_campaign(campaign.id) == Campaign(
        id=campaign.id,
        name="Fall",
        survey=survey,
        term_codes=codes,
        hold_music=True,
        connect_notsure=False,
        max_attempts=5,
        created_at=T0,
    )


async def test_term_codes_given_as_dicts_become_term_codes(store: Store) -> None:
    campaign = await store.create_campaign(
        "Fall", term_codes=[{"code": "x", "label": "X", "kind": "remove"}]
    )
    assert campaign.term_codes == [TermCode("x", "X", TermCodeKind.REMOVE)]


async def test_campaign_names_are_unique_ignoring_case_and_spaces(store: Store) -> None:
    await store.create_campaign("Fall Canvass")
    with pytest.raises(Conflict, match="already exists"):
        await store.create_campaign("  fall canvass ")


async def test_a_blank_campaign_name_is_invalid(store: Store) -> None:
    with pytest.raises(InvalidInput):
        await store.create_campaign("   ")


async def test_campaign_by_name_ignores_case_and_spaces(store: Store) -> None:
    campaign = await store.create_campaign("Fall Canvass")
    assert await store.campaign_by_name(" FALL canvass") == campaign
    assert await store.campaign_by_name("Spring") is None


async def test_update_campaign_sets_only_the_given_fields(store: Store) -> None:
    campaign = await store.create_campaign("Fall", retry_minutes=30)
    updated = await store.update_campaign(campaign.id, active=False, script="Hi {{ first_name }}")
    assert (updated.active, updated.script, updated.retry_minutes) == (
        False,
        "Hi {{ first_name }}",
        30,
    )
    assert await store.get_campaign(campaign.id) == updated


async def test_renaming_a_campaign_to_a_taken_name_conflicts(store: Store) -> None:
    await store.create_campaign("Fall")
    spring = await store.create_campaign("Spring")
    with pytest.raises(Conflict):
        await store.update_campaign(spring.id, name="FALL")
    assert (await store.update_campaign(spring.id, name="Winter")).name == "Winter"
    assert await store.campaign_by_name("winter") is not None


async def test_unknown_campaign_setting_is_a_type_error(store: Store) -> None:
    with pytest.raises(TypeError, match="colour"):
        await store.create_campaign("Fall", colour="red")
    campaign = await store.create_campaign("Fall")
    with pytest.raises(TypeError, match="colour"):
        await store.update_campaign(campaign.id, colour="red")


async def test_unknown_campaign_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_campaign(42)
    with pytest.raises(NotFound):
        await store.update_campaign(42, active=False)


async def test_list_campaigns_oldest_first(store: Store) -> None:
    fall = await store.create_campaign("Fall")
    spring = await store.create_campaign("Spring")
    assert await store.list_campaigns() == [fall, spring]


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.create_campaign("Fall", created_at=T0.replace(tzinfo=None))


# --- operators and audit ---------------------------------------------------------------------


async def test_operator_usernames_are_unique_ignoring_case(store: Store) -> None:
    await store.add_operator("admin", "hash")
    with pytest.raises(Conflict):
        await store.add_operator("Admin", "other")


async def test_get_operator_ignores_case(store: Store) -> None:
    operator = await store.add_operator("admin", "hash")
    assert await store.get_operator("ADMIN") == operator
    assert await store.get_operator("nobody") is None


async def test_api_token_finds_its_operator(store: Store) -> None:
    operator = await store.add_operator("admin", "hash")
    await store.add_api_token(operator.id, "tokenhash", "laptop")
    assert await store.operator_by_token_hash("tokenhash") == operator
    assert await store.operator_by_token_hash("other") is None


async def test_api_token_for_unknown_operator_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.add_api_token(7, "tokenhash", "laptop")


async def test_audit_log_is_newest_first_with_its_detail(store: Store) -> None:
    await store.audit("admin", "campaign.create", {"name": "Fall"}, T0)
    await store.audit("admin", "campaign.pause", {"id": 1}, T0 + timedelta(seconds=1))
    log = await store.audit_log(limit=1)
    assert [(e["action"], e["detail"], e["at"]) for e in log] == [
        ("campaign.pause", {"id": 1}, T0 + timedelta(seconds=1))
    ]


async def test_every_write_is_committed_before_it_returns(tmp_path: Path) -> None:
    """A second connection (another process, or this one after a crash) sees each write."""
    path = tmp_path / "phonebank.db"
    writer, reader = SqliteStore.open(path), SqliteStore.open(path)
    try:
        campaign = await writer.create_campaign("Fall")
        await writer.add_operator("admin", "hash")
        await writer.audit("admin", "campaign.create", {}, T0)
        await writer.add_dnc("+12025550001", campaign.id, "asked", "admin", T0)
        assert not writer.conn.in_transaction
        assert await reader.get_campaign(campaign.id) == campaign
        assert await reader.get_operator("admin") is not None
        assert len(await reader.audit_log()) == 1
        assert await reader.is_dnc("+12025550001", campaign.id)
    finally:
        await writer.close()
        await reader.close()


async def test_operators_are_counted_and_removed_with_their_tokens(store: Store) -> None:
    admin = await store.add_operator("admin", "hash")
    await store.add_operator("other", "hash")
    await store.add_api_token(admin.id, "one", "laptop", T0)
    await store.add_api_token(admin.id, "two", "phone", T0 + timedelta(hours=1))
    assert await store.count_operators() == 2
    assert await store.operator_by_token_hash("two", issued_after=T0) == admin
    assert await store.operator_by_token_hash("one", issued_after=T0) is None
    assert await store.remove_operator("ADMIN") == (admin, 2)
    assert await store.count_operators() == 1
    with pytest.raises(NotFound):
        await store.remove_operator("admin")


async def test_api_tokens_are_deleted_one_by_operator_or_by_age(store: Store) -> None:
    admin = await store.add_operator("admin", "hash")
    for n in range(4):
        await store.add_api_token(admin.id, f"token{n}", "", T0 + timedelta(hours=n))
    assert await store.delete_api_tokens(token_hash="token3") == 1
    assert await store.delete_api_tokens(issued_before=T0 + timedelta(hours=1)) == 1
    assert await store.delete_api_tokens(operator_id=admin.id) == 2
    with pytest.raises(ValueError, match="needs a token"):
        await store.delete_api_tokens()
