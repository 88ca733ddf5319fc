"""Fixtures of the security tests that drive the web app: the unit tests' engine without a
PBX, client, operator account and campaign (declared once, in tests/unit/conftest.py)."""

from __future__ import annotations

from tests.unit.conftest import campaign, client, engine, operator

__all__ = ["campaign", "client", "engine", "operator"]
