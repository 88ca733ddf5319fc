"""The login policy: failures lock (address, account) pairs and accounts, never addresses;
per-address turns; sign-up limits per address and overall."""

from __future__ import annotations

import asyncio

import pytest

from engine.errors import RateLimited
from engine.security.login_limits import LoginLimiter, LoginPolicy, SignupLimiter, SignupPolicy
from engine.security.rate_limit import AttemptLimiter

ADDRESS, OTHER = "192.0.2.1", "198.51.100.2"


def test_five_failures_lock_the_account_from_that_address_only() -> None:
    limiter = LoginLimiter()
    for _ in range(5):
        limiter.check(ADDRESS, "ann", 0)
        limiter.failed(ADDRESS, "ann", 0)
    with pytest.raises(RateLimited, match="Try again in 5 minutes"):
        limiter.check(ADDRESS, "ann", 1)
    limiter.check(OTHER, "ann", 1)  # the same account from elsewhere
    limiter.check(ADDRESS, "bob", 1)  # another account from the same address
    limiter.check(ADDRESS, "ann", 301)  # the lock ends


def test_a_thousand_failures_from_one_address_lock_no_other_account() -> None:
    limiter = LoginLimiter()
    for n in range(1000):
        account = f"guess-{n % 50}"
        try:
            limiter.check(ADDRESS, account, n / 10)
        except RateLimited:
            continue
        limiter.failed(ADDRESS, account, n / 10)
    limiter.check(ADDRESS, "ann", 100)


def test_one_address_alone_never_locks_the_account_for_others() -> None:
    limiter = LoginLimiter()
    refused = 0
    for second in range(0, 900, 3):  # a failure every 3 s for 15 minutes
        try:
            limiter.check(ADDRESS, "ann", second)
        except RateLimited:
            refused += 1
            continue
        limiter.failed(ADDRESS, "ann", second)
    assert refused
    limiter.check(OTHER, "ann", 900)


def test_twenty_failures_from_many_addresses_lock_the_account_everywhere() -> None:
    limiter = LoginLimiter()
    for n in range(20):
        limiter.failed(f"203.0.113.{n}", "ann", n)
    with pytest.raises(RateLimited, match="Try again in 15 minutes"):
        limiter.check(OTHER, "ann", 20)
    limiter.check(OTHER, "ann", 20 + 900)


def test_a_success_forgets_the_pairs_typos_but_not_the_accounts_count() -> None:
    limiter = LoginLimiter(LoginPolicy(account_failures=6))
    for _ in range(4):
        limiter.failed(ADDRESS, "ann", 0)
    limiter.succeeded(ADDRESS, "ann")
    for _ in range(2):
        limiter.failed(ADDRESS, "ann", 1)
    with pytest.raises(RateLimited):  # the account's 6th failure, the pair's 2nd
        limiter.check(OTHER, "ann", 2)


def test_an_address_is_slowed_after_fifty_failures_in_five_minutes() -> None:
    limiter = LoginLimiter()
    for n in range(49):
        limiter.failed(ADDRESS, f"acct-{n}", 0)
    assert not limiter.slowed(ADDRESS, 1)
    limiter.failed(ADDRESS, "acct-49", 1)
    assert limiter.slowed(ADDRESS, 2) and not limiter.slowed(OTHER, 2)
    assert not limiter.slowed(ADDRESS, 302)


async def test_an_address_checks_two_at_a_time_and_queues_eight_more() -> None:
    limiter = LoginLimiter()
    release = asyncio.Event()
    inside = 0

    async def attempt() -> None:
        nonlocal inside
        async with limiter.turn(ADDRESS, 0):
            inside += 1
            await release.wait()

    tasks = [asyncio.create_task(attempt()) for _ in range(10)]
    await asyncio.sleep(0)
    assert inside == 2
    with pytest.raises(RateLimited, match="from your network at once"):
        async with limiter.turn(ADDRESS, 0):
            pass
    async with limiter.turn(OTHER, 0):  # other addresses are not queued behind it
        pass
    release.set()
    await asyncio.gather(*tasks)
    assert inside == 10 and len(limiter) == 0


async def test_a_slowed_address_waits_before_its_check() -> None:
    limiter = LoginLimiter(LoginPolicy(address_slow_failures=1, address_delay=0.2))
    limiter.failed(ADDRESS, "x", 0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with limiter.turn(ADDRESS, 1):
        pass
    assert loop.time() - started >= 0.2


def test_sign_ups_are_limited_per_address_and_overall() -> None:
    limiter = SignupLimiter(SignupPolicy(per_address=2, address_window=600, per_minute=3))
    limiter.take(ADDRESS, 0)
    limiter.take(ADDRESS, 1)
    with pytest.raises(RateLimited, match=r"Too many sign-ups from your network\. Try again in 10"):
        limiter.take(ADDRESS, 2)
    limiter.take(OTHER, 3)
    with pytest.raises(RateLimited, match="Too many people are signing up right now"):
        limiter.take("203.0.113.9", 4)
    limiter.take("203.0.113.9", 61)


def test_an_attempt_limiter_slides_its_window_and_counts() -> None:
    limiter = AttemptLimiter(max_attempts=2, window=10)
    limiter.take("k", 0)
    limiter.take("k", 5)
    assert limiter.count("k", 6) == 2
    with pytest.raises(RateLimited) as refused:
        limiter.take("k", 6)
    assert refused.value.retry_after == pytest.approx(4)
    limiter.take("k", 10.5)
    assert limiter.count("k", 10.5) == 2


def test_an_attempt_limiter_forgets_the_oldest_keys_beyond_its_bound() -> None:
    limiter = AttemptLimiter(max_attempts=1, window=60, max_keys=3)
    for n in range(5):
        limiter.take(f"k{n}", n)
    assert len(limiter) == 3
    limiter.take("k0", 6)  # forgotten, so allowed again
