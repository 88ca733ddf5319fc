"""Operator commands that need no PBX: importing a voter list, adding and removing operators."""

from __future__ import annotations

import asyncio
import getpass
import sys
import time
from pathlib import Path

from engine.app import Engine
from engine.config import Config
from engine.errors import InvalidInput, NotFound
from engine.voters.csv_rows import Choices, RowError, read_voter_rows
from phonebank.onboarding import site_url


def import_list(
    cfg: Config, path: Path, campaign: str, create: bool, choices: Choices | None = None
) -> int:
    return asyncio.run(_import(cfg, path, campaign, create, choices or {}))


async def _import(
    cfg: Config, path: Path, campaign_name: str, create: bool, choices: Choices
) -> int:
    async with Engine.running(cfg) as engine:
        campaign = await engine.store.campaign_by_name(campaign_name)
        if campaign is None:
            if not create:
                names = [c.name for c in await engine.store.list_campaigns()]
                raise NotFound(
                    f"there is no campaign called '{campaign_name}' (campaigns: "
                    f"{names}); add --create to make it"
                )
            region = engine.operators.default_region
            await asyncio.to_thread(check_importable, path, region, choices)
            campaign = await engine.operators.create_campaign("cli", campaign_name)
        started = time.monotonic()

        def progress(rows: int, done: int, total: int | None) -> None:
            share = f" ({100 * done / total:.0f} %)" if total else ""
            print(f"\r{rows:,} rows read{share}", end="", file=sys.stderr, flush=True)

        summary = await engine.operators.import_list("cli", campaign.id, path, progress, choices)
        print(file=sys.stderr)
        print(
            f"campaign '{campaign.name}': {summary.imported:,} imported, {summary.merged:,} "
            f"merged with existing voters, {summary.dnc:,} on the do-not-call list, "
            f"{summary.invalid:,} invalid ({time.monotonic() - started:.1f} s)"
        )
        for error in summary.errors[:20]:
            print(f"  {error}")
        if summary.invalid > 20:
            print(f"  ... and {summary.invalid - 20:,} more invalid rows")
    return 0


def check_importable(path: Path, region: str, choices: Choices) -> None:
    """Read the whole file once, before a campaign is created for it. Raises InvalidInput if
    it cannot be read as a voter list or has no row with a valid phone number."""
    first_error: RowError | None = None
    try:
        for row in read_voter_rows(path, region, choices=choices):
            if not isinstance(row, RowError):
                return
            first_error = first_error or row
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    why = f" (the first rejected row: {first_error})" if first_error else ""
    raise InvalidInput(f"{path} has no voter with a valid phone number{why}")


def add_operator(cfg: Config, username: str, password_stdin: bool) -> int:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for operator {username}: ")
        if getpass.getpass("again: ") != password:
            print("phonebank: the two passwords differ; nothing was changed", file=sys.stderr)
            return 1
    return asyncio.run(_add_operator(cfg, username, password))


async def _add_operator(cfg: Config, username: str, password: str) -> int:
    async with Engine.running(cfg) as engine:
        operator = await engine.operators.add_operator(username, password)
    print(f"operator '{operator.username}' added; log in at {site_url(cfg.web)}/operator/login")
    return 0


def remove_operator(cfg: Config, username: str, yes: bool) -> int:
    if not yes:
        answer = input(
            f"remove operator '{username}' and revoke their API tokens? "
            "Their open operator pages sign out at their next click. [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing was changed")
            return 1
    return asyncio.run(_remove_operator(cfg, username))


async def _remove_operator(cfg: Config, username: str) -> int:
    async with Engine.running(cfg) as engine:
        operator, tokens = await engine.operators.remove_operator(username)
    print(
        f"operator '{operator.username}' removed; {tokens} API token"
        f"{'' if tokens == 1 else 's'} revoked; their open operator pages are signed out at "
        "their next request"
    )
    return 0
