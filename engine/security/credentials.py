"""Login IDs, passwords, PINs and session tokens: making them, normalizing input, hashing.

Login IDs and passwords are read off a screen and typed back, so they use an alphabet without
look-alikes (no 0/O, 1/I/L). Each alphabet is single-case, so case never matters.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets

from engine.errors import Conflict, InvalidInput

LOGIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PASSWORD_ALPHABET = LOGIN_ALPHABET.lower()
LOGIN_ID_LENGTH = 8
PASSWORD_GROUPS = 3
PASSWORD_GROUP_LENGTH = 3

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_SCRYPT_MAXMEM = 64 * 1024 * 1024

PIN_TRIES = 1000
"""New PINs drawn before giving up: running out means the PIN length is too short."""


def new_login_id() -> str:
    """A fresh Login ID such as "K7MX4RTA": 8 characters, uppercase, no look-alikes."""
    return "".join(secrets.choice(LOGIN_ALPHABET) for _ in range(LOGIN_ID_LENGTH))


def new_password() -> str:
    """A fresh password in readable groups, such as "kx4-9mt-p2q" (lowercase, no look-alikes)."""
    groups = (
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_LENGTH))
        for _ in range(PASSWORD_GROUPS)
    )
    return "-".join(groups)


def normalize_login_input(text: str) -> str:
    """A typed Login ID as issued: all whitespace removed, uppercase."""
    return "".join(text.split()).upper()


def normalize_password_input(text: str) -> str:
    """A typed password as issued: outer whitespace stripped, lowercase.

    Passwords are issued in lowercase from a single-case alphabet, so lowercasing what was
    typed compares case-insensitively without weakening the password.
    """
    return text.strip().lower()


def hash_secret(secret: str) -> str:
    """A salted scrypt hash: "scrypt$n$r$p$salt_hex$hash_hex". Equal secrets hash differently."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, hashed: str) -> bool:
    """Whether `secret` matches a hash from hash_secret, compared in constant time.

    Raises InvalidInput if `hashed` is not in hash_secret's format (a corrupt record).
    """
    try:
        scheme, n, r, p, salt_hex, digest_hex = hashed.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
        params = int(n), int(r), int(p)
    except ValueError:
        raise InvalidInput(
            "the stored secret hash is not in the form scrypt$n$r$p$salt$hash"
        ) from None
    return hmac.compare_digest(_scrypt(secret, salt, *params), expected)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=_HASH_BYTES
    )


def new_pin(length: int, in_use: set[str]) -> str:
    """A random PIN of `length` digits, not starting with 0, not in `in_use`.

    Raises InvalidInput for a length below 1, Conflict if no free PIN turns up in PIN_TRIES
    draws (nearly every PIN of that length is taken: use longer PINs).
    """
    if length < 1:
        raise InvalidInput(f"PIN length must be at least 1, not {length}")
    rng = random.SystemRandom()
    for _ in range(PIN_TRIES):
        pin = str(rng.randrange(10 ** (length - 1), 10**length))
        if pin not in in_use:
            return pin
    raise Conflict(f"no free {length}-digit PIN found after {PIN_TRIES} tries; make PINs longer")


def new_token() -> str:
    """A fresh session token for a browser cookie."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest of a token: what the store keeps.

    Tokens are 256 random bits, so an unsalted fast hash is enough: there is nothing to guess.
    """
    return hashlib.sha256(token.encode()).hexdigest()
