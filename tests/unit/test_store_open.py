"""engine.database chooses the store: a file path opens SQLite, a postgresql:// URL the
PostgreSQL store (engine/store/open.py); anything else stops start-up with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app import Engine
from engine.config import load_config
from engine.errors import ConfigError
from engine.store.open import backend_of, open_store, sqlite_path
from engine.store.postgresql.store import PostgresStore
from engine.store.sqlite.store import SqliteStore


async def test_a_file_path_opens_the_sqlite_store(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "phonebank.db")
    try:
        assert isinstance(store, SqliteStore)
        assert (tmp_path / "phonebank.db").exists()
    finally:
        await store.close()


async def test_a_postgresql_url_opens_the_postgresql_store(postgres_dsn: str) -> None:
    store = await open_store(postgres_dsn)
    try:
        assert isinstance(store, PostgresStore)
        await store.list_campaigns()
    finally:
        await store.close()


def test_postgres_is_a_postgresql_url_too() -> None:
    assert backend_of("postgres://ann@db.example.org/phonebank") == "postgresql"
    assert backend_of(":memory:") == "sqlite"
    assert backend_of("relative/phonebank.db") == "sqlite"


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("", "engine.database is empty"),
        ("mysql://ann:secret@db/phonebank", "engine.database starts with mysql://"),
        ("postgresql://ann:secret@db/phonebank?colour=red", "not a PostgreSQL URL libpq can read"),
    ],
)
def test_a_bad_setting_is_a_config_error_without_the_password(setting: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        backend_of(setting)
    assert "secret" not in str(raised.value)
    assert "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" in str(raised.value)


def test_backup_and_restore_refuse_a_postgresql_database() -> None:
    with pytest.raises(ConfigError, match="pg_dump"):
        sqlite_path("postgresql://ann@db/phonebank")
    assert sqlite_path(" /var/lib/phonebank/phonebank.db") == Path(
        "/var/lib/phonebank/phonebank.db"
    )


def test_the_setting_keeps_a_url_whole() -> None:
    url = "postgresql://ann:secret@db.example.org:5433/phonebank"
    cfg = load_config(environ={"PHONEBANK_ENGINE_DATABASE": url})
    assert cfg.engine.database == url


async def test_the_engine_runs_on_the_postgresql_store_the_setting_names(
    postgres_dsn: str,
) -> None:
    cfg = load_config(environ={"PHONEBANK_ENGINE_DATABASE": postgres_dsn})
    async with Engine.running(cfg) as engine:
        assert isinstance(engine.store, PostgresStore)
        campaign = await engine.store.create_campaign("Engine on PostgreSQL")
        assert await engine.store.get_campaign(campaign.id) == campaign
