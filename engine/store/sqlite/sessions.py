"""Volunteers, their one-time logins and their calling sessions in the SQLite store."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, Unpack

from engine.clock import utc_now
from engine.errors import Conflict, NotFound
from engine.models import AudioMode, Login, Session, SessionState, Volunteer
from engine.store.changes import SessionChanges, moved_on
from engine.store.sqlite.base import SqliteBase, immediate
from engine.store.sqlite.rows import decode, encode_record, to_iso
from engine.store.sqlite.worker import on_worker

_LIVE = "state != 'logged out'"
"""Matches the partial unique index sessions_live_pin: keep the text identical."""


class SessionsMixin(SqliteBase):
    # --- volunteers and logins ------------------------------------------------------------
    @on_worker
    def add_volunteer(self, name: str, email: str, phone: str) -> Volunteer:
        """The same email (case-insensitive, trimmed) returns the existing volunteer as stored:
        sign-up is anonymous, so it never rewrites someone's name and phone."""
        email = email.strip()
        with immediate(self.conn):
            row = self._one("SELECT id FROM volunteers WHERE email = ?", (email,))
            if row is None:
                volunteer_id = self._insert(
                    "volunteers",
                    {"name": name, "email": email, "phone": phone, "created_at": to_iso(utc_now())},
                )
            else:
                volunteer_id = row["id"]
        return decode(Volunteer, self._get("volunteers", volunteer_id, "volunteer"))

    @on_worker
    def get_volunteer(self, volunteer_id: int) -> Volunteer:
        """Raises NotFound."""
        return decode(Volunteer, self._get("volunteers", volunteer_id, "volunteer"))

    @on_worker
    def add_login(self, login_id: str, volunteer_id: int, password_hash: str) -> Login:
        """Raises Conflict if login_id exists (case-insensitive), NotFound for an unknown
        volunteer."""
        login = Login(login_id, volunteer_id, password_hash, created_at=utc_now())
        with immediate(self.conn):
            self._get("volunteers", volunteer_id, "volunteer")
            try:
                self._insert("logins", encode_record(login, without=()))
            except sqlite3.IntegrityError as error:
                raise Conflict(f"The Login ID {login_id!r} is already taken.") from error
        row = self._one("SELECT * FROM logins WHERE login_id = ?", (login_id,))
        assert row is not None
        return decode(Login, row)

    @on_worker
    def get_login(self, login_id: str) -> Login | None:
        """Case-insensitive."""
        row = self._one("SELECT * FROM logins WHERE login_id = ?", (login_id,))
        return None if row is None else decode(Login, row)

    @on_worker
    def use_login(self, login_id: str, when: datetime) -> None:
        """Record when the login was used. Raises NotFound."""
        with immediate(self.conn) as conn:
            cursor = conn.execute(
                "UPDATE logins SET used_at = ? WHERE login_id = ?", (to_iso(when), login_id)
            )
            if cursor.rowcount == 0:
                raise NotFound(f"There is no Login ID {login_id!r}.")

    # --- sessions ---------------------------------------------------------------------------
    @on_worker
    def create_session(
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
        with immediate(self.conn):
            self._get("volunteers", volunteer_id, "volunteer")
            self._get("campaigns", campaign_id, "campaign")
            if self._one(f"SELECT 1 FROM sessions WHERE pin = ? AND {_LIVE}", (pin,)):
                raise Conflict(f"PIN {pin} belongs to a live session: pick another PIN.")
            try:
                session_id = self._insert("sessions", encode_record(session))
            except sqlite3.IntegrityError as error:
                raise Conflict("That session token is already in use.") from error
        return decode(Session, self._get("sessions", session_id, "session"))

    @on_worker
    def get_session(self, session_id: int) -> Session:
        """Raises NotFound."""
        return decode(Session, self._get("sessions", session_id, "session"))

    @on_worker
    def session_by_token_hash(self, token_hash: str) -> Session | None:
        row = self._one("SELECT * FROM sessions WHERE token_hash = ?", (token_hash,))
        return None if row is None else decode(Session, row)

    @on_worker
    def session_by_pin(self, pin: str) -> Session | None:
        """The most recent session with this PIN (live or ended)."""
        row = self._one("SELECT * FROM sessions WHERE pin = ? ORDER BY id DESC LIMIT 1", (pin,))
        return None if row is None else decode(Session, row)

    @on_worker
    def update_session(
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
        state or phone leg are no longer ``computed_from``'s (the worker runs one call at a
        time, so reading and writing here cannot be overtaken)."""
        if computed_from is not None:
            moved_on(decode(Session, self._get("sessions", session_id, "session")), computed_from)
        fields: dict[str, Any] = dict(changes)
        if "state" in fields and "state_since" not in fields:
            fields["state_since"] = utc_now()
        try:
            return self._update("sessions", Session, session_id, "session", fields)
        except sqlite3.IntegrityError as error:
            raise Conflict(
                f"Session {session_id}: the PIN or token belongs to another live session."
            ) from error

    @on_worker
    def live_sessions(self, campaign_id: int | None = None) -> list[Session]:
        """Sessions not LOGGED_OUT (of one campaign, or all), oldest state_since first."""
        where, params = (
            (_LIVE, ()) if campaign_id is None else (f"{_LIVE} AND campaign_id = ?", (campaign_id,))
        )
        rows = self._all(f"SELECT * FROM sessions WHERE {where} ORDER BY state_since, id", params)
        return [decode(Session, row) for row in rows]

    @on_worker
    def pins_in_use(self) -> set[str]:
        """The PINs of live sessions."""
        return {row["pin"] for row in self._all(f"SELECT pin FROM sessions WHERE {_LIVE}")}
