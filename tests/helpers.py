"""Helpers shared by every test tier."""

from engine.testbed.waiting import wait_until

__all__ = ["wait_until"]
