"""Operators, their API tokens and the audit log in the SQLite store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.errors import Conflict
from engine.models import Operator
from engine.store.sqlite_base import SqliteBase, immediate
from engine.store.sqlite_rows import decode, from_iso, now_utc, to_iso, to_json


class OperatorsMixin(SqliteBase):
    async def add_operator(self, username: str, password_hash: str) -> Operator:
        """Raises Conflict if the username exists (case-insensitive)."""
        try:
            operator_id = self._insert(
                "operators",
                {
                    "username": username,
                    "password_hash": password_hash,
                    "created_at": to_iso(now_utc()),
                },
            )
        except sqlite3.IntegrityError as error:
            raise Conflict(f"The operator {username!r} already exists.") from error
        return decode(Operator, self._get("operators", operator_id, "operator"))

    async def get_operator(self, username: str) -> Operator | None:
        """Case-insensitive."""
        row = self._one("SELECT * FROM operators WHERE username = ?", (username,))
        return None if row is None else decode(Operator, row)

    async def add_api_token(self, operator_id: int, token_hash: str, label: str) -> None:
        """Raises NotFound for an unknown operator, Conflict if the token hash exists."""
        with immediate(self.conn):
            self._get("operators", operator_id, "operator")
            try:
                self._insert(
                    "api_tokens",
                    {
                        "operator_id": operator_id,
                        "token_hash": token_hash,
                        "label": label,
                        "created_at": to_iso(now_utc()),
                    },
                )
            except sqlite3.IntegrityError as error:
                raise Conflict("That API token is already registered.") from error

    async def operator_by_token_hash(self, token_hash: str) -> Operator | None:
        row = self._one(
            "SELECT o.* FROM operators AS o JOIN api_tokens AS t "
            "ON t.operator_id = o.id WHERE t.token_hash = ?",
            (token_hash,),
        )
        return None if row is None else decode(Operator, row)

    async def audit(
        self, actor: str, action: str, detail: Mapping[str, Any], now: datetime
    ) -> None:
        self._insert(
            "audit_log",
            {"at": to_iso(now), "actor": actor, "action": action, "detail": to_json(dict(detail))},
        )

    async def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest ``limit`` entries, newest first: id, at, actor, action, detail (a dict)."""
        rows = self._all("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        return [
            {**row, "at": from_iso(row["at"]), "detail": json.loads(row["detail"])} for row in rows
        ]
