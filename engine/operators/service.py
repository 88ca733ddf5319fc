"""What operators do: sign in, manage campaigns, import lists, watch statistics, export
results, keep the do-not-call list. Every change is written to the audit log."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import phonenumbers

from engine.clock import utc_now
from engine.dialer.modes import DIAL_MODES
from engine.dialer.pacing.base import ABANDON_LIMIT, abandon_budget
from engine.errors import InvalidInput, NotFound
from engine.models import (
    AUTOMATIC_MODES,
    CallOutcome,
    Campaign,
    DncScope,
    Operator,
    SessionState,
    TermCode,
    TermCodeKind,
)
from engine.notifier import DialingView
from engine.operators.logins import TOKEN_LIFETIME, OperatorLogins
from engine.operators.stats import volunteers_on_shift
from engine.operators.time_zone import valid_time_zone
from engine.reports.export import results_csv
from engine.reports.export_columns import Choices
from engine.scripts.render import check_script
from engine.scripts.survey import check_survey
from engine.security import field_limits
from engine.security.login_limits import LoginLimiter
from engine.security.password_hasher import PasswordHasher
from engine.store.base import Store
from engine.store.result_rows import ResultFilter
from engine.voters.calling_hours import zones_within_hours
from engine.voters.importer import ImportSummary, import_voters

MAX_LINES_PER_VOLUNTEER = 50
WHOLE_NUMBER_SETTINGS = (
    "lines_per_volunteer",
    "max_lines_per_volunteer",
    "max_attempts",
    "retry_minutes",
    "wrapup_seconds",
    "ring_seconds",
)
"""Campaign settings that are whole numbers of at least 1."""
ZERO_OR_MORE_SETTINGS = ("logout_after_missed_wrapups",)
"""Campaign settings that are whole numbers of at least 0 (0: off)."""
YES_NO_SETTINGS = ("connect_notsure", "hold_music", "unknown_lines_as_mobile", "active")
"""Campaign settings that are true or false."""
EDITABLE = {f.name for f in dataclasses.fields(Campaign)} - {"id", "created_at"}


TEXT_LIMITS = {
    "caller_id": field_limits.CALLER_ID,
    "abandon_message": field_limits.MESSAGE,
    "voicemail_message": field_limits.MESSAGE,
    "script": field_limits.SCRIPT,
}
"""Longest text of these campaign settings."""
JSON_LIMITS = {"survey": field_limits.SURVEY_BYTES, "term_codes": field_limits.TERM_CODES_BYTES}
"""Largest JSON of these campaign settings."""


def _campaign_name(name: str) -> str:
    """A campaign name trimmed; InvalidInput if blank, too long or not one line."""
    name = name.strip()
    if not name:
        raise InvalidInput("a campaign needs a name")
    return field_limits.line("campaign name", name, field_limits.CAMPAIGN_NAME)


class OperatorService:
    def __init__(
        self,
        store: Store,
        *,
        default_region: str = "US",
        clock: Callable[[], datetime] = utc_now,
        hasher: PasswordHasher | None = None,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        login_limiter: LoginLimiter | None = None,
        dialing: Callable[[], DialingView] = lambda: {"paused": False, "message": ""},
        live_pacing: Callable[[int], dict[str, Any] | None] | None = None,
        availability: Callable[[int], dict[str, Any] | None] = lambda campaign_id: None,
    ) -> None:
        self.store = store
        self.availability = availability
        """Why nobody of a campaign can be called now, or None (engine/dialer/idle_watch.py)."""
        self.dialing = dialing
        """Whether dialing is held now and why (the telephony's gate; open without a PBX)."""
        self.default_region = default_region
        self.clock = clock
        self.accounts = OperatorLogins(
            store,
            hasher or PasswordHasher(),
            clock,
            token_lifetime=token_lifetime,
            limiter=login_limiter,
        )
        """Operator accounts, their passwords and API tokens."""
        self.live_pacing = live_pacing
        """The dialer's view of a campaign's pacing (None when no PBX is attached)."""

    # --- operators (engine/operators/logins.py) -------------------------------------------
    async def add_operator(self, username: str, password: str) -> Operator:
        return await self.accounts.add(username, password)

    async def log_in(self, username: str, password: str, client: str) -> tuple[Operator, str]:
        """Check an operator's password; return a new API token (shown once)."""
        return await self.accounts.log_in(username, password, client)

    async def check_password(self, username: str, password: str, client: str) -> Operator:
        """For the HTML login (a cookie session): no API token is made."""
        return await self.accounts.check_password(username, password, client)

    async def log_out(self, operator: Operator, token: str) -> None:
        await self.accounts.log_out(operator, token)

    async def remove_operator(self, username: str) -> tuple[Operator, int]:
        """Remove the operator; how many API tokens were revoked. Raises NotFound."""
        return await self.accounts.remove(username)

    async def operator_for_token(self, token: str) -> Operator:
        return await self.accounts.operator_for_token(token)

    # --- campaigns -----------------------------------------------------------------------
    async def create_campaign(self, actor: str, name: str, **settings: Any) -> Campaign:
        name = _campaign_name(name)
        clean = self._validate(settings, Campaign(id=0, name=name))
        campaign = await self.store.create_campaign(name, **clean)
        await self.store.audit(
            actor, "campaign.create", {"id": campaign.id, "name": name}, self.clock()
        )
        return campaign

    async def update_campaign(self, actor: str, campaign_id: int, **settings: Any) -> Campaign:
        clean = self._validate(settings, await self.store.get_campaign(campaign_id))
        campaign = await self.store.update_campaign(campaign_id, **clean)
        await self.store.audit(
            actor, "campaign.update", {"id": campaign_id, "fields": sorted(clean)}, self.clock()
        )
        return campaign

    def _validate(self, settings: dict[str, Any], current: Campaign) -> dict[str, Any]:
        """Check campaign settings (changes to ``current``); InvalidInput names the first bad
        field and why."""
        unknown = set(settings) - EDITABLE
        if unknown:
            raise InvalidInput(f"unknown campaign setting(s) {sorted(unknown)}")
        clean = dict(settings)
        if "name" in clean:
            clean["name"] = _campaign_name(str(clean["name"]))
        for key, limit in TEXT_LIMITS.items():
            if key in clean and isinstance(clean[key], str):
                field_limits.text(key, clean[key], limit)
        for key, limit in JSON_LIMITS.items():
            if key in clean:
                field_limits.json_size(key, clean[key], limit)
        for key in YES_NO_SETTINGS:
            if key in clean and not isinstance(clean[key], bool):
                raise InvalidInput(f"{key} must be true or false, not {clean[key]!r}")
        for key in WHOLE_NUMBER_SETTINGS:
            if key in clean:
                value = clean[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise InvalidInput(f"{key} must be a whole number of at least 1")
        for key in ZERO_OR_MORE_SETTINGS:
            if key in clean:
                value = clean[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise InvalidInput(f"{key} must be a whole number of at least 0 (0: never)")
        if "calling_hours_start" in clean or "calling_hours_end" in clean:
            # Checks the HH:MM format, and the order against the current value of the other.
            start = clean.get("calling_hours_start", current.calling_hours_start)
            end = clean.get("calling_hours_end", current.calling_hours_end)
            zones_within_hours([], str(start), str(end), self.clock())
        if "time_zone" in clean:  # issue 14 item 5 (LIVE)
            clean["time_zone"] = valid_time_zone(clean["time_zone"])
        if "script" in clean:
            problems = check_script(str(clean["script"]))
            if problems:
                raise InvalidInput("the script has a problem: " + "; ".join(problems))
        if "term_codes" in clean:
            clean["term_codes"] = _term_codes(clean["term_codes"])
        if "survey" in clean:
            check_survey(clean["survey"])
        _check_pacing(clean)
        if clean.get("dnc_scope", DncScope.CAMPAIGN) not in tuple(DncScope):
            raise InvalidInput("dnc_scope must be 'campaign' or 'global'")
        if clean.get("caller_id"):
            clean["caller_id"] = self.normalize_phone(str(clean["caller_id"]), "caller_id")
        return clean

    def normalize_phone(self, text: str, what: str = "phone") -> str:
        try:
            number = phonenumbers.parse(text, self.default_region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise InvalidInput(f"{what} '{text}' is not a valid phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    # --- lists ---------------------------------------------------------------------------
    async def import_list(
        self,
        actor: str,
        campaign_id: int,
        source: Path | BinaryIO,
        progress: Callable[[int, int, int | None], None] | None = None,
        choices: Mapping[str, str] | None = None,
    ) -> ImportSummary:
        await self.store.get_campaign(campaign_id)
        summary = await import_voters(
            self.store,
            campaign_id,
            source,
            default_region=self.default_region,
            progress=progress,
            choices=choices,
        )
        await self.store.audit(
            actor,
            "voters.import",
            {
                "campaign_id": campaign_id,
                "imported": summary.imported,
                "merged": summary.merged,
                "invalid": summary.invalid,
                "dnc": summary.dnc,
            },
            self.clock(),
        )
        return summary

    # --- do not call ---------------------------------------------------------------------
    async def add_dnc(self, actor: str, phone: str, campaign_id: int | None, reason: str) -> str:
        number = self.normalize_phone(phone)
        if campaign_id is not None:
            await self.store.get_campaign(campaign_id)
        await self.store.add_dnc(number, campaign_id, reason, actor, self.clock())
        await self.store.audit(
            actor, "dnc.add", {"phone": number, "campaign_id": campaign_id}, self.clock()
        )
        return number

    async def add_dnc_numbers(
        self, actor: str, phones: list[str], campaign_id: int | None, reason: str
    ) -> int:
        """Put E.164 ``phones`` (engine.dnc.numbers_file) on a list; how many were new."""
        if campaign_id is not None:
            await self.store.get_campaign(campaign_id)
        added = 0
        for start in range(0, len(phones), 1000):  # other store work goes on between batches
            batch = phones[start : start + 1000]
            added += await self.store.add_dnc_many(batch, campaign_id, reason, actor, self.clock())
        details = {"numbers": len(phones), "added": added, "campaign_id": campaign_id}
        await self.store.audit(actor, "dnc.import", details, self.clock())
        return added

    async def remove_dnc(self, actor: str, phone: str, campaign_id: int | None) -> None:
        number = self.normalize_phone(phone)
        if not await self.store.remove_dnc(number, campaign_id):
            raise NotFound(f"{number} is not on that do-not-call list")
        await self.store.audit(
            actor, "dnc.remove", {"phone": number, "campaign_id": campaign_id}, self.clock()
        )

    # --- statistics and results ------------------------------------------------------------
    async def stats(self, campaign_id: int) -> dict[str, Any]:
        campaign = await self.store.get_campaign(campaign_id)
        now = self.clock()
        sessions = await self.store.live_sessions(campaign_id)
        by_state = {str(s): 0 for s in SessionState if s != SessionState.LOGGED_OUT}
        for session in sessions:
            by_state[str(session.state)] += 1
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        abandoned_today, live_today = await self.store.abandon_counts(campaign_id, day)
        abandoned_30, live_30 = await self.store.abandon_counts(campaign_id, now - timedelta(30))
        hour = await self.store.outcome_counts(campaign_id, now - timedelta(hours=1))
        counts = await self.store.voter_counts(campaign_id)
        return {
            "campaign": {"id": campaign.id, "name": campaign.name},
            "volunteers": by_state,
            "attempts_last_hour": sum(hour.values()),
            "contacts_last_hour": hour.get(CallOutcome.CONTACT, 0),
            "outcomes_last_hour": {str(k): v for k, v in hour.items()},
            "abandon_rate_today": _rate(abandoned_today, live_today),
            "abandon_rate_30_days": _rate(abandoned_30, live_30),
            "abandons_30_days": abandoned_30,
            "live_answers_30_days": live_30,
            "abandon_target": campaign.abandon_target,
            "abandon_limit": round(100.0 * ABANDON_LIMIT, 1),
            "abandons_allowed_now": _abandons_allowed(live_30, abandoned_30)
            if campaign.dial_mode in AUTOMATIC_MODES
            else None,
            "dial_mode": campaign.dial_mode,
            "pacing": self.live_pacing(campaign_id) if self.live_pacing else None,
            "dialing": self.dialing(),
            "voters": {str(k): v for k, v in counts.items()},
            "availability": self.availability(campaign_id),
            "volunteers_on_shift": await volunteers_on_shift(self.store, campaign, now),
            "calls_placed_last_hour": await self.store.calls_placed(
                campaign_id, now - timedelta(hours=1)
            ),
        }

    async def results_csv(
        self,
        actor: str,
        campaign_id: int,
        choices: Choices = Choices.JOINED,
        where: ResultFilter | None = None,
    ) -> AsyncIterator[str]:
        """The campaign's results (those ``where`` matches) as CSV text chunks, safe to open
        in a spreadsheet, the header row first even when there are none
        (engine/reports/export.py)."""
        campaign = await self.store.get_campaign(campaign_id)
        await self.store.audit(actor, "results.export", {"campaign_id": campaign_id}, self.clock())
        async for chunk in results_csv(self.store, campaign, choices, where):
            yield chunk


def _rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _term_codes(raw: Any) -> list[TermCode]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("term_codes must be a non-empty list of {code, label, kind}")
    codes = []
    for item in raw:
        if isinstance(item, TermCode):
            codes.append(item)
            continue
        try:
            kind = TermCodeKind(item["kind"])
            codes.append(TermCode(str(item["code"]), str(item["label"]), kind))
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                f"term code {item!r} needs code, label and a kind of "
                f"{[str(k) for k in TermCodeKind]}"
            ) from None
    seen: set[str] = set()
    for number, code in enumerate(codes, 1):
        if not code.code.strip() or not code.label.strip():
            raise InvalidInput(f"Term code {number} needs a code and a label.")
        if code.code in seen:
            raise InvalidInput(
                f"two term codes have the same code '{code.code}'; give each its own code"
            )
        seen.add(code.code)
    return codes


def _abandons_allowed(live_answers: int, abandons: int) -> int:
    """How many more abandons the budget allows before pacing stops over-dialing: each one
    spends a whole abandon but, being a live answer too, earns back ABANDON_LIMIT."""
    budget = abandon_budget(live_answers, abandons)
    return math.ceil(budget / (1.0 - ABANDON_LIMIT)) if budget > 0 else 0


def _check_pacing(clean: dict[str, Any]) -> None:
    """Dial modes must exist, the line cap stay sane and the abandon target within the law."""
    modes = ", ".join(DIAL_MODES)
    if "dial_mode" in clean and str(clean["dial_mode"]) not in DIAL_MODES:
        raise InvalidInput(f"dial_mode must be one of {modes}, not {clean['dial_mode']!r}")
    mobile = clean.get("mobile_dial_mode", "")
    if mobile and str(mobile) not in DIAL_MODES:
        raise InvalidInput(f"mobile_dial_mode must be empty or one of {modes}, not {mobile!r}")
    if clean.get("max_lines_per_volunteer", 1) > MAX_LINES_PER_VOLUNTEER:
        raise InvalidInput(f"max_lines_per_volunteer must be at most {MAX_LINES_PER_VOLUNTEER}")
    if "abandon_target" in clean:
        target = clean["abandon_target"]
        if isinstance(target, bool) or not isinstance(target, int | float):
            raise InvalidInput("abandon_target must be a percentage, like 2.7")
        limit = 100.0 * ABANDON_LIMIT
        if not 0.1 <= target <= limit:
            raise InvalidInput(
                f"abandon_target must be between 0.1 and {limit:g} percent (the legal limit)"
            )
        clean["abandon_target"] = float(target)
