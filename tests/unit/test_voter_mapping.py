"""Header spellings in Spanish, French and German, and the operator's column mapping."""

from __future__ import annotations

import io

import pytest

from engine.errors import InvalidInput
from engine.voters.csv_rows import RowError, VoterRow, encoding_name, read_voter_rows
from engine.voters.headers import TARGET_LABELS, map_headers, resolve_choices

PHONE = "+12125550123"


def voters(text: str, choices: dict[str, str] | None = None) -> list[VoterRow]:
    rows = list(read_voter_rows(io.BytesIO(text.encode()), choices=choices))
    assert not [r for r in rows if isinstance(r, RowError)], rows
    return [r for r in rows if isinstance(r, VoterRow)]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Telefon", "phone"),
        ("Téléphone", "phone"),
        ("TELÉFONO", "phone"),
        ("Vorname", "first_name"),
        ("Nachname", "last_name"),
        ("Prénom", "first_name"),
        ("Nom", "last_name"),
        ("Nombre", "first_name"),
        ("Apellido", "last_name"),
        ("PLZ", "zip"),
        ("Code postal", "zip"),
        ("Código postal", "zip"),
        ("Stadt", "city"),
        ("Ville", "city"),
        ("Ciudad", "city"),
        ("Adresse", "address"),
        ("Dirección", "address"),
        ("Straße", "address"),
        ("Partei", "party"),
        ("Parti", "party"),
        ("Partido", "party"),
        ("Alter", "age"),
        ("Âge", "age"),
        ("Edad", "age"),
    ],
)
def test_spanish_french_and_german_headers_are_recognised(header: str, field: str) -> None:
    mapped = map_headers(["x", header]).describe()[1]
    assert mapped.target == field


def test_a_german_list_imports_without_editing() -> None:
    [voter] = voters(f"Vorname;Nachname;Telefon;PLZ;Stadt\nJürgen;Groß;{PHONE};10115;Berlin\n")
    assert (voter.first_name, voter.last_name, voter.zip, voter.city, voter.phone) == (
        "Jürgen",
        "Groß",
        "10115",
        "Berlin",
        PHONE,
    )


def test_chosen_column_becomes_the_field_and_the_recognised_one_an_extra() -> None:
    text = f"Vorname,Name,Telefon,Notiz\nAna,Diaz,{PHONE},ruft zurück\n"
    [auto] = voters(text)
    assert auto.last_name == "" and auto.extra["Name"] == "Diaz"
    [chosen] = voters(text, {"Name": "last_name", "4": "ignore"})
    assert (chosen.first_name, chosen.last_name) == ("Ana", "Diaz")
    assert chosen.extra == {}


def test_chosen_phone_replaces_the_recognised_phone() -> None:
    text = f"phone,Handy2\n,{PHONE}\n"
    [voter] = voters(text, {"Handy2": "phone", "phone": "ignore"})
    assert voter.phone == PHONE


def test_a_recognised_column_can_be_kept_as_extra() -> None:
    [voter] = voters(f"phone,city\n{PHONE},Springfield\n", {"city": "extra"})
    assert voter.city == "" and voter.extra == {"city": "Springfield"}


def test_header_keys_ignore_case_and_accents() -> None:
    assert resolve_choices({"TELEFONO": "phone", "2": "city"}, ["Teléfono", "Ciudad"]) == {
        0: "phone",
        1: "city",
    }


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"zip": "phone number"}, "cannot be used as 'phone number'"),
        ({"Kreis": "city"}, "names a column 'Kreis' the file does not have"),
        ({"7": "city"}, "the file has 3 columns"),
        (
            {"1": "city", "2": "city"},
            "two columns are chosen as 'City': column 1 \\('a'\\) and column 2",
        ),
        ({"1": "name", "2": "first_name"}, "either a full-name column"),
    ],
)
def test_contradictory_or_unknown_choices_are_refused(
    choices: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        voters(f"a,zip,phone\nx,1,{PHONE}\n", choices)


def test_ignoring_the_only_phone_column_is_refused() -> None:
    with pytest.raises(InvalidInput, match="choose the phone column"):
        voters(f"first,phone\nAna,{PHONE}\n", {"phone": "ignore"})


def test_every_target_has_a_label() -> None:
    assert {"phone", "extra", "ignore", "first_name", "zip"} <= set(TARGET_LABELS)
    assert all(TARGET_LABELS.values())


def test_encodings_are_named_for_people() -> None:
    assert encoding_name("cp1252") == "Windows Western (cp1252)"
    assert encoding_name("utf-8") == "Unicode (UTF-8)"
