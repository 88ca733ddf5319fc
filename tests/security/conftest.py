"""Fixtures shared by the security tests that drive the web app: an engine without a PBX and
an aiohttp test client on it. Tests that need an operator account add it in their own
`engine` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.unit.web_support import api_client, running_engine


@pytest.fixture
async def engine() -> AsyncIterator[Any]:
    async with running_engine() as engine:
        yield engine


@pytest.fixture
async def client(engine: Any) -> AsyncIterator[Any]:
    async with api_client(engine) as client:
        yield client
