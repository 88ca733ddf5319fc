"""Fixtures shared by the unit tests (and, through tests/security/conftest.py, the security
tests), declared once here: an in-memory store, an engine without a PBX on one, an aiohttp
test client for its web app, the operator account, a campaign, and an engine on a fake ARI. A
test module that needs a different one declares its own of the same name."""

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
from engine.store.sqlite.store import SqliteStore
from tests.unit.fake_ari import FakeAri
from tests.unit.web_support import OPERATOR, api_client, running_engine


@pytest.fixture
async def store() -> AsyncIterator[SqliteStore]:
    """A fresh SQLite store in memory."""
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
