from __future__ import annotations

import re

import pytest

from engine.errors import Conflict, InvalidInput
from engine.security.credentials import (
    LOGIN_ALPHABET,
    PIN_TRIES,
    hash_secret,
    new_login_id,
    new_password,
    new_pin,
    new_token,
    normalize_login_input,
    normalize_password_input,
    token_hash,
    verify_secret,
)

AMBIGUOUS = set("0O1IL")


def test_login_id_is_eight_uppercase_unambiguous_characters() -> None:
    login_id = new_login_id()
    assert len(login_id) == 8
    assert set(login_id) <= set(LOGIN_ALPHABET)


def test_login_alphabet_has_no_look_alikes() -> None:
    assert not AMBIGUOUS & set(LOGIN_ALPHABET)
    assert not set("0o1il") & set(LOGIN_ALPHABET.lower())


def test_login_ids_differ() -> None:
    assert len({new_login_id() for _ in range(50)}) == 50


def test_password_is_three_readable_groups() -> None:
    assert re.fullmatch(r"[a-z2-9]{3}-[a-z2-9]{3}-[a-z2-9]{3}", new_password())


def test_password_has_no_look_alikes() -> None:
    assert not set("0o1il") & set(new_password() + new_password() + new_password())


def test_login_input_loses_spaces_and_case() -> None:
    assert normalize_login_input("  k7mx 4rta\t") == "K7MX4RTA"


def test_password_input_loses_outer_whitespace_and_case() -> None:
    assert normalize_password_input("  KX4-9mt-P2Q \n") == "kx4-9mt-p2q"


def test_password_input_keeps_inner_characters() -> None:
    assert normalize_password_input("kx4 9mt") == "kx4 9mt"


def test_hash_verifies_the_same_secret() -> None:
    assert verify_secret("kx4-9mt-p2q", hash_secret("kx4-9mt-p2q"))


def test_hash_rejects_a_wrong_secret() -> None:
    assert not verify_secret("kx4-9mt-p2r", hash_secret("kx4-9mt-p2q"))


def test_equal_secrets_hash_differently() -> None:
    assert hash_secret("same") != hash_secret("same")


def test_hash_records_scrypt_parameters() -> None:
    scheme, n, r, p, salt, digest = hash_secret("x").split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(bytes.fromhex(salt)) == 16
    assert len(bytes.fromhex(digest)) == 32


def test_malformed_hash_is_reported() -> None:
    with pytest.raises(InvalidInput, match="scrypt"):
        verify_secret("x", "md5$abc")


def test_pin_has_the_length_and_no_leading_zero() -> None:
    for _ in range(200):
        pin = new_pin(4, set())
        assert re.fullmatch(r"[1-9][0-9]{3}", pin)


def test_pin_avoids_pins_in_use() -> None:
    in_use = {str(n) for n in range(10, 100)} - {"42"}
    assert new_pin(2, in_use) == "42"


def test_pin_gives_up_when_all_are_taken() -> None:
    in_use = {str(n) for n in range(1, 10)}
    with pytest.raises(Conflict, match=f"{PIN_TRIES} tries"):
        new_pin(1, in_use)


def test_pin_length_below_one_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        new_pin(0, set())


def test_tokens_are_long_and_differ() -> None:
    tokens = {new_token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 43 for t in tokens)


def test_token_hash_is_stable_sha256_hex() -> None:
    assert token_hash("abc") == token_hash("abc")
    assert re.fullmatch(r"[0-9a-f]{64}", token_hash("abc"))
    assert token_hash("abc") != token_hash("abd")
