"""The import report without JavaScript: rejected rows 50 to a page, with the total."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from engine.models import Campaign
from tests.unit.test_operator_pages import log_in, page_token

pytestmark = pytest.mark.usefixtures("operator")


async def test_a_long_error_list_is_paged_on_the_report_page(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await log_in(client)
    token = await page_token(client)
    bad = "".join(f"V{n},not a phone {n}\n" for n in range(1, 121))
    data = FormData()
    data.add_field("file", f"name,phone\nAna,+12025550123\n{bad}".encode(), filename="v.csv")
    response = await client.post(
        f"/operator/campaigns/{campaign.id}/list/import?csrf_token={token}", data=data
    )
    text = await response.text()
    assert "Rejected rows 1–50 of 120; page 1 of 3." in text
    assert text.count('data-label="Line"') == 50
    next_page = re.search(r'href="([^"]+/list/report/[^"]+\?page=2)">Next page', text)
    assert next_page, text
    second = await (await client.get(next_page.group(1))).text()
    assert "Rejected rows 51–100 of 120; page 2 of 3." in second
    assert ">53</td>" in second and "Previous page" in second
    last = await (await client.get(next_page.group(1).replace("page=2", "page=9"))).text()
    assert "Rejected rows 101–120 of 120; page 3 of 3." in last
    assert "Next page" not in last


async def test_another_campaigns_report_url_is_not_found(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await log_in(client)
    response = await client.get(f"/operator/campaigns/{campaign.id}/list/report/nope")
    assert response.status == 404
