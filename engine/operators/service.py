"""What operators do: sign in, manage campaigns, import lists, watch statistics, export
results, keep the do-not-call list. Every change is written to the audit log."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import phonenumbers

from engine.clock import utc_now
from engine.dialer.pacing.base import ABANDON_LIMIT, abandon_budget
from engine.errors import InvalidInput, NotFound
from engine.models import (
    AUTOMATIC_MODES,
    CallOutcome,
    Campaign,
    Operator,
    SessionState,
)
from engine.notifier import DialingView
from engine.operators.campaign_settings import campaign_name, checked_settings
from engine.operators.logins import TOKEN_LIFETIME, OperatorLogins
from engine.operators.stats import volunteers_on_shift
from engine.reports.export import results_csv
from engine.reports.export_columns import Choices
from engine.security.login_limits import LoginLimiter
from engine.security.password_hasher import PasswordHasher
from engine.store.base import Store
from engine.store.result_rows import ResultFilter
from engine.voters.importer import ImportSummary, import_voters


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
        name = campaign_name(name)
        clean = checked_settings(
            settings, Campaign(id=0, name=name), self.clock(), self.normalize_phone
        )
        campaign = await self.store.create_campaign(name, **clean)
        await self.store.audit(
            actor, "campaign.create", {"id": campaign.id, "name": name}, self.clock()
        )
        return campaign

    async def update_campaign(self, actor: str, campaign_id: int, **settings: Any) -> Campaign:
        clean = checked_settings(
            settings, await self.store.get_campaign(campaign_id), self.clock(), self.normalize_phone
        )
        campaign = await self.store.update_campaign(campaign_id, **clean)
        await self.store.audit(
            actor, "campaign.update", {"id": campaign_id, "fields": sorted(clean)}, self.clock()
        )
        return campaign

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


def _abandons_allowed(live_answers: int, abandons: int) -> int:
    """How many more abandons the budget allows before pacing stops over-dialing: each one
    spends a whole abandon but, being a live answer too, earns back ABANDON_LIMIT."""
    budget = abandon_budget(live_answers, abandons)
    return math.ceil(budget / (1.0 - ABANDON_LIMIT)) if budget > 0 else 0
