"""The operator's HTML pages: login, campaigns and their form with a live script preview.

The list upload, the dashboard and the results/do-not-call pages live beside this module
(web/operator/lists.py, web/operator/live.py, web/operator/results.py); web/routes.py routes
them all. Sessions and CSRF: web/operator/auth.py; rendering: web/operator/render.py.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from engine.dialer.modes import DIAL_MODE_LABELS
from engine.errors import Conflict, InvalidInput, LoginFailed, RateLimited
from engine.models import Campaign, DialMode, Voter
from engine.operators.campaign_settings import WHOLE_NUMBER_SETTINGS, ZERO_OR_MORE_SETTINGS
from engine.scripts.render import SAMPLE_VOLUNTEER, check_script, render_script
from web.appkeys import OPERATOR_SOCKETS, engine_of
from web.auth import client_address
from web.body import read_json
from web.errors import FieldError
from web.operator.auth import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSIONS,
    OperatorSession,
    csrf_refused,
    current,
    operator_page,
    safe_next,
    same_token,
    set_cookie,
)
from web.operator.render import load_campaign, page
from web.operator_sockets import page_key
from web.pages import render

SAMPLE_VOTER = Voter(
    id=0,
    campaign_id=0,
    phone="+12025550123",
    first_name="Pat",
    last_name="Jones",
    address="12 Elm St",
    city="Springfield",
    state="IL",
    zip="62701",
    party="IND",
    age=42,
)
NUMBERS = (*WHOLE_NUMBER_SETTINGS, *ZERO_OR_MORE_SETTINGS)
DECIMALS = ("abandon_target",)
TEXTS = (
    "script",
    "caller_id",
    "dial_mode",
    "mobile_dial_mode",
    "calling_hours_start",
    "calling_hours_end",
    "time_zone",
    "abandon_message",
    "voicemail_message",
    "amd_engine",
)
FLAGS = ("connect_notsure", "unknown_lines_as_mobile", "half_hour_guard", "early_connect", "active")
AMD_ENGINE_LABELS = {
    "app_amd": "Asterisk's AMD()",
    "streaming": "phonebank's own detector",
}
HUMAN_DEADLINE_CHOICE_MS = 1400
"""The form's one "put a voter who is still greeting through" time (amd_thresholds.
human_deadline_ms): under the 1.6 s the issue asks of nineteen voters in twenty, with room
for a busy machine's tap."""
NEW_CAMPAIGN_DIAL_MODE = DialMode.PREDICTIVE
"""What the form suggests for a new campaign: it keeps volunteers busiest within the
abandon limit."""


# --- login ---------------------------------------------------------------------------------
async def login_form(request: web.Request) -> web.StreamResponse:
    if current(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_page(request, "", 200)


def _login_page(request: web.Request, error: str, status: int, username: str = "") -> web.Response:
    token = secrets.token_urlsafe(24)
    context = {
        "login_csrf": token,
        "error": error,
        "username": username,
        "next": safe_next(request.query.get("next")),
    }
    response = render(request, "operator/login.html", context, status)
    set_cookie(response, request, LOGIN_COOKIE, token)
    response.headers["Cache-Control"] = "no-store"
    return response


async def log_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not same_token(_text(form, CSRF_FIELD), request.cookies.get(LOGIN_COOKIE, "")):
        return csrf_refused()
    username = _text(form, "username").strip()
    try:
        operator = await engine_of(request).operators.check_password(
            username, _text(form, "password"), client_address(request)
        )
    except LoginFailed:
        return _login_page(request, "Wrong username or password.", 401, username)
    except RateLimited as exc:
        return _login_page(request, str(exc), 429, username)
    except InvalidInput as exc:
        return _login_page(request, str(exc), 400, username[:100])
    key = request.app[SESSIONS].open(operator.username)
    response = web.HTTPSeeOther(safe_next(_text(form, "next")))
    set_cookie(response, request, COOKIE, key)
    response.del_cookie(LOGIN_COOKIE, path="/operator")
    raise response


@operator_page
async def log_out(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    cookie = request.cookies.get(COOKIE)
    request.app[SESSIONS].close(cookie)
    if cookie:
        await request.app[OPERATOR_SOCKETS].close(page_key(cookie))
    response = web.HTTPSeeOther("/operator/login")
    response.del_cookie(COOKIE, path="/operator")
    raise response


# --- campaigns -----------------------------------------------------------------------------
@operator_page
async def campaigns(request: web.Request, session: OperatorSession) -> web.Response:
    engine = engine_of(request)
    found = await engine.store.list_campaigns()
    counts = {c.id: await engine.store.voter_counts(c.id) for c in found}
    totals = {cid: sum(c.values()) for cid, c in counts.items()}
    return page(request, session, "operator/campaigns.html", {"campaigns": found, "totals": totals})


@operator_page
async def new_campaign(request: web.Request, session: OperatorSession) -> web.Response:
    return _campaign_form(request, session, Campaign(id=0, name=""), _form_values(None), "")


@operator_page
async def edit_campaign(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    counts = await engine_of(request).store.voter_counts(campaign.id)
    return _campaign_form(
        request,
        session,
        campaign,
        _form_values(campaign),
        "",
        needs_voters=not sum(counts.values()),
    )


@operator_page
async def save_campaign(request: web.Request, session: OperatorSession) -> web.StreamResponse:
    """Create (id 0) or update a campaign from the form; errors re-show the form with them."""
    engine = engine_of(request)
    is_new = "id" not in request.match_info
    campaign = Campaign(id=0, name="") if is_new else await load_campaign(request)
    form = await request.post()
    values = {key: _text(form, key) for key in _form_values(None)}
    try:
        settings = _settings(form)
        settings["amd_thresholds"] = _amd_thresholds(form, campaign)
        name = settings.pop("name")
        if is_new:
            settings.pop("active", None)
            saved = await engine.operators.create_campaign(session.username, name, **settings)
        else:
            saved = await engine.operators.update_campaign(
                session.username, campaign.id, name=name, **settings
            )
    except (InvalidInput, Conflict) as exc:
        for key in FLAGS:
            values[key] = "on" if form.get(key) else ""
        return _campaign_form(request, session, campaign, values, str(exc), 400)
    raise web.HTTPSeeOther(f"/operator/campaigns/{saved.id}?saved=1")


def _campaign_form(
    request: web.Request,
    session: OperatorSession,
    campaign: Campaign,
    values: dict[str, str],
    error: str,
    status: int = 200,
    needs_voters: bool = False,
) -> web.Response:
    """The form; after a save of a campaign with no voters yet it offers the list upload next."""
    join = f"{request.url.origin()}/join/{campaign.id}" if campaign.id else ""
    context = {
        "campaign": campaign,
        "values": values,
        "error": error,
        "saved": request.query.get("saved") == "1" and not error,
        "needs_voters": needs_voters,
        "join_url": join,
        "preview": render_script(values["script"], SAMPLE_VOTER.fields(), SAMPLE_VOLUNTEER),
        "dial_modes": DIAL_MODE_LABELS,
        "amd_engines": AMD_ENGINE_LABELS,
        "server_amd_engine": AMD_ENGINE_LABELS[_server_amd_engine(request)],
        "deadline_choice_ms": HUMAN_DEADLINE_CHOICE_MS,
    }
    return page(request, session, "operator/campaign_form.html", context, status)


def _server_amd_engine(request: web.Request) -> str:
    """The detector campaigns use unless they choose one (amd.engine)."""
    telephony = engine_of(request).telephony
    return telephony.calls.streaming.default_engine if telephony is not None else "app_amd"


def _form_values(campaign: Campaign | None) -> dict[str, str]:
    """The form's fields as text, from a campaign or the defaults."""
    c = campaign or Campaign(id=0, name="", dial_mode=NEW_CAMPAIGN_DIAL_MODE)
    values = {key: str(getattr(c, key)) for key in (*TEXTS, *NUMBERS, *DECIMALS)}
    values["name"] = c.name
    values["survey"] = json.dumps(c.survey, indent=2) if c.survey else "[]"
    values["term_codes"] = "\n".join(f"{t.code} | {t.label} | {t.kind}" for t in c.term_codes)
    for key in FLAGS:
        values[key] = "on" if getattr(c, key) else ""
    values["human_deadline_ms"] = str(c.amd_thresholds.get("human_deadline_ms") or "")
    return values


def _amd_thresholds(form: Any, campaign: Campaign) -> dict[str, Any]:
    """The campaign's detector thresholds (kept as the API set them) with the form's
    "put a voter who is still greeting through" choice: empty = when the greeting ends (the key
    removed)."""
    thresholds = dict(campaign.amd_thresholds)
    raw = _text(form, "human_deadline_ms").strip()
    if not raw:
        thresholds.pop("human_deadline_ms", None)
    elif raw.isdigit():
        thresholds["human_deadline_ms"] = int(raw)
    else:
        raise InvalidInput(
            "put a voter who is still greeting through: choose one of the listed times"
        )
    return thresholds


def _settings(form: Any) -> dict[str, Any]:
    """Campaign settings from the posted form. Raises InvalidInput naming the bad field."""
    settings: dict[str, Any] = {"name": _text(form, "name").strip()}
    for key in TEXTS:
        settings[key] = _text(form, key).strip() if key != "script" else _text(form, key)
    for key in NUMBERS:
        raw = _text(form, key).strip()
        if not raw.isdigit():
            raise InvalidInput(f"{key.replace('_', ' ')} must be a whole number")
        settings[key] = int(raw)
    for key in DECIMALS:
        raw = _text(form, key).strip()
        try:
            settings[key] = float(raw)
        except ValueError:
            raise InvalidInput(f"{key.replace('_', ' ')} must be a number, like 2.7") from None
    for key in FLAGS:
        settings[key] = bool(form.get(key))
    try:
        settings["survey"] = json.loads(_text(form, "survey") or "[]")
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"survey questions: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    settings["term_codes"] = _term_codes(_text(form, "term_codes"))
    return settings


def _term_codes(text: str) -> list[dict[str, str]]:
    codes = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            raise InvalidInput(
                f"term codes, line {number}: write 'code | label | kind' "
                "(kind: contact, no contact or remove)"
            )
        codes.append({"code": parts[0], "label": parts[1], "kind": parts[2]})
    return codes


@operator_page
async def script_preview(request: web.Request, session: OperatorSession) -> web.Response:
    """The script filled in for a sample voter, and its problems (for the live preview)."""
    script = (await read_json(request)).get("script") or ""
    if not isinstance(script, str):
        raise FieldError("script", "'script' must be text")
    return web.json_response(
        {
            "html": render_script(script, SAMPLE_VOTER.fields(), SAMPLE_VOLUNTEER),
            "problems": check_script(script),
        }
    )


def _text(form: Any, key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""
