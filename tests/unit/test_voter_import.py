from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.models import VoterStatus
from engine.store.sqlite.store import SqliteStore
from engine.voters import importer as voter_import
from engine.voters.csv_rows import (
    RowError,
    VoterRow,
    open_voter_file,
    read_voter_rows,
    rejected_rows_csv,
    split_full_name,
)
from engine.voters.headers import map_headers
from engine.voters.importer import ImportSummary, import_voters

PHONE = "(212) 555-0123"
E164 = "+12125550123"


def rows_of(data: bytes | str, **kwargs: Any) -> list[VoterRow | RowError]:
    if isinstance(data, str):
        data = data.encode()
    return list(read_voter_rows(io.BytesIO(data), **kwargs))


def voters_of(data: bytes | str) -> list[VoterRow]:
    rows = rows_of(data)
    assert all(isinstance(r, VoterRow) for r in rows), rows
    return rows  # type: ignore[return-value]


def errors_of(data: bytes | str) -> list[RowError]:
    return [r for r in rows_of(data) if isinstance(r, RowError)]


def one_voter(data: bytes | str) -> VoterRow:
    [voter] = voters_of(data)
    return voter


# --- header spellings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["first_name", "First", "First Name", "FNAME", "firstname", "Given Name", " first-name "],
)
def test_first_name_spellings(header: str) -> None:
    assert one_voter(f"{header},phone\nJosé,{PHONE}\n").first_name == "José"


@pytest.mark.parametrize(
    "header", ["last_name", "Last", "Surname", "LName", "Family Name", "last name"]
)
def test_last_name_spellings(header: str) -> None:
    assert one_voter(f"{header},phone\nMuñoz,{PHONE}\n").last_name == "Muñoz"


@pytest.mark.parametrize(
    "header",
    [
        "phone",
        "Phone Number",
        "Telephone",
        "tel",
        "Cell",
        "Mobile",
        "phone1",
        "Primary Phone",
        "Number",
        "PHONE #",
    ],
)
def test_phone_spellings(header: str) -> None:
    assert one_voter(f"{header}\n{PHONE}\n").phone == E164


@pytest.mark.parametrize("header", ["address", "Street", "Address1", "Street Address", "addr"])
def test_address_spellings(header: str) -> None:
    assert one_voter(f"phone,{header}\n{PHONE},1 Main St\n").address == "1 Main St"


def test_city_column_is_recognised() -> None:
    assert one_voter(f"phone,City\n{PHONE},Albany\n").city == "Albany"


@pytest.mark.parametrize("header", ["state", "ST", "Province"])
def test_state_spellings(header: str) -> None:
    assert one_voter(f"phone,{header}\n{PHONE},NY\n").state == "NY"


@pytest.mark.parametrize(
    "header", ["zip", "Zipcode", "Zip Code", "Postal Code", "postcode", "ZIP5", "zip_code"]
)
def test_zip_spellings(header: str) -> None:
    assert one_voter(f"phone,{header}\n{PHONE},12207\n").zip == "12207"


@pytest.mark.parametrize("header", ["party", "Affiliation", "Party Affiliation"])
def test_party_spellings(header: str) -> None:
    assert one_voter(f"phone,{header}\n{PHONE},DEM\n").party == "DEM"


def test_age_is_an_integer() -> None:
    assert one_voter(f"phone,Age\n{PHONE},42\n").age == 42


def test_non_numeric_age_is_none_not_an_error() -> None:
    assert one_voter(f"phone,age\n{PHONE},forty\n").age is None


def test_full_name_is_split_when_there_are_no_name_columns() -> None:
    voter = one_voter(f"Name,phone\nJohn Q. Smith,{PHONE}\n")
    assert (voter.first_name, voter.last_name) == ("John Q.", "Smith")


def test_full_name_is_kept_as_extra_when_a_first_name_column_exists() -> None:
    voter = one_voter(f"Name,First,phone\nJohn Smith,Johnny,{PHONE}\n")
    assert voter.first_name == "Johnny"
    assert voter.extra == {"Name": "John Smith"}


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("John Smith", ("John", "Smith")),
        ("Smith, John", ("John", "Smith")),
        ("Martin Luther King Jr.", ("Martin Luther", "King Jr.")),
        ("Cher", ("Cher", "")),
        ("", ("", "")),
    ],
)
def test_split_full_name(name: str, split: tuple[str, str]) -> None:
    assert split_full_name(name) == split


def test_unknown_columns_are_kept_in_extra_under_their_header() -> None:
    voter = one_voter(f"phone,Precinct,E-mail\n{PHONE},12A,jo@example.org\n")
    assert voter.extra == {"Precinct": "12A", "E-mail": "jo@example.org"}


def test_second_phone_column_is_used_when_the_first_is_blank() -> None:
    voter = one_voter(f"Phone,Cell\n,{PHONE}\n")
    assert voter.phone == E164
    assert voter.extra == {"Cell": PHONE}


def test_describe_lists_every_column_in_order() -> None:
    mapping = map_headers(["Full Name", "Cell", "Mobile", "Precinct"]).describe()
    assert [(m.header, m.target) for m in mapping] == [
        ("Full Name", "name"),
        ("Cell", "phone"),
        ("Mobile", "extra"),
        ("Precinct", "extra"),
    ]


def test_missing_names_fields_without_a_column() -> None:
    assert map_headers(["phone", "first", "last", "zip"]).missing() == [
        "address",
        "city",
        "state",
        "party",
        "age",
    ]


# --- encodings and delimiters --------------------------------------------------------------


def test_utf8_bom_is_not_part_of_the_first_header() -> None:
    voter = one_voter(b"\xef\xbb\xbfphone,first_name\n" + PHONE.encode() + b",Ana\n")
    assert (voter.phone, voter.first_name) == (E164, "Ana")


def test_cp1252_names_are_decoded() -> None:
    data = f"first_name,last_name,phone\nJosé,Muñoz,{PHONE}\n".encode("cp1252")
    voter = one_voter(data)
    assert (voter.first_name, voter.last_name) == ("José", "Muñoz")


def test_cp1252_encoding_is_reported() -> None:
    data = f"first_name,phone\nJosé,{PHONE}\n".encode("cp1252")
    with open_voter_file(io.BytesIO(data)) as voter_file:
        assert voter_file.encoding == "cp1252"


def test_cp1252_line_after_the_first_64_kb_is_decoded() -> None:
    ascii_rows = "".join(f"Ann,{2125550100 + i % 90}\n" for i in range(8000))
    data = (f"first_name,phone\n{ascii_rows}Zoë,{PHONE}\n").encode("cp1252")
    assert len(data) > 64 * 1024
    assert voters_of(data)[-1].first_name == "Zoë"


def test_semicolon_delimited_file() -> None:
    voter = one_voter(f"first_name;last_name;phone\nAna;Lima;{PHONE}\n")
    assert (voter.first_name, voter.last_name, voter.phone) == ("Ana", "Lima", E164)


def test_tab_delimited_file() -> None:
    assert one_voter(f"first_name\tphone\nAna\t{PHONE}\n").first_name == "Ana"


def test_comma_is_kept_when_addresses_contain_semicolons() -> None:
    voters = voters_of(f'phone,address\n{PHONE},"1 Main St; Apt 2"\n{PHONE},2 Elm St; Apt 3\n')
    assert [v.address for v in voters] == ["1 Main St; Apt 2", "2 Elm St; Apt 3"]


def test_windows_and_old_mac_line_endings() -> None:
    for newline in ("\r\n", "\r"):
        data = newline.join(["first_name,phone", f"Ana,{PHONE}", "Bo,(212) 555-0124", ""])
        assert [v.first_name for v in voters_of(data)] == ["Ana", "Bo"]


def test_quoted_field_spanning_lines_keeps_its_newline() -> None:
    voter = one_voter(f'phone,notes\n{PHONE},"line one\nline two"\n')
    assert voter.extra["notes"] == "line one\nline two"


# --- row errors ----------------------------------------------------------------------------


def test_invalid_phone_is_reported_with_its_line_number() -> None:
    [error] = errors_of(f"first_name,phone\nAna,{PHONE}\nBo,555-12\n")
    assert str(error) == "line 3: phone '555-12' is not a valid phone number for region US"


def test_possible_but_invalid_number_is_rejected() -> None:
    """Ten digits make it a possible US number, but no area code starts with 1."""
    [error] = errors_of("phone\n(123) 456-7890\n")
    assert "is not a valid phone number" in error.reason


def test_blank_phone_is_reported() -> None:
    [error] = errors_of(f"first_name,phone\nAna,{PHONE}\nBo,\n")
    assert str(error) == "line 3: no phone number"


def test_row_with_too_many_fields_is_reported() -> None:
    [error] = errors_of(f"first_name,phone\nAna,{PHONE},x,y\n")
    assert str(error) == "line 2: row has 4 fields, header has 2: the last ones are under no column"


def test_row_missing_trailing_optional_columns_is_imported_with_them_empty() -> None:
    rows = rows_of(f"phone,first_name,last_name,zip,precinct\n{PHONE},Ana\n+12125550124\n")
    assert [(r.first_name, r.last_name, r.zip) for r in rows if isinstance(r, VoterRow)] == [
        ("Ana", "", ""),
        ("", "", ""),
    ]


async def test_the_summary_counts_rows_imported_without_their_trailing_columns(
    store: SqliteStore, campaign_id: int
) -> None:
    text = f"phone,first_name,zip\n{PHONE},Ana\n+12125550124,Bo,10001\nFay\n"
    summary = await import_voters(store, campaign_id, io.BytesIO(text.encode()))
    assert (summary.imported, summary.short_rows, summary.invalid) == (2, 1, 1)


def test_row_missing_its_phone_column_is_reported_with_its_line() -> None:
    [error] = errors_of(f"first_name,last_name,phone\nAna,Diaz,{PHONE}\nBo,Lee\n")
    assert str(error) == (
        "line 3: row has 2 fields, header has 3: the phone column (phone) is missing"
    )


def test_ragged_file_imports_every_row_but_the_one_without_a_phone() -> None:
    text = f"phone,first_name,last_name,city\n{PHONE},Ana,Diaz,,,\n+12125550124,Bo\n,Cy,Ng\n"
    rows = rows_of(text)
    assert [type(r).__name__ for r in rows] == ["VoterDetails", "VoterDetails", "RowError"]
    assert str(rows[2]) == "line 4: no phone number"


def test_trailing_empty_fields_are_tolerated() -> None:
    assert one_voter(f"first_name,phone\nAna,{PHONE},,\n").first_name == "Ana"


def test_blank_lines_are_skipped_and_still_counted_in_line_numbers() -> None:
    rows = rows_of(f"\nfirst_name,phone\n\nAna,{PHONE}\n ,  \n\nBo,bad\n")
    assert [r.source_line if isinstance(r, VoterRow) else r.line for r in rows] == [4, 7]


def test_line_numbers_count_physical_lines_inside_quoted_fields() -> None:
    rows = rows_of(f'phone,notes\n{PHONE},"a\nb\nc"\nbad,x\n')
    assert isinstance(rows[1], RowError)
    assert rows[1].line == 5


def test_error_keeps_the_raw_row() -> None:
    [error] = errors_of("first_name,phone\nBo,555-12\n")
    assert error.raw == ["Bo", "555-12"]


def test_rejected_rows_csv_has_line_reason_and_the_original_fields() -> None:
    errors = [RowError(3, "no phone number", ["Bo", ""])]
    text = rejected_rows_csv(errors, ["first_name", "phone"])
    assert list(csv.reader(io.StringIO(text))) == [
        ["line", "reason", "first_name", "phone"],
        ["3", "no phone number", "Bo", ""],
    ]


def test_spreadsheet_float_phone_is_accepted() -> None:
    assert one_voter("phone\n2125550123.0\n").phone == E164


def test_zone_comes_from_the_zip() -> None:
    assert one_voter(f"phone,zip\n{PHONE},94110\n").timezone == "America/Los_Angeles"


def test_zone_comes_from_the_area_code_without_a_zip() -> None:
    assert one_voter(f"phone\n{PHONE}\n").timezone == "America/New_York"


def test_source_line_is_set() -> None:
    assert one_voter(f"phone\n\n{PHONE}\n").source_line == 3


def test_default_region_is_used_for_national_numbers() -> None:
    voter = one_voter_in_region("phone\n020 7946 0018\n", "GB")
    assert voter.phone == "+442079460018"


def one_voter_in_region(data: str, region: str) -> VoterRow:
    [voter] = rows_of(data, default_region=region)
    assert isinstance(voter, VoterRow)
    return voter


# --- file errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="the file is empty"):
        rows_of(data)


def test_missing_phone_column_names_the_headers() -> None:
    with pytest.raises(
        InvalidInput,
        match=(
            r"no phone column found: the header has 'Name, Street, Town'; name one column 'phone'"
        ),
    ):
        rows_of("Name,Street,Town\nAna,1 Main St,Albany\n")


def test_file_without_a_header_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="the file has no header"):
        rows_of(f"Ana,Lima,{PHONE}\n")


def test_binary_garbage_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="binary, not CSV"):
        rows_of(bytes(range(256)) * 10)


def test_excel_workbook_is_rejected_with_a_hint() -> None:
    with pytest.raises(InvalidInput, match="CSV UTF-8"):
        rows_of(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100)


def test_utf16_file_is_rejected_with_a_hint() -> None:
    with pytest.raises(InvalidInput, match="UTF-16"):
        rows_of(f"phone\n{PHONE}\n".encode("utf-16"))


# --- streaming -----------------------------------------------------------------------------


def test_path_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "voters.csv"
    path.write_text(f"phone\n{PHONE}\n")
    assert [v.phone for v in read_voter_rows(path)] == [E164]  # type: ignore[union-attr]


def test_progress_is_reported_every_thousand_rows_and_at_the_end() -> None:
    data = "phone\n" + f"{PHONE}\n" * 2500
    calls: list[tuple[int, int, int | None]] = []
    rows_of(data, progress=lambda *args: calls.append(args))
    assert [c[0] for c in calls] == [1000, 2000, 2500]
    assert calls[-1][1:] == (len(data), len(data))


# --- importing into the store --------------------------------------------------------------


@pytest.fixture
async def campaign_id(store: SqliteStore) -> int:
    return (await store.create_campaign("Fall")).id


async def import_text(
    store: SqliteStore, campaign_id: int, text: str, **kwargs: Any
) -> ImportSummary:
    return await import_voters(store, campaign_id, io.BytesIO(text.encode()), **kwargs)


async def test_import_stores_voters_with_their_fields(store: SqliteStore, campaign_id: int) -> None:
    summary = await import_text(
        store, campaign_id, f"first,last,phone,zip\nAna,Lima,{PHONE},94110\n"
    )
    assert (summary.imported, summary.total_rows) == (1, 1)
    (voter_id,) = store.db.execute("SELECT id FROM voters").fetchone()
    voter = await store.get_voter(voter_id)
    assert (voter.first_name, voter.phone, voter.timezone, voter.source_line) == (
        "Ana",
        E164,
        "America/Los_Angeles",
        2,
    )


async def test_duplicate_phone_is_merged_not_invalid(store: SqliteStore, campaign_id: int) -> None:
    text = f"first,phone\nAna,{PHONE}\nAna,212-555-0123\n"
    summary = await import_text(store, campaign_id, text)
    assert (summary.imported, summary.merged, summary.invalid) == (1, 1, 0)


async def test_duplicates_in_different_batches_are_merged(
    store: SqliteStore, campaign_id: int
) -> None:
    text = f"phone\n{PHONE}\n(212) 555-0124\n{PHONE}\n"
    summary = await import_text(store, campaign_id, text, batch_size=1)
    assert (summary.imported, summary.merged) == (2, 1)


async def test_dnc_numbers_are_stored_and_counted_as_dnc(
    store: SqliteStore, campaign_id: int
) -> None:
    await store.add_dnc(E164, None, "asked", "test", datetime.now(UTC))
    summary = await import_text(store, campaign_id, f"phone\n{PHONE}\n(212) 555-0124\n")
    assert (summary.imported, summary.dnc) == (1, 1)
    assert (await store.voter_counts(campaign_id))[VoterStatus.DNC] == 1


async def test_invalid_rows_are_counted_and_kept(store: SqliteStore, campaign_id: int) -> None:
    summary = await import_text(store, campaign_id, f"phone\n{PHONE}\n555-12\n\n,\n")
    assert (summary.imported, summary.invalid, summary.total_rows) == (1, 1, 2)
    assert [str(e) for e in summary.errors] == [
        "line 3: phone '555-12' is not a valid phone number for region US"
    ]


async def test_summary_offers_the_rejected_rows_as_csv(
    store: SqliteStore, campaign_id: int
) -> None:
    summary = await import_text(store, campaign_id, "first,phone\nBo,555-12\n")
    assert summary.rejected_rows_csv().splitlines() == [
        "line,reason,first,phone",
        "2,phone '555-12' is not a valid phone number for region US,Bo,555-12",
    ]


async def test_kept_errors_are_capped_and_the_rest_counted(
    store: SqliteStore, campaign_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voter_import, "MAX_KEPT_ERRORS", 2)
    summary = await import_text(store, campaign_id, "phone\n1\n2\n3\n4\n5\n")
    assert (summary.invalid, len(summary.errors), summary.errors_not_kept) == (5, 2, 3)


async def test_import_reports_progress_after_each_batch(
    store: SqliteStore, campaign_id: int
) -> None:
    calls: list[tuple[int, int, int | None]] = []
    text = "phone\n" + "".join(f"(212) 555-{i:04d}\n" for i in range(5))
    await import_text(store, campaign_id, text, batch_size=2, progress=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == [2, 4, 5]
    assert calls[-1][1:] == (len(text), len(text))


async def test_unusable_file_raises_before_anything_is_stored(
    store: SqliteStore, campaign_id: int
) -> None:
    with pytest.raises(InvalidInput, match="no phone column"):
        await import_text(store, campaign_id, "Name,Street\nAna,1 Main St\n")
    assert sum((await store.voter_counts(campaign_id)).values()) == 0


def write_big_file(path: Path, rows: int) -> dict[str, int]:
    """A voter file with every kind of row; returns what an import should count."""
    expected = {"imported": 0, "merged": 0, "invalid": 0}
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("First Name,Last Name,Phone,Zip,Precinct\n")
        for i in range(rows):
            if i % 50 == 7:
                out.write(f"Bad,Phone,555-{i % 100:02d},10001,P{i}\n")
                expected["invalid"] += 1
            elif i % 50 == 9:
                out.write(f"Too,Many,{PHONE},10001,P{i},x\n")
                expected["invalid"] += 1
            elif i % 20 == 3:
                out.write(f"Dup,Licate,(212) 555-{(i - 3) % 10000:04d},10001,P{i}\n")
                expected["merged"] += 1
            else:
                out.write(f"Ana,Lima,+1 646 {200 + i // 10000} {i % 10000:04d},10001,P{i}\n")
                expected["imported"] += 1
    return expected


async def test_hundred_thousand_rows_import_with_the_right_counts(
    store: SqliteStore, campaign_id: int, tmp_path: Path
) -> None:
    path = tmp_path / "voters.csv"
    expected = write_big_file(path, 100_000)
    await store.add_voters(campaign_id, [VoterRow(phone=f"+1212555{i:04d}") for i in range(10000)])
    summary = await import_voters(store, campaign_id, path)
    assert {k: getattr(summary, k) for k in expected} == expected
    assert summary.total_rows == 100_000


def test_header_only_file_has_no_rows() -> None:
    assert rows_of("first_name,phone\n") == []


def test_endless_line_is_rejected_without_stopping_the_import() -> None:
    """A megabytes-long line is cut into pieces that fail as rows; the next line still imports."""
    rows = rows_of("phone,notes\n" + f'{PHONE},"' + "x" * 3_000_000 + '"\n' + "(212) 555-0124,ok\n")
    assert isinstance(rows[0], RowError)
    assert isinstance(rows[-1], VoterRow)


def test_nul_byte_after_the_first_64_kb_fails_only_its_row() -> None:
    data = "phone\n" + "(212) 555-0124\n" * 5000 + "(212) 555-\x000123\n" + f"{PHONE}\n"
    rows = rows_of(data)
    assert [r.line for r in rows if isinstance(r, RowError)] == [5002]
    assert isinstance(rows[-1], VoterRow)
    assert rows[-1].phone == E164
