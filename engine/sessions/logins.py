"""Volunteers' sign-up and password check: the anonymous, expensive part of signing in.

Sign-up hands out a fresh Login ID and password (hashed off the event loop); the check finds
the Login ID and verifies the password within the limits of engine/security/login_limits.py. Opening
the session itself is VolunteerService.sign_in's job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.errors import InvalidInput, LoginFailed
from engine.models import Login, Volunteer
from engine.security import credentials, field_limits
from engine.security.login_limits import LoginLimiter, SignupLimiter
from engine.security.password_hasher import PasswordHasher
from engine.store.base import Store

log = logging.getLogger(__name__)

LOGIN_ID_TRIES = 10


@dataclass(frozen=True)
class SignUp:
    volunteer: Volunteer
    login_id: str
    password: str


class VolunteerLogins:
    def __init__(
        self,
        store: Store,
        hasher: PasswordHasher,
        *,
        login_limiter: LoginLimiter | None = None,
        signup_limiter: SignupLimiter | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.login_limiter = login_limiter or LoginLimiter()
        self.signup_limiter = signup_limiter or SignupLimiter()
        self.now = now

    async def sign_up(self, name: str, email: str, phone: str, client: str | None) -> SignUp:
        """Register (or find, by email) the volunteer and hand out a fresh Login ID and password.

        An email already registered keeps its stored name and phone: an anonymous request
        never rewrites someone's details (what was typed is only logged when it differs).
        ``client`` is the caller's address (None: a trusted in-process caller, not limited).
        Raises InvalidInput for a missing, too long or malformed field, RateLimited when too
        many sign-ups came lately (from ``client`` or from everyone).
        """
        name, email, phone = name.strip(), email.strip(), phone.strip()
        problems = [f for f, v in (("name", name), ("email", email), ("phone", phone)) if not v]
        if problems:
            raise InvalidInput(f"please fill in your {', '.join(problems)}")
        field_limits.line("name", name, field_limits.VOLUNTEER_NAME)
        field_limits.line("email", email, field_limits.EMAIL)
        field_limits.line("phone", phone, field_limits.PHONE)
        if "@" not in email or "." not in email.rsplit("@", 1)[-1]:
            raise InvalidInput(f"'{email}' does not look like an email address")
        if client is not None:
            self.signup_limiter.take(client, self.now())
        password = credentials.new_password()
        password_hash = await self.hasher.hash(password)
        volunteer = await self.store.add_volunteer(name, email, phone)
        if (volunteer.name, volunteer.phone) != (name, phone):
            log.warning(
                "sign-up from %s for volunteer %d's email with other details: stored name and "
                "phone kept",
                client or "in-process",
                volunteer.id,
            )
        for _ in range(LOGIN_ID_TRIES):
            login_id = credentials.new_login_id()
            if await self.store.get_login(login_id) is None:
                break
        await self.store.add_login(login_id, volunteer.id, password_hash)
        return SignUp(volunteer, login_id, password)

    async def check(self, login_id: str, password: str, client: str) -> Login:
        """The unused login matching ``login_id`` and ``password``.

        Raises RateLimited while the Login ID (or this address's tries at it) is locked or the
        server is too busy, LoginFailed for a used Login ID or a wrong Login ID or password,
        InvalidInput for absurdly long input.
        """
        field_limits.line("Login ID", login_id, field_limits.LOGIN_ID)
        field_limits.line("password", password, field_limits.PASSWORD)
        typed = credentials.normalize_login_input(login_id)
        limiter = self.login_limiter
        limiter.check(client, typed, self.now())
        async with limiter.turn(client, self.now()):
            login = await self.store.get_login(typed)
            if login is not None and login.used_at is not None:
                raise LoginFailed(
                    "this Login ID was already used for a logon; Login IDs work once: "
                    "get a new Login ID and password from the campaign's sign-up page"
                )
            ok = login is not None and await self.hasher.verify(
                credentials.normalize_password_input(password), login.password_hash
            )
        if login is None or not ok:
            limiter.failed(client, typed, self.now())
            raise LoginFailed(
                "that Login ID and password do not match: check both against what sign-up "
                "showed you (they change at every logon), or sign up again for a new pair"
            )
        limiter.succeeded(client, typed)
        return login
