"""Integration fixtures: the engine on the PBX pair, and per-test cleanup (every channel hung
up, every bridge destroyed on both instances). The PBX pair and the dialer PBX's own ARI client
(`dialer`) are in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.app import Engine
from testbed.pair import PbxPair
from testbed.shift import running_engine
from tests.conftest import clear_pbx


@pytest.fixture
async def engine(pbx_pair: PbxPair, tmp_path: Path) -> AsyncIterator[Engine]:
    """The engine on the dialer PBX, its database in the test's own directory (a module that
    uses it must not use ``dialer``: both would be the Stasis app 'phonebank')."""
    async with running_engine(pbx_pair, tmp_path / "engine.db") as running:
        yield running


@pytest.fixture(autouse=True)
async def clean_pbx(pbx_pair: PbxPair) -> AsyncIterator[None]:
    yield
    await clear_pbx(pbx_pair)
