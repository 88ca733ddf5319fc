"""The domain: campaigns, voters, volunteers, sessions, call attempts, results.

Plain frozen dataclasses and StrEnums with names a volunteer or operator would recognise. The
store (engine/store/) persists them; the engine and the web app pass them around.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class AudioMode(StrEnum):
    PHONE = "phone"
    BROWSER = "browser"


class DialMode(StrEnum):
    """How a campaign's calls are placed (engine/dialer/modes.py builds each one's pacing), in
    the order the campaign form and error messages list them."""

    PREDICTIVE = "predictive"
    POWER = "power"
    ADAPTIVE = "adaptive"
    PREVIEW = "preview"


AUTOMATIC_MODES = frozenset({DialMode.POWER, DialMode.PREDICTIVE, DialMode.ADAPTIVE})
"""Modes in which the dialer places calls on its own (an autodialer, in the law's words)."""


class MobileDialMode(StrEnum):
    """How a campaign's mobile numbers are called: a dial mode, or the campaign's own."""

    AS_DIAL_MODE = ""
    PREDICTIVE = "predictive"
    POWER = "power"
    ADAPTIVE = "adaptive"
    PREVIEW = "preview"


class DncScope(StrEnum):
    """Where "Remove Number" puts a number: the campaign's do-not-call list or the global one."""

    CAMPAIGN = "campaign"
    GLOBAL = "global"


class EndReason(StrEnum):
    """Why a volunteer's session ended (empty while it is open)."""

    OPEN = ""
    LOGOUT = "logout"
    TIMEOUT = "timeout"
    """Wrap-up ran out with no result saved."""


class AfterResult(StrEnum):
    """What a volunteer does after saving a result in wrap-up."""

    READY = "ready"
    PAUSE = "pause"
    LOGOUT = "logout"


class ResultStatus(StrEnum):
    """How far a call's result got: saved as typed, sent with Next, or kept at the deadline."""

    DRAFT = "draft"
    """Saved as the volunteer chose and typed; not sent with Next yet."""
    FINAL = "final"
    TIMED_OUT = "timed out"
    """The wrap-up deadline passed; what was chosen and typed by then is kept."""


class LineType(StrEnum):
    """What kind of line a voter's number is (engine/voters/line_types.py tells)."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    UNKNOWN = ""


class SessionState(StrEnum):
    """A volunteer's session, from sign-in to log-out."""

    WAITING_FOR_PHONE = "waiting for phone"
    """Signed in; the phone (or browser) audio is not connected yet."""
    CONNECTED = "connected"
    """Audio connected and in the session's bridge; not calling yet (before the first
    "start calling")."""
    READY = "ready"
    """Waiting for the dialer to connect a voter."""
    PREVIEWING = "previewing"
    """Preview dialing: reading the voter's card before pressing Call (no call placed yet)."""
    RINGING = "ringing"
    """Preview dialing: the volunteer pressed Call and the voter's phone is ringing."""
    TALKING = "talking"
    WRAP_UP = "wrap-up"
    """The call ended; the volunteer enters the result before the deadline."""
    PAUSED = "paused"
    """Taking a break: no calls are placed for this volunteer (the phone may be gone too)."""
    PHONE_DISCONNECTED = "phone disconnected"
    """Was taking calls when the phone (or browser audio) dropped: no calls until it calls
    in again with the PIN, then straight back to READY."""
    LOGGED_OUT = "logged out"


class CallState(StrEnum):
    """One outbound call attempt to a voter."""

    CLAIMED = "claimed"
    DIALING = "dialing"
    """Originated; ringing or in answering-machine detection."""
    CONNECTING = "connecting"
    """A person answered; looking for a ready volunteer (at most 2 s)."""
    CONNECTED = "connected"
    """In a volunteer's bridge."""
    ABANDONING = "abandoning"
    """No volunteer was free: playing the identification message before hanging up."""
    LEAVING_VOICEMAIL = "leaving voicemail"
    ENDED = "ended"


class CallOutcome(StrEnum):
    """How an attempt ended."""

    CONTACT = "contact"
    """A person was connected to a volunteer."""
    ABANDONED = "abandoned"
    """A person answered and no volunteer was free within 2 s."""
    MACHINE = "machine"
    VOICEMAIL_LEFT = "voicemail left"
    BUSY = "busy"
    NO_ANSWER = "no answer"
    UNALLOCATED = "unallocated"
    REJECTED = "rejected"
    CONGESTION = "congestion"
    HUNG_UP_DURING_AMD = "hung up during AMD"
    FAILED = "failed"
    """Anything else: originate refused, trunk down, engine restarted mid-call."""


class VoterStatus(StrEnum):
    PENDING = "pending"
    """Never called."""
    IN_FLIGHT = "in flight"
    RETRY = "retry"
    """Not reached yet; callable again from next_attempt_at."""
    DONE = "done"
    """Reached, or out of attempts."""
    DNC = "do not call"


class TermCodeKind(StrEnum):
    CONTACT = "contact"
    NO_CONTACT = "no contact"
    REMOVE = "remove"
    """Puts the number on the do-not-call list."""


@dataclass(frozen=True)
class TermCode:
    code: str
    label: str
    kind: TermCodeKind


DEFAULT_TERM_CODES = (
    TermCode("talked", "Talked to Correct Person", TermCodeKind.CONTACT),
    TermCode("no_contact", "No Contact", TermCodeKind.NO_CONTACT),
    TermCode("remove", "Remove Number", TermCodeKind.REMOVE),
)


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    script: str = ""
    """A jinja2 template (rendered in a sandbox) with the voter's fields."""
    survey: list[dict[str, Any]] = field(default_factory=list)
    """Questions: {"id", "text", "kind": single|multiple|text, "options": [{"value", "label",
    "next": question id or None}], "ask_if": {"question": id, "answer": option value} or
    absent}. An option's `next` makes that question a follow-up asked once the option is
    chosen; `ask_if` asks the question only when an earlier choice question got that answer
    (engine/scripts/survey.py checks and applies both)."""
    term_codes: list[TermCode] = field(default_factory=lambda: list(DEFAULT_TERM_CODES))
    caller_id: str = ""
    dial_mode: DialMode = DialMode.POWER
    """How calls are placed: power, predictive, adaptive or preview (engine/dialer/)."""
    lines_per_volunteer: int = 1
    """Power mode: calls kept going for every ready volunteer."""
    max_lines_per_volunteer: int = 12
    """Predictive and adaptive modes: the most calls going for every volunteer signed in."""
    abandon_target: float = 2.7
    """Percent of live answers the pacing may abandon over a rolling 30 days (at most 3)."""
    half_hour_guard: bool = True
    """Predictive: also keep every half hour under 5 % abandons (docs/pacing.md); on if new."""
    mobile_dial_mode: MobileDialMode = MobileDialMode.AS_DIAL_MODE
    """Dial mode for mobile numbers (e.g. preview, so a person places each call); empty: the
    same as dial_mode."""
    unknown_lines_as_mobile: bool = True
    """Numbers whose line type is unknown follow mobile_dial_mode (the cautious choice)."""
    calling_hours_start: str = "09:00"
    """In the voter's own time zone."""
    calling_hours_end: str = "21:00"
    max_attempts: int = 3
    retry_minutes: int = 60
    """A voter not reached is called again no sooner than this."""
    abandon_message: str = "Hello, this is a call from the campaign. Sorry we missed you. Goodbye."
    voicemail_message: str = ""
    """Left on answering machines after the beep; empty: hang up on machines."""
    connect_notsure: bool = True
    """Treat AMD's NOTSURE as a person."""
    hold_music: bool = False
    """Volunteers waiting for a call hear music; otherwise silence."""
    dnc_scope: DncScope = DncScope.CAMPAIGN
    """Where "Remove Number" puts the number: campaign or global."""
    wrapup_seconds: int = 60
    ring_seconds: int = 28
    """How long a number may ring before the dialer gives up."""
    amd_args: str = ""
    """AMD() arguments; empty uses pbx.amd_args."""
    amd_engine: str = ""
    """Who tells people from machines: ``app_amd`` (Asterisk's AMD()), ``streaming`` (the
    engine's own detector, engine/amd/) or empty: the configuration's amd.engine."""
    amd_thresholds: dict[str, Any] = field(default_factory=dict)
    """Streaming detector thresholds that differ from engine/amd/settings.py's defaults."""
    early_connect: bool = False
    """Streaming detector only: put the voter through at the end of their first utterance and
    keep listening; a machine found after that is taken back from the volunteer."""
    time_zone: str = ""
    """IANA zone the dashboard and the results report times in; empty: the zone most of the
    campaign's voters are in (UTC when unknown)."""
    logout_after_missed_wrapups: int = 0
    """Log a volunteer out after this many wrap-up deadlines in a row passed without a saved
    result; 0: never (the volunteer is paused instead)."""
    active: bool = True
    created_at: datetime | None = None


_BOOKKEEPING = {"shown": False}
"""Metadata of a voter field that scripts, the voter card and the export do not show."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VoterDetails:
    """What a voter list says about one voter: the one declaration of the voter fields. The
    importer fills it (engine/voters/csv_rows.py VoterRow), the store keeps it (Voter adds the
    identity and calling state), scripts, the voter card and the results export show
    VOTER_CARD_FIELDS in this order."""

    first_name: str = ""
    last_name: str = ""
    phone: str
    """E.164."""
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    party: str = ""
    age: int | None = None
    extra: dict[str, str] = field(default_factory=dict, metadata=_BOOKKEEPING)
    """CSV columns phonebank does not know, kept as they were."""
    timezone: str = field(default="", metadata=_BOOKKEEPING)
    """IANA zone for calling hours (from the number or ZIP); empty: unknown."""
    source_line: int | None = field(default=None, metadata=_BOOKKEEPING)
    line_type: LineType = field(default=LineType.UNKNOWN, metadata=_BOOKKEEPING)
    """mobile, landline or empty (unknown): from the list's line-type column or the number."""


VOTER_FIELDS = tuple(f.name for f in fields(VoterDetails))
"""Every field a voter list gives a voter (the store's voter columns besides its own)."""

VOTER_CARD_FIELDS = tuple(f.name for f in fields(VoterDetails) if f.metadata.get("shown", True))
"""The named fields a script, the voter card and the results export show, in their order."""


@dataclass(frozen=True, kw_only=True)
class Voter(VoterDetails):
    id: int
    campaign_id: int
    status: VoterStatus = VoterStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None

    def fields(self) -> dict[str, Any]:
        """What a script template and the voter card see."""
        return {**{name: getattr(self, name) for name in VOTER_CARD_FIELDS}, **self.extra}


@dataclass(frozen=True)
class Volunteer:
    id: int
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class Login:
    """A Login ID and password handed out at sign-up, good for one logon."""

    login_id: str
    volunteer_id: int
    password_hash: str
    created_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class Session:
    id: int
    volunteer_id: int
    campaign_id: int
    audio_mode: AudioMode
    pin: str
    token_hash: str
    state: SessionState
    state_since: datetime
    channel_id: str | None = None
    """The volunteer's phone (or browser) leg on the dialer PBX."""
    bridge_id: str | None = None
    attempt_id: int | None = None
    """The current (or last, during wrap-up) call."""
    wrapup_deadline: datetime | None = None
    created_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: EndReason = EndReason.OPEN
    missed_wrapups: int = 0
    """Wrap-up deadlines in a row that passed without a saved result."""
    node: str = ""
    """The dialer node (``[[nodes]]`` name) its phone or browser leg lives on; '' until one is
    chosen."""


@dataclass(frozen=True)
class Attempt:
    id: int
    campaign_id: int
    voter_id: int
    phone: str
    state: CallState
    session_id: int | None = None
    """The volunteer it was connected to."""
    channel_id: str | None = None
    claimed_at: datetime | None = None
    originated_at: datetime | None = None
    answered_at: datetime | None = None
    amd_verdict: str = ""
    amd_cause: str = ""
    amd_at: datetime | None = None
    bridged_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None
    outcome: CallOutcome | None = None
    heard_machine: bool = False
    """Early connect put this machine through to a volunteer before the detector knew it was
    one; the volunteer was taken back out (session_id says who heard it)."""


@dataclass(frozen=True)
class Result:
    id: int
    attempt_id: int
    voter_id: int
    campaign_id: int
    session_id: int
    volunteer_id: int
    term_code: str
    answers: dict[str, Any]
    notes: str
    created_at: datetime
    updated_at: datetime
    status: ResultStatus = ResultStatus.FINAL


@dataclass(frozen=True)
class DncEntry:
    phone: str
    campaign_id: int | None
    """None: the global list."""
    reason: str
    created_at: datetime
    created_by: str
    """As stored: the operator's username, or "session <id>" for a volunteer's Remove Number."""
    added_by: str = ""
    """Who added it, by name: the operator's username or the volunteer's name (read only)."""
    added_by_volunteer: bool = False
    """True when a volunteer added it (Remove Number), False for an operator."""


@dataclass(frozen=True)
class Operator:
    id: int
    username: str
    password_hash: str
