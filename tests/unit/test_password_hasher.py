"""Password hashing runs in worker threads, with a bounded queue."""

from __future__ import annotations

import asyncio
import threading

import pytest

from engine.errors import RateLimited
from engine.security import credentials
from engine.security.password_hasher import DUMMY_HASH, PasswordHasher, default_workers


async def test_hashes_and_verifies_with_real_scrypt_off_the_event_loop() -> None:
    threads: list[str] = []

    def hash_secret(secret: str) -> str:
        threads.append(threading.current_thread().name)
        return credentials.hash_secret(secret)

    hasher = PasswordHasher(1, hash_secret=hash_secret)
    try:
        hashed = await hasher.hash("kx4-9mt-p2q")
        assert await hasher.verify("kx4-9mt-p2q", hashed)
        assert not await hasher.verify("kx4-9mt-p2r", hashed)
    finally:
        hasher.close()
    assert threads and threads[0].startswith("phonebank-hash")
    assert (hasher.hashes, hasher.verifications) == (1, 2)


async def test_more_than_the_queue_holds_are_refused_as_busy() -> None:
    gate = threading.Event()

    def blocked(secret: str) -> str:
        gate.wait(10)
        return secret

    hasher = PasswordHasher(1, max_waiting=1, hash_secret=blocked)
    try:
        running = [asyncio.create_task(hasher.hash(str(n))) for n in range(2)]
        await asyncio.sleep(0)
        assert hasher.pending == 2
        with pytest.raises(RateLimited, match="The server is busy"):
            await hasher.hash("third")
        gate.set()
        assert await asyncio.gather(*running) == ["0", "1"]
        assert hasher.pending == 0
    finally:
        gate.set()
        hasher.close()


async def test_a_dummy_verification_costs_a_real_one() -> None:
    hasher = PasswordHasher(1)
    try:
        await hasher.verify_dummy("guess")
        await hasher.verify_dummy("guess again")
    finally:
        hasher.close()
    assert hasher.verifications == 2


def test_the_dummy_hash_costs_what_a_real_one_does() -> None:
    """Same scrypt parameters as new hashes, so checking it takes as long."""
    assert DUMMY_HASH.split("$")[:4] == credentials.hash_secret("x").split("$")[:4]
    assert not credentials.verify_secret("phonebank", DUMMY_HASH)


def test_the_pool_leaves_a_core_for_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_workers() == 1
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert default_workers() == 1
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert default_workers() == 7
