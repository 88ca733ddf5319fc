"""Integration fixtures: the dialer PBX's own ARI client, and per-test cleanup (every channel
hung up, every bridge destroyed on both instances). The PBX pair itself is in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from engine.ari.client import AriClient
from testbed.events import EventLog
from testbed.pair import PbxPair
from tests.conftest import ari_with_events, clear_pbx


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dialer(pbx_pair: PbxPair) -> AsyncIterator[tuple[AriClient, EventLog]]:
    """The dialer PBX's ARI client (app 'phonebank') and its event log.

    Module-scoped: Asterisk gives an app's events to one websocket only, so modules that run
    the engine (which is app 'phonebank' too) must not use this fixture."""
    async with ari_with_events(pbx_pair.dialer) as pair:
        yield pair


@pytest.fixture(autouse=True)
async def clean_pbx(pbx_pair: PbxPair) -> AsyncIterator[None]:
    yield
    await clear_pbx(pbx_pair)
