"""Which store the engine opens: the `engine.database` setting is a file path (the SQLite
store, the default for one machine) or a postgresql:// URL (the PostgreSQL store, for several
engines sharing one database, issue 16)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import psycopg
from psycopg.conninfo import conninfo_to_dict

from engine.errors import ConfigError
from engine.store.base import Store
from engine.store.postgresql.store import PostgresStore
from engine.store.sqlite.store import SqliteStore

POSTGRES_SCHEMES = ("postgresql", "postgres")
"""The URL schemes libpq accepts."""
_URL_FORM = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"

Backend = Literal["sqlite", "postgresql"]


async def open_store(setting: str | os.PathLike[str]) -> Store:
    """Open the store ``setting`` names (see backend_of). Raises ConfigError for a setting
    that is neither, and SetupError as SqliteStore.open and PostgresStore.open do."""
    text = str(setting).strip()
    if backend_of(text) == "postgresql":
        return await PostgresStore.open(text)
    return SqliteStore.open(text)


def backend_of(setting: str | os.PathLike[str]) -> Backend:
    """Which store ``setting`` names: "postgresql" for a postgresql:// (or postgres://) URL,
    "sqlite" for a file path (or ":memory:"). Raises ConfigError, naming the key, for an
    empty setting, a URL of another kind or a PostgreSQL URL libpq cannot read; the message
    never repeats the URL (it may hold a password)."""
    text = str(setting).strip()
    if not text:
        raise ConfigError(
            f"engine.database is empty: give a file path (SQLite) or a {_URL_FORM} URL"
        )
    scheme, separator, _ = text.partition("://")
    if not separator:
        return "sqlite"
    if scheme.lower() not in POSTGRES_SCHEMES:
        raise ConfigError(
            f"engine.database starts with {scheme}://, which phonebank cannot use: give a"
            f" file path (SQLite) or a {_URL_FORM} URL"
        )
    try:
        conninfo_to_dict(text)
    except psycopg.ProgrammingError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise ConfigError(
            f"engine.database is not a PostgreSQL URL libpq can read ({reason}): write it as"
            f" {_URL_FORM}"
        ) from None
    return "postgresql"


def sqlite_path(setting: str | os.PathLike[str]) -> Path:
    """The SQLite database file ``setting`` names. Raises ConfigError when it names a
    PostgreSQL server (the file tools, backup and restore, do not apply)."""
    if backend_of(setting) == "postgresql":
        raise ConfigError(
            "engine.database is a PostgreSQL server: phonebank backup and restore copy the"
            " SQLite database file; back PostgreSQL up with pg_dump and pg_restore"
        )
    return Path(str(setting).strip())
