"""The volunteer's JSON API: sign-up, sign-in, the session's controls and call results.

Each session action answers with the session's new view (what GET /api/session returns), so a
page can redraw from any response; the WebSocket pushes the same changes as they happen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from engine.models import AfterResult, AudioMode, Session
from engine.security import field_limits
from engine.sessions.service import VolunteerService
from web import body as fields
from web.appkeys import engine_of
from web.auth import client_address, volunteer_view
from web.errors import FieldError
from web.shapes import json_response, result_json

SIGNUP_NOTE = (
    "Write down your Login ID and password now: they are shown only once, and you need both "
    "to sign in. You get a new pair every time you sign up."
)
THEN_CHOICES = tuple(AfterResult)


def instructions(audio_mode: str, callin_number: str, pin: str) -> str:
    """What the volunteer does next to connect their audio."""
    if audio_mode == AudioMode.BROWSER:
        return (
            "Use a headset, and allow microphone access when your browser asks: the page "
            "connects your audio and stays connected for your whole shift."
        )
    return (
        f"Call {callin_number} from your phone and enter your PIN {pin} followed by #. "
        "Stay on the line for your whole shift: calls come to you on it."
    )


async def sign_up(request: web.Request) -> web.Response:
    """Anonymous: register and get a Login ID and password for one sign-in."""
    body = await fields.read_json(request)
    name, email, phone = (fields.text(body, key) for key in ("name", "email", "phone"))
    signup = await engine_of(request).volunteers.sign_up(
        name, email, phone, client_address(request)
    )
    return json_response(
        {"login_id": signup.login_id, "password": signup.password, "note": SIGNUP_NOTE},
        status=201,
    )


async def sign_in(request: web.Request) -> web.Response:
    """Anonymous: open a session on a campaign; answers its bearer token and PIN."""
    body = await fields.read_json(request)
    login_id, password = fields.text(body, "login_id"), fields.text(body, "password")
    campaign = fields.id_or_name(body, "campaign")
    audio_mode = fields.optional_text(body, "audio_mode", AudioMode.PHONE.value)
    signin = await engine_of(request).volunteers.sign_in(
        login_id, password, campaign, audio_mode, client_address(request)
    )
    session = signin.session
    return json_response(
        {
            "token": signin.token,
            "session_id": session.id,
            "pin": signin.pin,
            "callin_number": signin.callin_number,
            "audio_mode": session.audio_mode.value,
            "instructions": instructions(session.audio_mode, signin.callin_number, signin.pin),
        },
        status=201,
    )


async def campaigns(request: web.Request) -> web.Response:
    """Anonymous: the active campaigns a volunteer can sign in to (id and name only)."""
    found = await engine_of(request).store.list_campaigns()
    return json_response({"campaigns": [{"id": c.id, "name": c.name} for c in found if c.active]})


@volunteer_view
async def get_session(request: web.Request, session: Session) -> web.Response:
    """The session's view; for a browser session also its softphone's SIP credentials and
    ICE servers (only the token holder gets here)."""
    engine = engine_of(request)
    view = await engine.volunteers.view(session.id)
    if view.get("softphone") and engine.telephony is not None:
        view["softphone"].update(engine.telephony.softphones.ice(session.id))
    return json_response(view)


async def _act(
    request: web.Request,
    session: Session,
    action: Callable[[VolunteerService, int], Awaitable[object]],
    status: int = 200,
) -> web.Response:
    """Do a volunteer's button press, then answer the session's new view."""
    volunteers = engine_of(request).volunteers
    await action(volunteers, session.id)
    return json_response(await volunteers.view(session.id), status=status)


@volunteer_view
async def ready(request: web.Request, session: Session) -> web.Response:
    """Start (or resume) taking calls."""
    return await _act(request, session, VolunteerService.start_calling)


@volunteer_view
async def pause(request: web.Request, session: Session) -> web.Response:
    return await _act(request, session, VolunteerService.pause)


@volunteer_view
async def end_call(request: web.Request, session: Session) -> web.Response:
    """Hang up the voter; 202 because the session reaches wrap-up once the hangup is done."""
    return await _act(request, session, VolunteerService.end_call, status=202)


@volunteer_view
async def call_voter(request: web.Request, session: Session) -> web.Response:
    """Preview dialing: call the voter on the card; the session is ringing when it answers."""
    return await _act(request, session, VolunteerService.call_voter)


@volunteer_view
async def skip_voter(request: web.Request, session: Session) -> web.Response:
    """Preview dialing: pass on the voter on the card (given back untouched)."""
    return await _act(request, session, VolunteerService.skip_voter)


@volunteer_view
async def cancel_call(request: web.Request, session: Session) -> web.Response:
    """Preview dialing: hang up the call while it is still ringing."""
    return await _act(request, session, VolunteerService.cancel_call)


@volunteer_view
async def submit_result(request: web.Request, session: Session) -> web.Response:
    """Save the result of the current or last call, then (optionally) ready/pause/logout."""
    body = await fields.read_json(request)
    then = fields.choice(body, "then", THEN_CHOICES)
    result = await engine_of(request).volunteers.submit_result(
        session.id,
        fields.text(body, "term_code"),
        fields.mapping(body, "answers"),
        _notes(body),
        None if then is None else AfterResult(then),
    )
    return json_response(result_json(result))


@volunteer_view
async def edit_result(request: web.Request, session: Session) -> web.Response:
    """Correct the last call's saved result; the session's state does not change."""
    body = await fields.read_json(request)
    result = await engine_of(request).volunteers.edit_result(
        session.id,
        fields.text(body, "term_code"),
        fields.mapping(body, "answers"),
        _notes(body),
    )
    return json_response(result_json(result))


@volunteer_view
async def save_draft(request: web.Request, session: Session) -> web.Response:
    """Save the result as it is being typed (a draft, no effect until sent or kept at the
    wrap-up deadline); ``attempt_id`` names the call it is for."""
    body = await fields.read_json(request)
    attempt_id = fields.optional_id(body, "attempt_id")
    if attempt_id is None:
        raise FieldError("attempt_id", "'attempt_id' is required: the call these answers are for")
    result = await engine_of(request).volunteers.save_draft(
        session.id,
        attempt_id,
        fields.optional_text(body, "term_code"),
        fields.mapping(body, "answers"),
        _notes(body),
    )
    return json_response(result_json(result))


def _notes(body: fields.Body) -> str:
    return field_limits.text("notes", fields.optional_text(body, "notes"), field_limits.NOTES)


@volunteer_view
async def log_out(request: web.Request, session: Session) -> web.Response:
    volunteers = engine_of(request).volunteers
    await volunteers.log_out(session.id)
    return json_response(await volunteers.view(session.id))
