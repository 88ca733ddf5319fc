"""Persistence: the Store interface and its SQLite implementation."""

from engine.store.base import Store, VoterInput
from engine.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore", "Store", "VoterInput"]
