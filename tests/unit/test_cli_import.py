"""`phonebank import`: a rejected file never leaves an empty campaign behind; --map."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_cli import run


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("first,zip\nAna,10115\n", "no phone column found"),
        ("first,phone\nAna,555-12\n", "has no voter with a valid phone number"),
    ],
)
def test_import_create_with_a_rejected_file_creates_no_campaign(
    tmp_path: Path, content: str, message: str
) -> None:
    db = str(tmp_path / "db.sqlite")
    rejected = tmp_path / "rejected.csv"
    rejected.write_text(content)
    result = run(
        "import", str(rejected), "--campaign", "Spring", "--create", PHONEBANK_ENGINE_DATABASE=db
    )
    assert result.returncode == 1
    assert message in result.stderr
    good = tmp_path / "good.csv"
    good.write_text("phone\n(212) 555-0123\n")
    again = run("import", str(good), "--campaign", "Spring", PHONEBANK_ENGINE_DATABASE=db)
    assert "there is no campaign called 'Spring' (campaigns: [])" in again.stderr


def test_import_map_reads_a_column_as_the_chosen_field(tmp_path: Path) -> None:
    listing = tmp_path / "voters.csv"
    listing.write_text("Vorname,Name,Kontakt\nAna,Diaz,(212) 555-0123\n")
    result = run(
        "import",
        str(listing),
        "--campaign",
        "Herbst",
        "--create",
        "--map",
        "Kontakt=phone",
        "--map",
        "2=last_name",
        PHONEBANK_ENGINE_DATABASE=str(tmp_path / "db.sqlite"),
    )
    assert result.returncode == 0, result.stderr
    assert "1 imported" in result.stdout


def test_import_map_without_an_equals_sign_is_explained(tmp_path: Path) -> None:
    listing = tmp_path / "voters.csv"
    listing.write_text("phone\n(212) 555-0123\n")
    result = run(
        "import",
        str(listing),
        "--campaign",
        "Herbst",
        "--map",
        "Kontakt",
        PHONEBANK_ENGINE_DATABASE=str(tmp_path / "db.sqlite"),
    )
    assert result.returncode == 1
    assert "write it as COLUMN=USE" in result.stderr
