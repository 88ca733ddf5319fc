"""Attacks on sign-up, sign-in and operator tokens, through the real web app (aiohttp's test
client): a sign-up flood must not stall the server, fields are capped, an anonymous sign-up
never rewrites someone's details, operator tokens expire and can be revoked, failures lock
accounts rather than addresses, and unknown operators cost a password check too."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import Campaign
from engine.security.login_limits import LoginLimiter, LoginPolicy, SignupLimiter, SignupPolicy
from engine.security.password_hasher import PasswordHasher
from engine.store.sqlite.store import SqliteStore
from tests.helpers import wait_until
from tests.unit.web_support import (
    OPERATOR,
    add_voters,
    bearer,
    in_wrap_up,
)
from tests.unit.web_support import sign_in as web_sign_in

PERMISSIVE_SIGNUPS = SignupPolicy(per_address=10_000, per_minute=10_000)
HASH_SECONDS = 0.05
"""The fake hash's cost: like scrypt, it blocks its thread and releases the GIL."""


def slow_hash(secret: str) -> str:
    """A hash in hash_secret's format that takes HASH_SECONDS of blocking, like scrypt."""
    time.sleep(HASH_SECONDS)
    salt = b"salt"
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2, r=1, p=1, dklen=32)
    return f"scrypt$2$1$1${salt.hex()}${digest.hex()}"


def person(n: int, **changes: str) -> dict[str, str]:
    return {"name": f"Volunteer {n}", "email": f"v{n}@example.org", "phone": "555-0100", **changes}


async def error_of(response: Any) -> tuple[int, str]:
    body = await response.json()
    return response.status, body["error"]["message"]


# --- item 3: a sign-up flood does not stall the server ------------------------------------------


def slow_hasher(request: pytest.FixtureRequest, **options: Any) -> PasswordHasher:
    """A one-thread hasher of slow_hash, closed (its thread ended) after the test."""
    hasher = PasswordHasher(1, hash_secret=slow_hash, **options)
    request.addfinalizer(hasher.close)
    return hasher


async def test_a_flood_of_sign_ups_does_not_delay_the_health_check(
    engine: Engine, client: TestClient[Any, Any], request: pytest.FixtureRequest
) -> None:
    """Hashing blocks a worker thread, not the event loop: 40 sign-ups of 50 ms each take two
    seconds of hashing, and /api/health answers meanwhile as fast as ever (on the event loop
    it would wait behind them)."""
    engine.volunteers.logins.hasher = slow_hasher(request)
    engine.volunteers.logins.signup_limiter = SignupLimiter(PERMISSIVE_SIGNUPS)
    flood = [asyncio.create_task(client.post("/api/signup", json=person(n))) for n in range(40)]
    await asyncio.sleep(0)  # let the flood start
    waits = []
    while not all(task.done() for task in flood):
        started = time.perf_counter()
        response = await client.get("/api/health")
        waits.append(time.perf_counter() - started)
        assert response.status == 200
        await asyncio.sleep(0.02)  # the probes' pace, not a wait for a condition
    assert [(await task).status for task in flood] == [201] * len(flood)
    assert max(waits) < 1.0, f"/api/health took up to {max(waits) * 1000:.0f} ms during the flood"
    assert len(waits) >= 10, "the flood ended before it could be measured"


async def test_sign_ups_are_limited_per_address(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    engine.volunteers.logins.signup_limiter = SignupLimiter(SignupPolicy(per_address=3))
    for n in range(3):
        assert (await client.post("/api/signup", json=person(n))).status == 201
    response = await client.post("/api/signup", json=person(9))
    status, message = await error_of(response)
    assert status == 429 and "Too many sign-ups from your network" in message
    assert int(response.headers["Retry-After"]) > 0


async def test_sign_ups_are_limited_overall(engine: Engine, client: TestClient[Any, Any]) -> None:
    engine.volunteers.logins.signup_limiter = SignupLimiter(SignupPolicy(per_minute=2))
    for n in range(2):
        assert (await client.post("/api/signup", json=person(n))).status == 201
    status, message = await error_of(await client.post("/api/signup", json=person(9)))
    assert status == 429 and "Too many people are signing up right now" in message


async def test_a_full_hashing_queue_says_the_server_is_busy(
    engine: Engine, client: TestClient[Any, Any], request: pytest.FixtureRequest
) -> None:
    engine.volunteers.logins.hasher = slow_hasher(request, max_waiting=0)
    first = asyncio.create_task(client.post("/api/signup", json=person(1)))
    hasher = engine.volunteers.logins.hasher
    await wait_until(lambda: hasher.pending == 1, what="the first sign-up's hash", interval=0.001)
    status, message = await error_of(await client.post("/api/signup", json=person(2)))
    assert status == 429 and "The server is busy" in message
    assert (await first).status == 201


# --- item 3: field caps -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "A" * 100_000, "name is too long: at most 100 characters, not 100,000"),
        (
            "name",
            "Ann\x00Lee",
            "name must be one line of ordinary characters: it contains the "
            "control character U+0000",
        ),
        ("name", "Ann\nLee", "U+000A"),
        ("email", "a" * 300 + "@example.org", "email is too long: at most 254 characters"),
        ("phone", "5" * 33, "phone is too long: at most 32 characters"),
    ],
)
async def test_sign_up_fields_are_capped(
    client: TestClient[Any, Any], field: str, value: str, expected: str
) -> None:
    status, message = await error_of(
        await client.post("/api/signup", json=person(1, **{field: value}))
    )
    assert status == 400 and expected in message


async def test_campaign_names_are_capped(engine: Engine, client: TestClient[Any, Any]) -> None:
    await engine.operators.add_operator(*OPERATOR)
    login = await client.post(
        "/api/operator/login", json={"username": OPERATOR[0], "password": OPERATOR[1]}
    )
    headers = bearer((await login.json())["token"])
    for name, expected in (
        ("C" * 101, "campaign name is too long: at most 100 characters, not 101"),
        ("Spring\x00", "U+0000"),
    ):
        response = await client.post(
            "/api/operator/campaigns", json={"name": name}, headers=headers
        )
        status, message = await error_of(response)
        assert status == 400 and expected in message
    created = await client.post("/api/operator/campaigns", json={"name": "Fall"}, headers=headers)
    path = f"/api/operator/campaigns/{(await created.json())['id']}"
    response = await client.patch(path, json={"name": "X" * 5000}, headers=headers)
    assert (await error_of(response))[0] == 400
    response = await client.patch(path, json={"abandon_message": "m" * 1001}, headers=headers)
    status, message = await error_of(response)
    assert status == 400 and "abandon_message is too long" in message


async def test_overlong_sign_in_fields_are_refused_before_any_password_check(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    hasher = engine.volunteers.logins.hasher
    response = await sign_in(client, campaign, {"login_id": "K" * 10_000, "password": "x"})
    status, message = await error_of(response)
    assert status == 400 and "Login ID is too long: at most 64 characters" in message
    assert hasher.verifications == 0


async def test_result_notes_are_capped(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await web_sign_in(client, campaign.id)
    await add_voters(engine, campaign, "first,phone\nAna,(212) 555-0123\n")
    await in_wrap_up(engine, campaign, volunteer.session_id)
    response = await client.post(
        "/api/session/result",
        json={"term_code": "talked", "notes": "n" * 5001},
        headers=volunteer.headers,
    )
    status, message = await error_of(response)
    assert status == 400 and "notes is too long: at most 5,000 characters" in message
    response = await client.post(
        "/api/session/result",
        json={"term_code": "talked", "notes": "Wants a sign.\nCall back in May."},
        headers=volunteer.headers,
    )
    assert response.status == 200, await response.text()


async def test_an_overlong_operator_username_is_refused_before_any_lookup(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    response = await client.post(
        "/api/operator/login", json={"username": "o" * 1000, "password": "whatever it is"}
    )
    status, message = await error_of(response)
    assert status == 400 and "username is too long" in message


# --- item 6: sign-up with someone else's email --------------------------------------------------


async def test_sign_up_with_someone_elses_email_keeps_their_details(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    first = await client.post("/api/signup", json=person(1, name="Ann Lee", phone="+12025550100"))
    assert first.status == 201
    again = await client.post(
        "/api/signup",
        json={"name": "Mallory", "email": "V1@example.org", "phone": "+12025550199"},
    )
    assert again.status == 201  # the same answer as for a new email: nothing to learn from it
    login = await engine.store.get_login((await again.json())["login_id"])
    assert login is not None
    volunteer = await engine.store.get_volunteer(login.volunteer_id)
    assert (volunteer.name, volunteer.phone) == ("Ann Lee", "+12025550100")


# --- item 7: operator tokens --------------------------------------------------------------------


async def operator_login(
    client: TestClient[Any, Any], username: str = OPERATOR[0], password: str = OPERATOR[1]
) -> ClientResponse:
    return await client.post(
        "/api/operator/login", json={"username": username, "password": password}
    )


async def test_an_operator_token_expires_after_its_lifetime(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    token = (await (await operator_login(client)).json())["token"]
    assert (await client.get("/api/operator/campaigns", headers=bearer(token))).status == 200
    accounts = engine.operators.accounts
    issued = datetime.now(UTC)
    accounts.clock = lambda: issued + accounts.token_lifetime + timedelta(seconds=5)
    response = await client.get("/api/operator/campaigns", headers=bearer(token))
    status, message = await error_of(response)
    assert status == 401 and "expired, logged out or revoked" in message
    assert accounts.token_lifetime == timedelta(hours=12)


async def test_logout_revokes_the_operator_token(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    token = (await (await operator_login(client)).json())["token"]
    other = (await (await operator_login(client)).json())["token"]
    response = await client.post("/api/operator/logout", headers=bearer(token))
    assert response.status == 200 and await response.json() == {"logged_out": True}
    assert (await client.get("/api/operator/campaigns", headers=bearer(token))).status == 401
    assert (await client.get("/api/operator/campaigns", headers=bearer(other))).status == 200


async def test_the_html_login_makes_no_api_token(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    form = await client.get("/operator/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', await form.text())
    assert found
    response = await client.post(
        "/operator/login",
        data={"csrf_token": found.group(1), "username": OPERATOR[0], "password": OPERATOR[1]},
        allow_redirects=False,
    )
    assert response.status == 303
    assert (await client.get("/operator")).status == 200
    rows = (
        cast(SqliteStore, engine.store).conn.execute("SELECT count(*) FROM api_tokens").fetchone()
    )
    assert rows[0] == 0


async def test_a_removed_operators_tokens_and_pages_stop_working(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    token = (await (await operator_login(client)).json())["token"]
    form = await client.get("/operator/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', await form.text())
    assert csrf
    await client.post(
        "/operator/login",
        data={"csrf_token": csrf.group(1), "username": OPERATOR[0], "password": OPERATOR[1]},
        allow_redirects=False,
    )
    operator, revoked = await engine.operators.accounts.remove(OPERATOR[0])
    assert (operator.username, revoked) == (OPERATOR[0], 1)
    assert (await client.get("/api/operator/campaigns", headers=bearer(token))).status == 401
    page = await client.get("/operator", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"].startswith("/operator/login")


def phonebank(*args: str, db: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phonebank.cli", *args],
        input=stdin,
        env={**os.environ, "PHONEBANK_ENGINE_DATABASE": db},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_removes_an_operator_after_confirmation(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite")
    assert (
        phonebank(
            "operator", "add", "olga", "--password-stdin", db=db, stdin="a long password\n"
        ).returncode
        == 0
    )
    refused = phonebank("operator", "remove", "olga", db=db, stdin="n\n")
    assert refused.returncode == 1 and "nothing was changed" in refused.stdout
    removed = phonebank("operator", "remove", "olga", db=db, stdin="y\n")
    assert removed.returncode == 0, removed.stderr
    assert "operator 'olga' removed; 0 API tokens revoked" in removed.stdout
    again = phonebank("operator", "remove", "olga", "--yes", db=db)
    assert again.returncode == 1 and "there is no operator called 'olga'" in again.stderr


# --- item 9: limits keyed on accounts, and timing -----------------------------------------------


async def sign_up(client: TestClient[Any, Any], n: int) -> dict[str, str]:
    response = await client.post("/api/signup", json=person(n))
    assert response.status == 201
    return dict(await response.json())


async def sign_in(
    client: TestClient[Any, Any], campaign: Any, creds: dict[str, str], password: str | None = None
) -> ClientResponse:
    return await client.post(
        "/api/signin",
        json={
            "login_id": creds["login_id"],
            "password": creds["password"] if password is None else password,
            "campaign": campaign.name,
        },
    )


async def test_a_thousand_wrong_sign_ins_from_an_address_do_not_lock_out_a_volunteer_there(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    """One address (a proxy, a venue) sends 1,000 wrong sign-ins for many Login IDs; another
    volunteer behind the same address then signs in with the right password."""
    engine.volunteers.logins.login_limiter = LoginLimiter(LoginPolicy(address_delay=0.0))
    victim = await sign_up(client, 1)
    guessed = [await sign_up(client, n) for n in range(2, 7)]
    refused = 0
    for n in range(1000):
        target = guessed[n % len(guessed)] if n % 2 else {"login_id": f"X{n:07d}", "password": ""}
        response = await sign_in(client, campaign, target, password="wrong-guess")
        assert response.status in (401, 429)
        refused += response.status == 429
    assert refused > 0, "the guessed Login IDs should have been locked from this address"
    assert (await sign_in(client, campaign, victim)).status == 201


async def test_an_operators_typos_lock_only_their_account_from_that_address(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    await engine.operators.add_operator("oscar", "another long password")
    for _ in range(5):
        assert (await operator_login(client, password="wrong password!")).status == 401
    assert (await operator_login(client)).status == 429
    assert (await operator_login(client, "oscar", "another long password")).status == 200


async def test_guessing_one_account_from_many_addresses_locks_the_account(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    """The account's own count (20 in 15 minutes) stops guessing spread over addresses."""
    await engine.operators.add_operator(*OPERATOR)
    accounts = engine.operators.accounts
    for n in range(20):
        with pytest.raises(Exception, match="wrong operator username or password"):
            await accounts.check_password(OPERATOR[0], "wrong password!", f"203.0.113.{n}")
    with pytest.raises(Exception, match="Too many failed attempts"):
        await accounts.check_password(*OPERATOR, "198.51.100.7")


async def test_an_unknown_operator_username_costs_a_password_check(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    hasher = engine.operators.accounts.hasher
    before = hasher.verifications
    assert (await operator_login(client, "nobody", "some password")).status == 401
    assert hasher.verifications == before + 1
    assert (await operator_login(client, OPERATOR[0], "some password")).status == 401
    assert hasher.verifications == before + 2
