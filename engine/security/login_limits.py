"""Who may try a password now: the limits on sign-in and sign-up, one policy for both kinds of
account (volunteer Login IDs, operator usernames).

Failures lock keys, never a whole address, so one address (a venue's NAT, a proxy) shared by an
attacker cannot lock out the others behind it:

- (address, account): ``pair_failures`` failures in ``pair_window`` s lock that pair for
  ``pair_lockout`` s: someone's typos, or one address guessing one account;
- account: ``account_failures`` failures in ``account_window`` s from any addresses lock the
  account for ``account_lockout`` s: guessing spread over many addresses. One address alone
  can never get there (its pair locks first), so it cannot lock anyone else out;
- a correct password for an account that is not locked succeeds, whatever else its address
  did. Per address, password checks run ``address_checks`` at a time, at most
  ``address_waiting`` more wait their turn (others are told to retry in a few seconds), and an
  address with ``address_slow_failures`` failures in ``pair_window`` s waits
  ``address_delay`` s before each check: a guessing script is slowed to a crawl, while a
  volunteer at the same address still gets in;
- the global ceiling is the password hasher's queue (engine/security/password_hasher.py).

Sign-ups (anonymous, each costs a hash and a row) are limited per address and overall.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from engine.errors import RateLimited
from engine.security.rate_limit import AttemptLimiter, FailureLimiter

ADDRESS_BUSY_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class LoginPolicy:
    pair_failures: int = 5
    pair_window: float = 300.0
    pair_lockout: float = 300.0
    account_failures: int = 20
    account_window: float = 900.0
    account_lockout: float = 900.0
    address_checks: int = 2
    address_waiting: int = 8
    address_slow_failures: int = 50
    address_delay: float = 1.0
    max_keys: int = 100_000
    """Pairs and accounts remembered (the oldest are forgotten first, locks with them): high
    enough that a flood of junk accounts cannot quickly push a real lock out."""


@dataclass(frozen=True)
class SignupPolicy:
    per_address: int = 30
    address_window: float = 600.0
    per_minute: int = 120
    """Across all addresses."""


class LoginLimiter:
    """Applies a LoginPolicy. ``check``/``failed``/``succeeded`` are pure bookkeeping with
    the time passed in; ``turn`` is the per-address queue a password check waits in."""

    def __init__(self, policy: LoginPolicy | None = None) -> None:
        self.policy = policy = policy or LoginPolicy()
        self._pairs = FailureLimiter(
            policy.pair_failures, policy.pair_window, policy.pair_lockout, policy.max_keys
        )
        self._accounts = FailureLimiter(
            policy.account_failures, policy.account_window, policy.account_lockout, policy.max_keys
        )
        self._address_failures = AttemptLimiter(policy.address_slow_failures, policy.pair_window)
        self._gates: dict[str, _Gate] = {}

    def check(self, address: str, account: str, now: float) -> None:
        """Raises RateLimited (saying how long to wait) if the account, or this address's
        tries at it, are locked."""
        self._accounts.check(account, now)
        self._pairs.check(_pair(address, account), now)

    def failed(self, address: str, account: str, now: float) -> None:
        self._pairs.record_failure(_pair(address, account), now)
        self._accounts.record_failure(account, now)
        with contextlib.suppress(RateLimited):
            self._address_failures.take(address, now)

    def succeeded(self, address: str, account: str) -> None:
        """A correct password: this pair's typos are forgotten (the account's count is not:
        guessing from elsewhere goes on counting)."""
        self._pairs.reset(_pair(address, account))

    def slowed(self, address: str, now: float) -> bool:
        """Whether the address failed so often lately that its checks are delayed."""
        return self._address_failures.count(address, now) >= self.policy.address_slow_failures

    @contextlib.asynccontextmanager
    async def turn(self, address: str, now: float) -> AsyncIterator[None]:
        """Wait for this address's turn to check a password (delayed when ``slowed``).

        Raises RateLimited when the address already has address_waiting checks waiting."""
        gate = self._gates.get(address)
        if gate is None:
            gate = self._gates[address] = _Gate(asyncio.Semaphore(self.policy.address_checks))
        if gate.waiting >= self.policy.address_waiting:
            raise RateLimited(
                "Too many sign-in attempts from your network at once. Try again in a few seconds.",
                ADDRESS_BUSY_RETRY_SECONDS,
            )
        gate.users += 1
        gate.waiting += 1
        acquired = False
        try:
            await gate.slots.acquire()
            acquired = True
            gate.waiting -= 1
            if self.slowed(address, now):
                await asyncio.sleep(self.policy.address_delay)
            yield
        finally:
            if acquired:
                gate.slots.release()
            else:
                gate.waiting -= 1
            gate.users -= 1
            if gate.users == 0:
                del self._gates[address]

    def __len__(self) -> int:
        """Addresses with a password check waiting or running."""
        return len(self._gates)


class SignupLimiter:
    """Applies a SignupPolicy: raises RateLimited when the address or everyone together signed
    up too often lately."""

    def __init__(self, policy: SignupPolicy | None = None) -> None:
        self.policy = policy = policy or SignupPolicy()
        self._addresses = AttemptLimiter(policy.per_address, policy.address_window)
        self._everyone = AttemptLimiter(policy.per_minute, 60.0, max_keys=1)

    def take(self, address: str, now: float) -> None:
        """Count a sign-up, or raise RateLimited (then nothing is counted)."""
        busy = "Too many people are signing up right now; this protects the server."
        crowded = "Too many sign-ups from your network."
        self._everyone.check("*", now, busy)
        self._addresses.check(address, now, crowded)
        self._everyone.take("*", now, busy)
        self._addresses.take(address, now, crowded)


@dataclass
class _Gate:
    slots: asyncio.Semaphore
    users: int = 0
    """Checks waiting or running."""
    waiting: int = 0


def _pair(address: str, account: str) -> str:
    return f"{address}|{account}"
