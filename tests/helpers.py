"""Helpers shared by every test tier."""

from testbed.waiting import wait_until

__all__ = ["wait_until"]
