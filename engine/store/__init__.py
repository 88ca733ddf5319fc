"""Persistence: the Store interface (base.py) and its SQLite implementation (sqlite/)."""
