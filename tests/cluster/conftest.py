"""Fixtures of the cluster tests (engine/cluster/): a fresh, migrated database per test on the
session's PostgreSQL server (tests/conftest.py), so one test's engines never meet another's."""

from __future__ import annotations

import itertools

import pytest

from engine.store.postgresql.store import PostgresStore
from testbed.postgres import PostgresServer

_numbers = itertools.count(1)


@pytest.fixture
async def cluster_dsn(postgres_server: PostgresServer) -> str:
    """An empty database with the store's schema (engines, bus_messages...), new per test."""
    dsn = postgres_server.create_database(f"cluster_{next(_numbers)}")
    store = await PostgresStore.open(dsn, pool_size=(1, 1))
    await store.close()
    return dsn
