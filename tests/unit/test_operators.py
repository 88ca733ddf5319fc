"""OperatorService over the real in-memory store."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.errors import InvalidInput, LoginFailed, NotFound, RateLimited
from engine.models import AudioMode, Campaign, TermCode, TermCodeKind, VoterDetails, VoterStatus
from engine.operators.service import OperatorService
from engine.security import credentials
from engine.security.csv_cells import safe_cell
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import NY, Row

T0 = datetime(2024, 10, 1, 16, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
CLIENT = "203.0.113.7"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full-strength scrypt costs ~50 ms a hash; these tests are about the service."""
    monkeypatch.setattr(credentials, "SCRYPT_N", 2**4)


@pytest.fixture
def service(store: SqliteStore) -> OperatorService:
    return OperatorService(store, clock=lambda: T0)


@pytest.fixture
async def campaign(service: OperatorService) -> Campaign:
    return await service.create_campaign("ops", "Spring Canvass")


async def latest_audit(store: SqliteStore) -> dict[str, Any]:
    [entry] = await store.audit_log(limit=1)
    return entry


async def export(service: OperatorService, campaign_id: int) -> list[list[str]]:
    text = "".join([chunk async for chunk in service.results_csv("ops", campaign_id)])
    return list(csv.reader(io.StringIO(text)))


# --- operators ----------------------------------------------------------------------------


async def test_a_logged_in_operators_token_is_accepted(service: OperatorService) -> None:
    added = await service.add_operator(" ops ", PASSWORD)
    operator, token = await service.log_in("ops", PASSWORD, CLIENT)
    assert operator.id == added.id
    assert (await service.operator_for_token(token)).username == "ops"


async def test_an_unknown_token_is_login_failed(service: OperatorService) -> None:
    with pytest.raises(LoginFailed, match="sign in again"):
        await service.operator_for_token("not-a-token")


async def test_an_operator_needs_a_long_password(service: OperatorService) -> None:
    with pytest.raises(InvalidInput, match="password of 10"):
        await service.add_operator("ops", "short")


async def test_a_wrong_password_is_login_failed(service: OperatorService) -> None:
    await service.add_operator("ops", PASSWORD)
    with pytest.raises(LoginFailed, match="wrong operator username or password"):
        await service.log_in("ops", "incorrect horse", CLIENT)


async def test_repeated_failures_from_one_client_are_rate_limited(service: OperatorService) -> None:
    await service.add_operator("ops", PASSWORD)
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await service.log_in("ops", "incorrect horse", CLIENT)
    with pytest.raises(RateLimited, match="Try again in 5 minutes"):
        await service.log_in("ops", PASSWORD, CLIENT)


# --- campaigns -----------------------------------------------------------------------------


async def test_create_campaign_stores_the_settings_and_audits_it(
    service: OperatorService, store: SqliteStore
) -> None:
    campaign = await service.create_campaign(
        "ops", " Spring Canvass ", caller_id="(202) 555-0100", lines_per_volunteer=2
    )
    assert (campaign.name, campaign.caller_id, campaign.lines_per_volunteer) == (
        "Spring Canvass",
        "+12025550100",
        2,
    )
    entry = await latest_audit(store)
    assert (entry["actor"], entry["action"], entry["at"]) == ("ops", "campaign.create", T0)
    assert entry["detail"] == {"id": campaign.id, "name": "Spring Canvass"}


async def test_create_campaign_accepts_term_codes_as_dicts(service: OperatorService) -> None:
    codes = [{"code": "yes", "label": "Supporter", "kind": "contact"}]
    campaign = await service.create_campaign("ops", "Spring Canvass", term_codes=codes)
    assert campaign.term_codes == [TermCode("yes", "Supporter", TermCodeKind.CONTACT)]


async def test_a_campaign_needs_a_name(service: OperatorService) -> None:
    with pytest.raises(InvalidInput, match="a campaign needs a name"):
        await service.create_campaign("ops", "   ")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            {"lines_per_volunteer": 0}, "lines_per_volunteer must be", id="lines_per_volunteer 0"
        ),
        pytest.param(
            {"lines_per_volunteer": True}, "lines_per_volunteer must be", id="lines_per_volunteer"
        ),
        pytest.param({"wrapup_seconds": "60"}, "wrapup_seconds must be", id="wrapup_seconds"),
        pytest.param(
            {"logout_after_missed_wrapups": -1},
            r"logout_after_missed_wrapups must be a whole number of at least 0 \(0: never\)",
            id="logout_after_missed_wrapups negative",
        ),
        pytest.param(
            {"logout_after_missed_wrapups": 1.5},
            "logout_after_missed_wrapups must be a whole number",
            id="logout_after_missed_wrapups fraction",
        ),
        pytest.param(
            {"calling_hours_start": "9am"}, "calling hours start '9am' is not a time", id="hours"
        ),
        pytest.param(
            {"calling_hours_start": "21:00", "calling_hours_end": "09:00"},
            r"calling hours end \(09:00\) must be later than start \(21:00\)",
            id="hours order",
        ),
        pytest.param(
            {"calling_hours_start": "22:00"},
            r"calling hours end \(21:00\) must be later than start \(22:00\)",
            id="start after the default end",
        ),
        pytest.param(
            {"script": "Hello {{ first_name "}, "the script has a problem: line 1", id="syntax"
        ),
        pytest.param(
            {"script": "{{ voter.__class__ }}"},
            "the script has a problem: line 1: '__class__' starts with '_'",
            id="python internals",
        ),
        pytest.param(
            {"colour": "red"}, r"unknown campaign setting\(s\) \['colour'\]", id="unknown"
        ),
        pytest.param({"term_codes": []}, "term_codes must be a non-empty list", id="no codes"),
        pytest.param(
            {"term_codes": [{"code": "x", "label": "X", "kind": "maybe"}]},
            "term code .* needs code, label and a kind of",
            id="bad kind",
        ),
        pytest.param(
            {"term_codes": [{"code": "x", "label": "X", "kind": "contact"}] * 2},
            "two term codes have the same code 'x'",
            id="duplicate codes",
        ),
        pytest.param(
            {"term_codes": [{"code": "x", "label": " ", "kind": "contact"}]},
            "Term code 1 needs a code and a label.",
            id="empty label",
        ),
        pytest.param(
            {
                "survey": [
                    {"id": "q1", "text": "Support?", "options": [{"value": "y", "next": "q9"}]}
                ]
            },
            "Question 'q1': an option leads to question 'q9', which does not exist",
            id="survey follow-up",
        ),
        pytest.param(
            {"survey": [{"id": "q1", "text": "Why?", "kind": "essay"}]},
            "Question 'q1': the kind must be",
            id="survey kind",
        ),
        pytest.param({"dnc_scope": "everywhere"}, "dnc_scope must be", id="dnc_scope"),
        pytest.param({"caller_id": "12"}, "caller_id '12' is not a valid phone", id="caller_id"),
        pytest.param({"amd_engine": "magic"}, "amd_engine must be empty or one of", id="amd"),
        pytest.param(
            {"amd_thresholds": {"human_pause_ms": "soon"}},
            "amd_thresholds: amd.human_pause_ms: expected whole milliseconds",
            id="amd_thresholds",
        ),
        pytest.param(
            {"amd_thresholds": {"beep_ms": 10}}, "unknown setting", id="amd_threshold name"
        ),
        pytest.param({"early_connect": "yes"}, "early_connect must be true or false", id="early"),
    ],
)
async def test_create_campaign_rejects_a_bad_setting_naming_it(
    service: OperatorService, store: SqliteStore, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await service.create_campaign("ops", "Spring Canvass", **settings)
    assert await store.list_campaigns() == []


async def test_update_campaign_changes_the_given_settings_and_audits_it(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    updated = await service.update_campaign("ops", campaign.id, max_attempts=5, active=False)
    assert (updated.max_attempts, updated.active, updated.name) == (5, False, campaign.name)
    entry = await latest_audit(store)
    assert (entry["action"], entry["detail"]) == (
        "campaign.update",
        {"id": campaign.id, "fields": ["active", "max_attempts"]},
    )


async def test_update_campaign_checks_calling_hours_against_the_stored_ones(
    service: OperatorService, campaign: Campaign
) -> None:
    """Moving only the start past the stored end would leave hours the dialer cannot use."""
    await service.update_campaign("ops", campaign.id, calling_hours_end="18:00")
    with pytest.raises(InvalidInput, match=r"end \(18:00\) must be later than start \(19:00\)"):
        await service.update_campaign("ops", campaign.id, calling_hours_start="19:00")


async def test_update_of_an_unknown_campaign_is_not_found(service: OperatorService) -> None:
    with pytest.raises(NotFound):
        await service.update_campaign("ops", 99, max_attempts=2)


# --- lists ---------------------------------------------------------------------------------


async def test_import_list_returns_the_summary_and_audits_it(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    data = b"first,phone\nAna,(212) 555-0123\nBo,555-12\nAna,212-555-0123\n"
    summary = await service.import_list("ops", campaign.id, io.BytesIO(data))
    assert (summary.imported, summary.merged, summary.invalid, summary.dnc) == (1, 1, 1, 0)
    entry = await latest_audit(store)
    assert (entry["actor"], entry["action"]) == ("ops", "voters.import")
    assert entry["detail"] == {
        "campaign_id": campaign.id,
        "imported": 1,
        "merged": 1,
        "invalid": 1,
        "dnc": 0,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name,street\nAna,Oak St\n", "no phone column"),
        (b"", "empty"),
        (b"\x00\x01\x02\xff\xfe" * 200, None),
        ("first,phone\nJos\u00e9,(212) 555-0177\n".encode("utf-16"), None),
    ],
    ids=["no phone column", "empty file", "binary garbage", "utf-16"],
)
async def test_a_rejected_file_says_why_and_keeps_the_voters_already_stored(
    service: OperatorService,
    store: SqliteStore,
    campaign: Campaign,
    data: bytes,
    message: str | None,
) -> None:
    await service.import_list("ops", campaign.id, io.BytesIO(b"phone\n(212) 555-0123\n"))
    with pytest.raises(InvalidInput, match=message) as error:
        await service.import_list("ops", campaign.id, io.BytesIO(data))
    assert len(str(error.value)) > 20, "the operator needs a sentence, not a code"
    counts = await store.voter_counts(campaign.id)
    assert counts[VoterStatus.PENDING] == 1


async def test_garbage_rows_are_reported_and_the_good_rows_kept(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    data = b"first,phone\nAna,(212) 555-0123\n,,,,,\nBo,not a phone\nCy,212-555-0124\nDee,1,2,3\n"
    summary = await service.import_list("ops", campaign.id, io.BytesIO(data))
    assert summary.imported == 2
    assert summary.invalid >= 1
    assert all(str(e).startswith("line ") for e in summary.errors)


async def test_import_into_an_unknown_campaign_is_not_found(service: OperatorService) -> None:
    with pytest.raises(NotFound):
        await service.import_list("ops", 99, io.BytesIO(b"phone\n(212) 555-0123\n"))


# --- do not call ---------------------------------------------------------------------------


async def test_add_dnc_normalises_the_number_and_makes_pending_voters_dnc(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    await store.add_voters(campaign.id, [Row("+12125550123"), Row("+12125550124")])
    number = await service.add_dnc("ops", "(212) 555-0123", campaign.id, "asked")
    assert number == "+12125550123"
    assert [e.phone for e in await store.list_dnc(campaign.id)] == [number]
    counts = await store.voter_counts(campaign.id)
    assert (counts[VoterStatus.DNC], counts[VoterStatus.PENDING]) == (1, 1)
    assert (await latest_audit(store))["action"] == "dnc.add"


async def test_add_dnc_rejects_a_number_that_is_not_one(service: OperatorService) -> None:
    with pytest.raises(InvalidInput, match="phone '555-12' is not a valid phone number"):
        await service.add_dnc("ops", "555-12", None, "asked")


async def test_remove_dnc_takes_the_number_off_the_list(
    service: OperatorService, store: SqliteStore
) -> None:
    await service.add_dnc("ops", "(212) 555-0123", None, "asked")
    await service.remove_dnc("ops", "212 555 0123", None)
    assert await store.list_dnc(None) == []
    assert (await latest_audit(store))["action"] == "dnc.remove"


async def test_removing_a_number_not_on_the_list_is_not_found(service: OperatorService) -> None:
    with pytest.raises(NotFound, match=r"\+12125550123 is not on that do-not-call list"):
        await service.remove_dnc("ops", "(212) 555-0123", None)


# --- statistics and results ------------------------------------------------------------------


async def test_stats_of_an_empty_campaign_are_all_zero(
    service: OperatorService, campaign: Campaign
) -> None:
    stats = await service.stats(campaign.id)
    assert stats["campaign"] == {"id": campaign.id, "name": "Spring Canvass"}
    assert set(stats["volunteers"].values()) == {0}
    assert "logged out" not in stats["volunteers"]
    assert (stats["attempts_last_hour"], stats["contacts_last_hour"]) == (0, 0)
    assert not any(stats["outcomes_last_hour"].values())
    assert (stats["abandon_rate_today"], stats["abandon_rate_30_days"]) == (0.0, 0.0)
    assert set(stats["voters"].values()) == {0}
    assert stats["pacing"] is None  # no dialer attached


async def test_stats_count_the_abandon_budget_of_an_automatic_campaign(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    await service.update_campaign("ops", campaign.id, dial_mode="predictive", abandon_target=2.5)
    stats = await service.stats(campaign.id)
    assert (stats["dial_mode"], stats["abandon_target"], stats["abandon_limit"]) == (
        "predictive",
        2.5,
        3.0,
    )
    assert stats["abandons_allowed_now"] == 4  # 3 % of the 100 answers a new campaign is lent
    with_dialer = OperatorService(
        store,
        clock=lambda: T0,
        live_pacing=lambda campaign_id: {"dial_mode": "predictive", "campaign": campaign_id},
    )
    assert (await with_dialer.stats(campaign.id))["pacing"]["campaign"] == campaign.id


async def test_a_preview_campaign_has_no_abandon_budget(
    service: OperatorService, campaign: Campaign
) -> None:
    await service.update_campaign("ops", campaign.id, dial_mode="preview")
    assert (await service.stats(campaign.id))["abandons_allowed_now"] is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"dial_mode": "turbo"}, "dial_mode must be one of predictive, power, adaptive, preview"),
        ({"mobile_dial_mode": "robot"}, "mobile_dial_mode must be empty or one of"),
        ({"abandon_target": 3.1}, "between 0.1 and 3 percent"),
        ({"abandon_target": 0}, "between 0.1 and 3 percent"),
        ({"abandon_target": "2.7"}, "a percentage, like 2.7"),
        ({"max_lines_per_volunteer": 0}, "at least 1"),
        ({"max_lines_per_volunteer": 51}, "at most 50"),
        ({"dial_mode": ["predictive"]}, "dial_mode must be one of"),
        ({"unknown_lines_as_mobile": "no"}, "must be true or false, not 'no'"),
        ({"active": 1}, "active must be true or false"),
    ],
)
async def test_pacing_settings_are_checked(
    service: OperatorService, campaign: Campaign, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await service.update_campaign("ops", campaign.id, **settings)


async def test_results_csv_without_results_is_its_header_row(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    [header] = await export(service, campaign.id)
    assert header[:3] == ["first_name", "last_name", "phone"]
    assert {"term_code", "term_code_label", "status", "volunteer", "time_zone"} <= set(header)
    assert (await latest_audit(store))["action"] == "results.export"


async def result_for(
    store: SqliteStore, campaign_id: int, row: VoterDetails, notes: str = ""
) -> None:
    """Store a voter, a call to them and its result."""
    await store.add_voters(campaign_id, [row])
    [(_, attempt)] = await store.claim_voters(campaign_id, 1, T0, {"", NY}, 3)
    volunteer = await store.add_volunteer("Ann Lee", "ann@example.org", "+12025550100")
    session = await store.create_session(volunteer.id, campaign_id, AudioMode.PHONE, "1", "t", T0)
    await store.save_result(attempt.id, session.id, "talked", {"q1": "yes"}, notes, T0)


async def test_results_csv_escapes_cells_a_spreadsheet_would_run(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    row = Row(
        "+12025550123",
        first_name="=HYPERLINK(1)",
        last_name="@SUM(A1)",
        address="\tStreet",
        city="\rTown",
        state="-2+A1",
        party="Plain",
    )
    await result_for(store, campaign.id, row, notes="+cmd")
    header, values = await export(service, campaign.id)
    cells = dict(zip(header, values, strict=True))
    assert (cells["first_name"], cells["last_name"]) == ("'=HYPERLINK(1)", "'@SUM(A1)")
    assert (cells["address"], cells["city"], cells["state"]) == ("'\tStreet", "'\rTown", "'-2+A1")
    assert (cells["notes"], cells["phone"]) == ("'+cmd", "+12025550123")
    assert (cells["party"], cells["term_code"], cells["q1"]) == ("Plain", "talked", "yes")


async def test_results_csv_escapes_header_cells_from_imported_columns(
    service: OperatorService, store: SqliteStore, campaign: Campaign
) -> None:
    """Extra columns are named by the imported file, so the header needs escaping too."""
    await result_for(store, campaign.id, Row("+12025550123", extra={"=1+1": "x"}))
    header, values = await export(service, campaign.id)
    assert "'=1+1" in header and "=1+1" not in header
    assert values[header.index("'=1+1")] == "x"


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-1+A1", "+1-", "@x", "\tx", "\rx"])
def test_safe_cell_prefixes_a_formula_start_with_an_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("a=b", "a=b"),
        ("+12025550123", "+12025550123"),
        ("-1.5", "-1.5"),
        (-3, "-3"),
        ({"a": 1}, '{"a": 1}'),
        (["=x"], '["=x"]'),
    ],
)
def test_safe_cell_leaves_plain_numbers_and_other_values_as_text(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


async def test_a_campaign_keeps_its_answering_machine_detector_and_thresholds(
    service: OperatorService, store: SqliteStore
) -> None:
    campaign = await service.create_campaign(
        "ops",
        "Streaming Canvass",
        amd_engine="streaming",
        amd_thresholds={"human_pause_ms": 300},
        early_connect=True,
    )
    stored = await store.get_campaign(campaign.id)
    assert (stored.amd_engine, stored.amd_thresholds, stored.early_connect) == (
        "streaming",
        {"human_pause_ms": 300},
        True,
    )
