"""Operator accounts: adding and removing them, password checks and API tokens.

API tokens (from POST /api/operator/login) last ``token_lifetime`` from when they were issued
(an absolute expiry, 12 hours by default: a working day, after which the integration or person
logs in again) and end at logout or when the operator is removed. The HTML pages use cookie
sessions instead (web/operator/auth.py) and get no API token.

Unknown usernames cost a dummy password check, so the answer takes as long as for a known one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from engine.errors import InvalidInput, LoginFailed
from engine.models import Operator
from engine.security import credentials, field_limits
from engine.security.login_limits import LoginLimiter
from engine.security.password_hasher import PasswordHasher
from engine.store.base import Store

log = logging.getLogger(__name__)

TOKEN_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 10


class OperatorLogins:
    def __init__(
        self,
        store: Store,
        hasher: PasswordHasher,
        clock: Callable[[], datetime],
        *,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        limiter: LoginLimiter | None = None,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.limiter = limiter or LoginLimiter()

    async def add(self, username: str, password: str) -> Operator:
        """Raises InvalidInput for a blank or too long username or a short password, Conflict
        if the username is taken."""
        username = username.strip()
        if not username or len(password) < MIN_PASSWORD:
            raise InvalidInput(
                f"an operator needs a username and a password of {MIN_PASSWORD}+ characters"
            )
        field_limits.line("username", username, field_limits.OPERATOR_USERNAME)
        field_limits.line("password", password, field_limits.PASSWORD)
        operator = await self.store.add_operator(username, await self.hasher.hash(password))
        await self.store.audit("cli", "operator.add", {"username": username}, self.clock())
        return operator

    async def remove(self, username: str) -> tuple[Operator, int]:
        """Remove the operator and revoke their API tokens (how many). Raises NotFound."""
        operator, tokens = await self.store.remove_operator(username.strip())
        detail = {"username": operator.username, "tokens": tokens}
        await self.store.audit("cli", "operator.remove", detail, self.clock())
        return operator, tokens

    async def check_password(self, username: str, password: str, client: str) -> Operator:
        """The operator, if the password is right. Raises LoginFailed otherwise, RateLimited
        while the username (or this address's tries at it) is locked or the server is busy."""
        username = username.strip()
        field_limits.line("username", username, field_limits.OPERATOR_USERNAME)
        field_limits.line("password", password, field_limits.PASSWORD)
        account = username.casefold()
        self.limiter.check(client, account, self._now())
        async with self.limiter.turn(client, self._now()):
            operator = await self.store.get_operator(username)
            if operator is None:
                await self.hasher.verify_dummy(password)
                ok = False
            else:
                ok = await self.hasher.verify(password, operator.password_hash)
        if operator is None or not ok:
            self.limiter.failed(client, account, self._now())
            raise LoginFailed("wrong operator username or password")
        self.limiter.succeeded(client, account)
        return operator

    async def log_in(self, username: str, password: str, client: str) -> tuple[Operator, str]:
        """Check the password; return a new API token (shown once), good for token_lifetime."""
        operator = await self.check_password(username, password, client)
        now = self.clock()
        await self.store.delete_api_tokens(issued_before=now - self.token_lifetime)
        token = credentials.new_token()
        await self.store.add_api_token(operator.id, credentials.token_hash(token), "login", now)
        await self.store.audit(operator.username, "operator.login", {}, now)
        return operator, token

    async def log_out(self, operator: Operator, token: str) -> None:
        """Revoke ``token`` at once."""
        await self.store.delete_api_tokens(token_hash=credentials.token_hash(token))
        await self.store.audit(operator.username, "operator.logout", {}, self.clock())

    async def operator_for_token(self, token: str) -> Operator:
        """Raises LoginFailed for an unknown, revoked or expired token."""
        operator = await self.store.operator_by_token_hash(
            credentials.token_hash(token), issued_after=self.clock() - self.token_lifetime
        )
        if operator is None:
            raise LoginFailed(
                "this operator token is not valid (expired, logged out or revoked): sign in again"
            )
        return operator

    def _now(self) -> float:
        return self.clock().timestamp()
