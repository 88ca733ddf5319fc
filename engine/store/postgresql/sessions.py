"""Volunteers, their one-time logins and their calling sessions in the PostgreSQL store."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from psycopg import errors

from engine.clock import utc_now
from engine.errors import Conflict, NotFound
from engine.models import AudioMode, Login, Session, SessionState, Volunteer
from engine.store.changes import SessionChanges, moved_on
from engine.store.postgresql.base import PostgresBase, fetch_one, get_row, insert, update_row
from engine.store.postgresql.rows import aware, decode, encode_record

_LIVE = "state <> 'logged out'"
"""Matches the partial unique index sessions_live_pin."""


class SessionsMixin(PostgresBase):
    # --- volunteers and logins ------------------------------------------------------------
    async def add_volunteer(self, name: str, email: str, phone: str) -> Volunteer:
        """The same email (case-insensitive, trimmed) returns the existing volunteer as stored:
        sign-up is anonymous, so it never rewrites someone's name and phone."""
        email = email.strip()
        async with self._transaction() as conn:
            row = await fetch_one(
                conn,
                "INSERT INTO volunteers (name, email, phone, created_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT ((lower(email))) DO NOTHING RETURNING *",
                (name, email, phone, utc_now()),
            )
            if row is None:
                row = await fetch_one(
                    conn, "SELECT * FROM volunteers WHERE lower(email) = lower(%s)", (email,)
                )
            assert row is not None
            return decode(Volunteer, row)

    async def get_volunteer(self, volunteer_id: int) -> Volunteer:
        """Raises NotFound."""
        return decode(Volunteer, await self._get("volunteers", volunteer_id, "volunteer"))

    async def add_login(self, login_id: str, volunteer_id: int, password_hash: str) -> Login:
        """Raises Conflict if login_id exists (case-insensitive), NotFound for an unknown
        volunteer."""
        login = Login(login_id, volunteer_id, password_hash, created_at=utc_now())
        record = encode_record(login, without=())
        try:
            async with self._transaction() as conn:
                await get_row(conn, "volunteers", volunteer_id, "volunteer")
                row = await fetch_one(
                    conn,
                    f"INSERT INTO logins ({', '.join(record)}) "
                    f"VALUES ({', '.join(['%s'] * len(record))}) RETURNING *",
                    list(record.values()),
                )
        except errors.UniqueViolation as error:
            raise Conflict(f"The Login ID {login_id!r} is already taken.") from error
        assert row is not None
        return decode(Login, row)

    async def get_login(self, login_id: str) -> Login | None:
        """Case-insensitive."""
        row = await self._one("SELECT * FROM logins WHERE lower(login_id) = lower(%s)", (login_id,))
        return None if row is None else decode(Login, row)

    async def use_login(self, login_id: str, when: datetime) -> None:
        """Record when the login was used. Raises NotFound."""
        changed = await self._execute(
            "UPDATE logins SET used_at = %s WHERE lower(login_id) = lower(%s)",
            (aware(when), login_id),
        )
        if changed == 0:
            raise NotFound(f"There is no Login ID {login_id!r}.")

    # --- sessions ---------------------------------------------------------------------------
    async def create_session(
        self,
        volunteer_id: int,
        campaign_id: int,
        audio_mode: AudioMode,
        pin: str,
        token_hash: str,
        now: datetime,
    ) -> Session:
        """State WAITING_FOR_PHONE. Raises Conflict if ``pin`` belongs to a live (not
        LOGGED_OUT) session or the token hash is taken; NotFound for an unknown volunteer or
        campaign."""
        session = Session(
            id=0,
            volunteer_id=volunteer_id,
            campaign_id=campaign_id,
            audio_mode=audio_mode,
            pin=pin,
            token_hash=token_hash,
            state=SessionState.WAITING_FOR_PHONE,
            state_since=now,
            created_at=now,
        )
        record = encode_record(session)
        try:
            async with self._transaction() as conn:
                await get_row(conn, "volunteers", volunteer_id, "volunteer")
                await get_row(conn, "campaigns", campaign_id, "campaign")
                session_id = await insert(conn, "sessions", record)
                return decode(Session, await get_row(conn, "sessions", session_id, "session"))
        except errors.UniqueViolation as error:
            if error.diag.constraint_name == "sessions_live_pin":
                raise Conflict(f"PIN {pin} belongs to a live session: pick another PIN.") from error
            raise Conflict("That session token is already in use.") from error

    async def get_session(self, session_id: int) -> Session:
        """Raises NotFound."""
        return decode(Session, await self._get("sessions", session_id, "session"))

    async def session_by_token_hash(self, token_hash: str) -> Session | None:
        row = await self._one("SELECT * FROM sessions WHERE token_hash = %s", (token_hash,))
        return None if row is None else decode(Session, row)

    async def session_by_pin(self, pin: str) -> Session | None:
        """The most recent session with this PIN (live or ended)."""
        row = await self._one(
            "SELECT * FROM sessions WHERE pin = %s ORDER BY id DESC LIMIT 1", (pin,)
        )
        return None if row is None else decode(Session, row)

    async def update_session(
        self,
        session_id: int,
        /,
        *,
        computed_from: Session | None = None,
        **changes: Unpack[SessionChanges],
    ) -> Session:
        """Set Session fields; setting ``state`` also sets state_since to now unless given.
        Raises NotFound, TypeError for a name that is not a Session field, Conflict if the
        change would give two live sessions the same PIN, and SessionMoved if the session's
        state or phone leg are no longer ``computed_from``'s (checked on the locked row)."""
        fields: dict[str, Any] = dict(changes)
        if "state" in fields and "state_since" not in fields:
            fields["state_since"] = utc_now()
        try:
            async with self._transaction() as conn:
                if computed_from is not None:
                    row = await get_row(conn, "sessions", session_id, "session", lock=True)
                    moved_on(decode(Session, row), computed_from)
                return await update_row(conn, "sessions", Session, session_id, "session", fields)
        except errors.UniqueViolation as error:
            raise Conflict(
                f"Session {session_id}: the PIN or token belongs to another live session."
            ) from error

    async def live_sessions(self, campaign_id: int | None = None) -> list[Session]:
        """Sessions not LOGGED_OUT (of one campaign, or all), oldest state_since first."""
        where, params = (
            (_LIVE, ())
            if campaign_id is None
            else (f"{_LIVE} AND campaign_id = %s", (campaign_id,))
        )
        rows = await self._all(
            f"SELECT * FROM sessions WHERE {where} ORDER BY state_since, id", params
        )
        return [decode(Session, row) for row in rows]

    async def pins_in_use(self) -> set[str]:
        """The PINs of live sessions."""
        return {row["pin"] for row in await self._all(f"SELECT pin FROM sessions WHERE {_LIVE}")}
