"""Domain values are StrEnums (engine/models.py): the store gives them back as members, and
they stay the same strings in JSON, SQL and the API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from engine.dialer.modes import DIAL_MODE_LABELS, DIAL_MODES
from engine.models import (
    AUTOMATIC_MODES,
    AfterResult,
    AudioMode,
    DialMode,
    DncScope,
    EndReason,
    LineType,
    MobileDialMode,
    VoterDetails,
)
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import T0


@pytest.fixture
async def store() -> AsyncIterator[SqliteStore]:
    store = SqliteStore.open(":memory:")
    yield store
    await store.close()


def test_every_dial_mode_has_a_pacing_and_a_label_in_the_enum_order() -> None:
    assert list(DIAL_MODES) == list(DialMode) == list(DIAL_MODE_LABELS)
    assert set(DialMode) - {DialMode.PREVIEW} == AUTOMATIC_MODES


def test_a_mobile_dial_mode_is_a_dial_mode_or_the_campaigns_own() -> None:
    assert [m.value for m in MobileDialMode] == ["", *(m.value for m in DialMode)]


def test_the_values_are_the_strings_the_api_always_used() -> None:
    assert [m.value for m in DialMode] == ["predictive", "power", "adaptive", "preview"]
    assert [s.value for s in DncScope] == ["campaign", "global"]
    assert [r.value for r in EndReason] == ["", "logout", "timeout"]
    assert [t.value for t in AfterResult] == ["ready", "pause", "logout"]
    assert json.dumps({"dial_mode": DialMode.PREVIEW}) == '{"dial_mode": "preview"}'
    assert f"{DncScope.GLOBAL}" == "global"
    assert DialMode("power") is DialMode.POWER


async def test_a_campaign_read_back_holds_enum_members(store: SqliteStore) -> None:
    created = await store.create_campaign(
        "Fall", dial_mode="predictive", mobile_dial_mode="preview", dnc_scope="global"
    )
    campaign = await store.get_campaign(created.id)
    assert campaign.dial_mode is DialMode.PREDICTIVE
    assert campaign.mobile_dial_mode is MobileDialMode.PREVIEW
    assert campaign.dnc_scope is DncScope.GLOBAL
    plain = await store.get_campaign((await store.create_campaign("Spring")).id)
    assert plain.mobile_dial_mode is MobileDialMode.AS_DIAL_MODE
    assert plain.dnc_scope is DncScope.CAMPAIGN


async def test_a_session_end_reason_reads_back_as_a_member(store: SqliteStore) -> None:
    campaign = await store.create_campaign("Fall")
    volunteer = await store.add_volunteer("Ann", "ann@example.org", "+12025550100")
    session = await store.create_session(
        volunteer.id, campaign.id, AudioMode.PHONE, "123456", "token-hash", T0
    )
    assert session.end_reason is EndReason.OPEN
    ended = await store.update_session(session.id, ended_at=T0, end_reason=EndReason.TIMEOUT)
    assert ended.end_reason is EndReason.TIMEOUT
    assert (await store.get_session(session.id)).end_reason is EndReason.TIMEOUT


async def test_a_voters_line_type_reads_back_as_a_member(store: SqliteStore) -> None:
    campaign = await store.create_campaign("Fall")
    rows = [VoterDetails(phone="+12025550101", line_type=LineType.MOBILE)]
    rows.append(VoterDetails(phone="+12025550102"))
    await store.add_voters(campaign.id, rows)
    mobile, unknown = await store.get_voter(1), await store.get_voter(2)
    assert (mobile.phone, mobile.line_type) == ("+12025550101", LineType.MOBILE)
    assert type(mobile.line_type) is LineType
    assert unknown.line_type is LineType.UNKNOWN
    assert [t.value for t in LineType] == ["mobile", "landline", ""]
