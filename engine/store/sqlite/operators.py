"""Operators, their API tokens and the audit log in the SQLite store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.clock import utc_now
from engine.errors import Conflict, NotFound
from engine.models import Operator
from engine.store.sqlite.base import SqliteBase, immediate
from engine.store.sqlite.rows import decode, from_iso, to_iso, to_json
from engine.store.sqlite.worker import on_worker


class OperatorsMixin(SqliteBase):
    @on_worker
    def add_operator(self, username: str, password_hash: str) -> Operator:
        """Raises Conflict if the username exists (case-insensitive)."""
        try:
            operator_id = self._insert(
                "operators",
                {
                    "username": username,
                    "password_hash": password_hash,
                    "created_at": to_iso(utc_now()),
                },
            )
        except sqlite3.IntegrityError as error:
            raise Conflict(f"The operator {username!r} already exists.") from error
        return decode(Operator, self._get("operators", operator_id, "operator"))

    @on_worker
    def get_operator(self, username: str) -> Operator | None:
        """Case-insensitive."""
        row = self._one("SELECT * FROM operators WHERE username = ?", (username,))
        return None if row is None else decode(Operator, row)

    @on_worker
    def count_operators(self) -> int:
        row = self._one("SELECT count(*) AS n FROM operators")
        return int(row["n"]) if row else 0

    @on_worker
    def add_api_token(
        self, operator_id: int, token_hash: str, label: str, now: datetime | None = None
    ) -> None:
        """Record a token issued at ``now`` (default: the current time). Raises NotFound for an
        unknown operator, Conflict if the token hash exists."""
        with immediate(self.conn):
            self._get("operators", operator_id, "operator")
            try:
                self._insert(
                    "api_tokens",
                    {
                        "operator_id": operator_id,
                        "token_hash": token_hash,
                        "label": label,
                        "created_at": to_iso(now or utc_now()),
                    },
                )
            except sqlite3.IntegrityError as error:
                raise Conflict("That API token is already registered.") from error

    @on_worker
    def operator_by_token_hash(
        self, token_hash: str, issued_after: datetime | None = None
    ) -> Operator | None:
        """The token's operator, if the token exists (and was issued after ``issued_after``)."""
        sql = (
            "SELECT o.* FROM operators AS o JOIN api_tokens AS t "
            "ON t.operator_id = o.id WHERE t.token_hash = ?"
        )
        params: tuple[object, ...] = (token_hash,)
        if issued_after is not None:
            sql += " AND t.created_at > ?"
            params += (to_iso(issued_after),)
        row = self._one(sql, params)
        return None if row is None else decode(Operator, row)

    @on_worker
    def delete_api_tokens(
        self,
        *,
        token_hash: str | None = None,
        operator_id: int | None = None,
        issued_before: datetime | None = None,
    ) -> int:
        """Delete the token with ``token_hash``, every token of ``operator_id``, or every token
        issued before ``issued_before``; returns how many went."""
        params: tuple[object, ...]
        if token_hash is not None:
            where, params = "token_hash = ?", (token_hash,)
        elif operator_id is not None:
            where, params = "operator_id = ?", (operator_id,)
        elif issued_before is not None:
            where, params = "created_at < ?", (to_iso(issued_before),)
        else:
            raise ValueError("delete_api_tokens needs a token, an operator or a time")
        with immediate(self.conn) as conn:
            return conn.execute(f"DELETE FROM api_tokens WHERE {where}", params).rowcount

    @on_worker
    def remove_operator(self, username: str) -> tuple[Operator, int]:
        """Delete the operator (case-insensitive) and all their API tokens; returns the operator
        and how many tokens were revoked. Raises NotFound for an unknown username."""
        with immediate(self.conn) as conn:
            row = self._one("SELECT * FROM operators WHERE username = ?", (username,))
            if row is None:
                raise NotFound(f"there is no operator called {username!r}")
            operator = decode(Operator, row)
            tokens = conn.execute(
                "DELETE FROM api_tokens WHERE operator_id = ?", (operator.id,)
            ).rowcount
            conn.execute("DELETE FROM operators WHERE id = ?", (operator.id,))
        return operator, tokens

    @on_worker
    def audit(self, actor: str, action: str, detail: Mapping[str, Any], now: datetime) -> None:
        self._insert(
            "audit_log",
            {"at": to_iso(now), "actor": actor, "action": action, "detail": to_json(dict(detail))},
        )

    @on_worker
    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest ``limit`` entries, newest first: id, at, actor, action, detail (a dict)."""
        rows = self._all("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        return [
            {**row, "at": from_iso(row["at"]), "detail": json.loads(row["detail"])} for row in rows
        ]
