"""Fixtures of the security tests that drive the web app: the unit tests' engine without a
PBX, client and operator account (declared once, in tests/unit/conftest.py)."""

from __future__ import annotations

from tests.unit.conftest import client, engine, operator

__all__ = ["client", "engine", "operator"]
