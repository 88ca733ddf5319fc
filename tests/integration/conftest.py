"""Integration fixtures: the dialer PBX's own ARI client, and per-test cleanup (every channel
hung up, every bridge destroyed on both instances). The PBX pair itself is in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from engine.ari.client import AriClient
from engine.errors import AriNotFound
from engine.pbx.pair import PbxPair
from engine.testbed.events import EventLog
from tests.conftest import ari_settings, ari_with_events


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
    for instance in pbx_pair.instances:
        if instance.pid is None:
            continue
        async with AriClient.connect(ari_settings(instance, app="")) as ari:
            for channel in await ari.list_channels():
                with contextlib.suppress(AriNotFound):
                    await ari.hangup(channel["id"])
            for bridge in await ari.list_bridges():
                with contextlib.suppress(AriNotFound):
                    await ari.destroy_bridge(bridge["id"])
