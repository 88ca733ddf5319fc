"""The API's column mapping for voter uploads, its do-not-call file upload, and who added
each do-not-call entry, by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.dnc.numbers_file import read_numbers
from engine.errors import InvalidInput
from engine.models import Campaign
from tests.unit.web_support import bearer, operator_token, sign_in

GERMAN = "Vorname,Name,Telefon,Notiz\nAna,Diaz,+12025550123,ruft zurück\n"
NUMBERS = "Telefon,Grund\n(202) 555-0199,asked\nruft an,x\n+12025550142,\n202-555-0199,again\n"


@pytest.fixture
async def headers(engine: Engine, client: TestClient[Any, Any]) -> dict[str, str]:
    return bearer(await operator_token(engine, client))


async def test_the_upload_reads_columns_as_its_mapping_says(
    engine: Engine, client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    form = FormData()
    form.add_field("file", GERMAN.encode(), filename="w.csv", content_type="text/csv")
    form.add_field("mapping", json.dumps({"Name": "last_name", "4": "ignore"}))
    response = await client.post(
        f"/api/operator/campaigns/{campaign.id}/voters", headers=headers, data=form
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["imported"] == 1
    voter = await engine.store.get_voter(1)  # the only voter of a fresh store
    assert (voter.first_name, voter.last_name, voter.extra) == ("Ana", "Diaz", {})


async def test_a_raw_upload_takes_its_mapping_from_the_query(
    engine: Engine, client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    response = await client.post(
        f"/api/operator/campaigns/{campaign.id}/voters",
        params={"mapping": json.dumps({"Notiz": "city"})},
        headers={**headers, "Content-Type": "text/csv"},
        data=GERMAN,
    )
    assert response.status == 200, await response.text()
    voter = await engine.store.get_voter(1)  # the only voter of a fresh store
    assert voter.city == "ruft zurück"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("[1, 2]", "'mapping' must be a JSON object"),
        ('{"Kreis": "city"}', "names a column 'Kreis' the file does not have"),
    ],
)
async def test_a_bad_mapping_is_400_with_a_sentence(
    client: TestClient[Any, Any],
    headers: dict[str, str],
    campaign: Campaign,
    mapping: str,
    message: str,
) -> None:
    response = await client.post(
        f"/api/operator/campaigns/{campaign.id}/voters",
        params={"mapping": mapping},
        headers={**headers, "Content-Type": "text/csv"},
        data=GERMAN,
    )
    assert response.status == 400
    assert message in (await response.json())["error"]["message"]


def test_a_numbers_file_finds_its_phone_column_and_the_lines_that_are_not_numbers() -> None:
    found = read_numbers(NUMBERS.encode())
    assert found.phones == ["+12025550199", "+12025550142"]
    assert found.not_numbers == [(3, "ruft an")]
    assert found.repeated == 1


def test_a_headerless_list_of_numbers_is_read_from_its_first_line() -> None:
    assert read_numbers(b"2025550199\n2025550142\n").phones == ["+12025550199", "+12025550142"]


async def test_the_dnc_numbers_upload_adds_them_and_says_what_it_skipped(
    engine: Engine, client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    await engine.operators.add_dnc("olive", "+12025550142", campaign.id, "earlier")
    url = "/api/operator/dnc/numbers"
    form = FormData()
    form.add_field("file", NUMBERS.encode(), filename="n.csv", content_type="text/csv")
    form.add_field("campaign_id", str(campaign.id))
    form.add_field("dry_run", "true")
    dry = await (await client.post(url, headers=headers, data=form)).json()
    assert (dry["to_add"], dry["added"], dry["already_listed"]) == (1, 0, 1)
    assert len(await engine.store.list_dnc(campaign.id)) == 1
    response = await client.post(
        url,
        params={"campaign_id": str(campaign.id), "reason": "opt-out list"},
        headers={**headers, "Content-Type": "text/csv"},
        data=NUMBERS,
    )
    answer = await response.json()
    assert (answer["added"], answer["not_phone_numbers_total"]) == (1, 1)
    assert answer["not_phone_numbers"] == [{"line": 3, "text": "ruft an"}]
    phones = [e.phone for e in await engine.store.list_dnc(campaign.id)]
    assert phones == ["+12025550142", "+12025550199"]


async def test_the_dnc_list_names_who_added_each_number(
    engine: Engine, client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    now = datetime.now(UTC)
    await engine.store.add_dnc(
        "+12025550142", None, "Remove Number", f"session {volunteer.session_id}", now
    )
    await engine.operators.add_dnc("olive", "+12025550199", None, "asked")
    entries = (await (await client.get("/api/operator/dnc", headers=headers)).json())["entries"]
    assert [(e["added_by"], e["added_by_volunteer"]) for e in entries] == [
        ("Ada", True),
        ("olive", False),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04 workbook", "not CSV text"),
    ],
)
def test_a_numbers_file_that_is_not_a_list_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_numbers(data)
