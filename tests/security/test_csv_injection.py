"""Every CSV handed out is safe to open in a spreadsheet: the results export and the
rejected rows of an import alike, with fullwidth ＝＋－＠ caught as well as ASCII."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import AfterResult
from engine.security.csv_cells import FORMULA_START, PLAIN_NUMBER, safe_cell
from tests.unit.test_operator_pages import log_in, page_token
from tests.unit.web_support import in_wrap_up, sign_in

FULLWIDTH = ["＝1+1", "＋cmd", "－2+A1", "＠SUM(A1)", '＝HYPERLINK("https://evil.example")']

pytestmark = pytest.mark.usefixtures("operator")


@pytest.mark.parametrize("text", FULLWIDTH)
def test_fullwidth_formula_starts_are_prefixed(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["＋１２０２５５５０１２３", "a＝b", "Ｐｌａｉｎ"])
def test_fullwidth_text_that_is_no_formula_is_kept(text: str) -> None:
    assert safe_cell(text) == text


def _unsafe(cells: list[str]) -> list[str]:
    """Cells a spreadsheet could run: a formula start that is not a plain number."""
    folded = [unicodedata.normalize("NFKC", c) for c in cells]
    return [f for f in folded if f.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(f)]


async def test_the_rejected_rows_download_is_guarded(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Canvass")
    await log_in(client)
    token = await page_token(client)
    upload = (
        "phone,first_name,=cmd|' /C calc'!A0\n"
        '=HYPERLINK("https://evil.example"),@SUM(A1),\tx\n'
        "not a phone,＝1+1,＠x\n"
        "+12025550123,Ann,ok\n"
    )
    data = FormData()
    data.add_field("file", upload.encode(), filename="v.csv")
    response = await client.post(
        f"/operator/campaigns/{campaign.id}/list/import?csrf_token={token}", data=data
    )
    assert response.status == 200
    link = re.search(r'href="(/operator/campaigns/\d+/list/rejected/[^"]+)"', await response.text())
    assert link, "the report links the rejected rows"
    download = await client.get(link.group(1))
    rows = list(csv.reader(io.StringIO(await download.text())))
    cells = [cell for row in rows for cell in row]
    assert len(rows) == 3, rows
    assert not _unsafe(cells), cells
    assert "'=cmd|' /C calc'!A0" in rows[0]
    assert "'@SUM(A1)" in rows[1] and "'＝1+1" in rows[2]


async def test_the_results_export_guards_fullwidth_formulas(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Canvass")
    await engine.operators.import_list(
        "test",
        campaign.id,
        io.BytesIO("phone,first_name,last_name\n+12025550123,＝1+1,＠SUM(A1)\n".encode()),
    )
    volunteer = await sign_in(client, campaign.id)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    await engine.volunteers.submit_result(
        volunteer.session_id, "talked", {}, "－2+A1", AfterResult.PAUSE
    )
    text = "".join([chunk async for chunk in engine.operators.results_csv("test", campaign.id)])
    [header, values] = list(csv.reader(io.StringIO(text)))
    cells = dict(zip(header, values, strict=True))
    assert (cells["first_name"], cells["last_name"]) == ("'＝1+1", "'＠SUM(A1)")
    assert cells["notes"] == "'－2+A1"
    assert not _unsafe(values)
