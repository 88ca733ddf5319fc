"""Fixtures shared by the unit tests (and, through tests/security/conftest.py, the security
tests), declared once here: an in-memory store, an engine without a PBX on one, an aiohttp
test client for its web app, the operator account, a campaign, and an engine on a fake ARI. A
test module that needs a different one declares its own of the same name.

The store contract tests (tests/unit/test_store*.py) run on both stores: a module marked
``pytest.mark.every_store`` gets each of its tests that use ``store`` once on SQLite and once
on PostgreSQL (the session's server, tests/conftest.py); ``pytest.mark.sqlite_only`` keeps a
test on SQLite (it checks SQLite's own machinery)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.models import Campaign
from engine.store.base import Store
from engine.store.sqlite.store import SqliteStore
from tests.unit.fake_ari import FakeAri
from tests.unit.store_helpers import empty_postgres_store
from tests.unit.web_support import OPERATOR, api_client, running_engine


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the ``store`` tests of modules marked every_store on each store (see above)."""
    test = metafunc.definition
    if (
        "store" not in metafunc.fixturenames
        or test.get_closest_marker("every_store") is None
        or test.get_closest_marker("sqlite_only") is not None
    ):
        return
    metafunc.parametrize(
        "store",
        [
            pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql"),
        ],
        indirect=True,
    )


@pytest.fixture
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A fresh SQLite store in memory; or, for a test parametrized with "postgresql", the
    PostgreSQL store on the session's database, emptied."""
    if getattr(request, "param", "sqlite") == "postgresql":
        store: Store = await empty_postgres_store(request.getfixturevalue("postgres_dsn"))
    else:
        store = SqliteStore.open(":memory:")
    yield store
    await store.close()


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    """The engine on an in-memory store, without a PBX."""
    async with running_engine() as engine:
        yield engine


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[TestClient[Any, Any]]:
    """A client for the web app on ``engine``."""
    async with api_client(engine) as client:
        yield client


@pytest.fixture
async def operator(engine: Engine) -> tuple[str, str]:
    """The operator account OPERATOR (username, password), added to ``engine``; modules whose
    every test needs it say `pytestmark = pytest.mark.usefixtures("operator")`."""
    await engine.operators.add_operator(*OPERATOR)
    return OPERATOR


@pytest.fixture
async def campaign(engine: Engine) -> Campaign:
    """A campaign with the default settings, created by operator 'test'."""
    return await engine.operators.create_campaign("test", "Spring Canvass")


@pytest.fixture
def environ() -> dict[str, str]:
    """The environment the configuration of ``fake_pbx``'s engine is loaded from."""
    return {}


@pytest.fixture
async def fake_pbx(
    tmp_path: Path, environ: dict[str, str]
) -> AsyncIterator[tuple[Engine, FakeAri]]:
    """The engine on an in-memory store and a fake ARI (tests/unit/fake_ari.py), and the fake.
    A module that must change something first (a timeout) does it in an autouse fixture."""
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath("/sounds"))
    cfg = load_config(environ=environ)
    async with FakeAri() as fake, Engine.running(cfg, fake.settings(), sounds, store) as engine:
        yield engine, fake
    await store.close()
