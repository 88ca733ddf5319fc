"""Operators, their API tokens and the audit log in the PostgreSQL store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg import errors

from engine.clock import utc_now
from engine.errors import Conflict, NotFound
from engine.models import Operator
from engine.store.postgresql.base import PostgresBase, fetch_one, get_row
from engine.store.postgresql.rows import aware, decode, to_json, utc


class OperatorsMixin(PostgresBase):
    async def add_operator(self, username: str, password_hash: str) -> Operator:
        """Raises Conflict if the username exists (case-insensitive)."""
        try:
            row = await self._one(
                "INSERT INTO operators (username, password_hash, created_at) "
                "VALUES (%s, %s, %s) RETURNING *",
                (username, password_hash, utc_now()),
            )
        except errors.UniqueViolation as error:
            raise Conflict(f"The operator {username!r} already exists.") from error
        assert row is not None
        return decode(Operator, row)

    async def get_operator(self, username: str) -> Operator | None:
        """Case-insensitive."""
        row = await self._one(
            "SELECT * FROM operators WHERE lower(username) = lower(%s)", (username,)
        )
        return None if row is None else decode(Operator, row)

    async def count_operators(self) -> int:
        row = await self._one("SELECT count(*) AS n FROM operators")
        return int(row["n"]) if row else 0

    async def add_api_token(
        self, operator_id: int, token_hash: str, label: str, now: datetime | None = None
    ) -> None:
        """Record a token issued at ``now`` (default: the current time). Raises NotFound for an
        unknown operator, Conflict if the token hash exists."""
        try:
            async with self._transaction() as conn:
                await get_row(conn, "operators", operator_id, "operator")
                await conn.execute(
                    "INSERT INTO api_tokens (operator_id, token_hash, label, created_at) "
                    "VALUES (%s, %s, %s, %s)",
                    (operator_id, token_hash, label, aware(now or utc_now())),
                )
        except errors.UniqueViolation as error:
            raise Conflict("That API token is already registered.") from error

    async def operator_by_token_hash(
        self, token_hash: str, issued_after: datetime | None = None
    ) -> Operator | None:
        """The token's operator, if the token exists (and was issued after ``issued_after``)."""
        row = await self._one(
            "SELECT o.* FROM operators AS o JOIN api_tokens AS t ON t.operator_id = o.id "
            "WHERE t.token_hash = %s AND (%s::timestamptz IS NULL OR t.created_at > %s)",
            (token_hash, *[None if issued_after is None else aware(issued_after)] * 2),
        )
        return None if row is None else decode(Operator, row)

    async def delete_api_tokens(
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
            where, params = "token_hash = %s", (token_hash,)
        elif operator_id is not None:
            where, params = "operator_id = %s", (operator_id,)
        elif issued_before is not None:
            where, params = "created_at < %s", (aware(issued_before),)
        else:
            raise ValueError("delete_api_tokens needs a token, an operator or a time")
        return await self._execute(f"DELETE FROM api_tokens WHERE {where}", params)

    async def remove_operator(self, username: str) -> tuple[Operator, int]:
        """Delete the operator (case-insensitive) and all their API tokens; returns the operator
        and how many tokens were revoked. Raises NotFound for an unknown username."""
        async with self._transaction() as conn:
            row = await fetch_one(
                conn,
                "SELECT * FROM operators WHERE lower(username) = lower(%s) FOR UPDATE",
                (username,),
            )
            if row is None:
                raise NotFound(f"there is no operator called {username!r}")
            operator = decode(Operator, row)
            cursor = await conn.execute(
                "DELETE FROM api_tokens WHERE operator_id = %s", (operator.id,)
            )
            tokens = cursor.rowcount
            await conn.execute("DELETE FROM operators WHERE id = %s", (operator.id,))
        return operator, tokens

    async def audit(
        self, actor: str, action: str, detail: Mapping[str, Any], now: datetime
    ) -> None:
        await self._execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES (%s, %s, %s, %s)",
            (aware(now), actor, action, to_json(dict(detail))),
        )

    async def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest ``limit`` entries, newest first: id, at, actor, action, detail (a dict)."""
        rows = await self._all("SELECT * FROM audit_log ORDER BY id DESC LIMIT %s", (limit,))
        return [{**row, "at": utc(row["at"])} for row in rows]
