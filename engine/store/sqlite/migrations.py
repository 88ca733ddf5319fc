"""Numbered schema migrations, applied in order and recorded in the ``migrations`` table.

Append new migrations to MIGRATIONS (an SQL script or a function taking the Database); never
edit one that has shipped. Version n is MIGRATIONS[n - 1]. Each migration runs in its own
BEGIN IMMEDIATE transaction together with its record, so two processes opening the same new
database cannot both apply it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlite_utils import Database

from engine.errors import SetupError
from engine.store.sqlite.base import immediate
from engine.store.sqlite.budget_schema import V8_LIVE_ANSWER_COUNTS
from engine.store.sqlite.rows import to_iso

Migration = str | Callable[[Database], None]

_V1_SCHEMA = """
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,  -- trimmed and case-folded name
    script TEXT NOT NULL,
    survey TEXT NOT NULL,           -- JSON list of questions
    term_codes TEXT NOT NULL,       -- JSON list of {code, label, kind}
    caller_id TEXT NOT NULL,
    dial_mode TEXT NOT NULL,
    lines_per_volunteer INTEGER NOT NULL,
    calling_hours_start TEXT NOT NULL,
    calling_hours_end TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    retry_minutes INTEGER NOT NULL,
    abandon_message TEXT NOT NULL,
    voicemail_message TEXT NOT NULL,
    connect_notsure INTEGER NOT NULL,
    hold_music INTEGER NOT NULL,
    dnc_scope TEXT NOT NULL,
    wrapup_seconds INTEGER NOT NULL,
    ring_seconds INTEGER NOT NULL,
    amd_args TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at TEXT
);

CREATE TABLE voters (
    id INTEGER PRIMARY KEY,         -- import order
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    phone TEXT NOT NULL,            -- E.164
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    address TEXT NOT NULL,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    zip TEXT NOT NULL,
    party TEXT NOT NULL,
    age INTEGER,
    extra TEXT NOT NULL,            -- JSON object of unknown CSV columns
    timezone TEXT NOT NULL,         -- IANA zone, '' unknown
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT,
    source_line INTEGER,
    UNIQUE (campaign_id, phone)
);
CREATE INDEX voters_callable ON voters (campaign_id, status, next_attempt_at);
CREATE INDEX voters_phone ON voters (phone);

CREATE TABLE volunteers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    phone TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE logins (
    login_id TEXT PRIMARY KEY COLLATE NOCASE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    audio_mode TEXT NOT NULL,
    pin TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    state_since TEXT NOT NULL,
    channel_id TEXT,
    bridge_id TEXT,
    attempt_id INTEGER REFERENCES attempts(id),
    wrapup_deadline TEXT,
    created_at TEXT,
    ended_at TEXT,
    end_reason TEXT NOT NULL
);
-- A PIN identifies one live session (logged-out sessions keep theirs for the record).
CREATE UNIQUE INDEX sessions_live_pin ON sessions (pin) WHERE state != 'logged out';
CREATE INDEX sessions_pin ON sessions (pin);

CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    voter_id INTEGER NOT NULL REFERENCES voters(id),
    phone TEXT NOT NULL,
    state TEXT NOT NULL,
    session_id INTEGER REFERENCES sessions(id),
    channel_id TEXT,
    claimed_at TEXT,
    originated_at TEXT,
    answered_at TEXT,
    amd_verdict TEXT NOT NULL,
    amd_cause TEXT NOT NULL,
    amd_at TEXT,
    bridged_at TEXT,
    ended_at TEXT,
    hangup_cause INTEGER,
    outcome TEXT
);
CREATE INDEX attempts_channel ON attempts (channel_id);
CREATE INDEX attempts_campaign_ended ON attempts (campaign_id, ended_at);
CREATE INDEX attempts_open ON attempts (id) WHERE state != 'ended';

CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    attempt_id INTEGER NOT NULL UNIQUE REFERENCES attempts(id),
    voter_id INTEGER NOT NULL REFERENCES voters(id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
    term_code TEXT NOT NULL,
    answers TEXT NOT NULL,          -- JSON object
    notes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX results_campaign ON results (campaign_id);

CREATE TABLE result_history (
    id INTEGER PRIMARY KEY,
    result_id INTEGER NOT NULL REFERENCES results(id),
    edited_at TEXT NOT NULL,
    version TEXT NOT NULL           -- JSON: the result as it was before this edit
);
CREATE INDEX result_history_result ON result_history (result_id);

CREATE TABLE dnc (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    campaign_id INTEGER REFERENCES campaigns(id),  -- NULL: the global list
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX dnc_phone ON dnc (phone, coalesce(campaign_id, 0));

CREATE TABLE operators (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL            -- JSON object
);
"""

_V2_PACING = """
-- Issue 6: pacing modes, the abandon target, mobile numbers and what pacing has learned.
ALTER TABLE campaigns ADD COLUMN max_lines_per_volunteer INTEGER NOT NULL DEFAULT 12;
ALTER TABLE campaigns ADD COLUMN abandon_target REAL NOT NULL DEFAULT 2.7;  -- percent
ALTER TABLE campaigns ADD COLUMN mobile_dial_mode TEXT NOT NULL DEFAULT '';  -- '': as dial_mode
ALTER TABLE campaigns ADD COLUMN unknown_lines_as_mobile INTEGER NOT NULL DEFAULT 1;
ALTER TABLE voters ADD COLUMN line_type TEXT NOT NULL DEFAULT '';  -- mobile, landline, ''
CREATE TABLE pacing_models (
    campaign_id INTEGER PRIMARY KEY REFERENCES campaigns(id),
    learned TEXT NOT NULL,          -- JSON: engine.dialer.pacing.learning.Learned
    updated_at TEXT NOT NULL
);
"""

_V3_OPEN_ATTEMPTS = """
-- Issue 12: the dashboard and pacing count a campaign's calls in flight without reading all
-- of its attempts (queries say `campaign_id = ? AND state != 'ended'` to use it).
CREATE INDEX attempts_campaign_open ON attempts (campaign_id, state) WHERE state != 'ended';
-- The dashboard's and pacing's counts over a time window read only this index.
CREATE INDEX attempts_campaign_window
    ON attempts (campaign_id, ended_at, outcome, amd_verdict, state);
"""

_V4_EXPERIENCE = """
-- Issue 14: results saved as they are typed, the wrap-up deadline that pauses instead of
-- logging out, and the campaign's own time zone for the dashboard and the results.
ALTER TABLE campaigns ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';  -- IANA; '': see models
-- 0: never
ALTER TABLE campaigns ADD COLUMN logout_after_missed_wrapups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN status TEXT NOT NULL DEFAULT 'final';  -- draft, final, timed out
ALTER TABLE sessions ADD COLUMN missed_wrapups INTEGER NOT NULL DEFAULT 0;
-- Per-volunteer tallies and the results report filtered by volunteer and date.
CREATE INDEX results_campaign_volunteer ON results (campaign_id, volunteer_id, created_at);
"""

_V5_NODES = """
-- Issue 16: the dialer node a session's phone or browser leg lives on ('' before one is
-- chosen, and on databases from before several nodes).
ALTER TABLE sessions ADD COLUMN node TEXT NOT NULL DEFAULT '';
"""

_V6_STREAMING_AMD = """
-- Issue 17: the engine's own streaming answering-machine detector, chosen per campaign.
ALTER TABLE campaigns ADD COLUMN amd_engine TEXT NOT NULL DEFAULT '';  -- '': amd.engine
ALTER TABLE campaigns ADD COLUMN amd_thresholds TEXT NOT NULL DEFAULT '{}';  -- JSON object
ALTER TABLE campaigns ADD COLUMN early_connect INTEGER NOT NULL DEFAULT 0;
-- Early connect put a machine through to a volunteer before it was recognised.
ALTER TABLE attempts ADD COLUMN heard_machine INTEGER NOT NULL DEFAULT 0;
"""

_V7_HALF_HOUR_GUARD = """
-- Issue 15: predictive pacing may also keep every half hour under 5 % abandons.
ALTER TABLE campaigns ADD COLUMN half_hour_guard INTEGER NOT NULL DEFAULT 0;
"""

MIGRATIONS: tuple[Migration, ...] = (
    _V1_SCHEMA,
    _V2_PACING,
    _V3_OPEN_ATTEMPTS,
    _V4_EXPERIENCE,
    _V5_NODES,
    _V6_STREAMING_AMD,
    _V7_HALF_HOUR_GUARD,
    V8_LIVE_ANSWER_COUNTS,
)


def migrate(
    db: Database,
    now: datetime,
    name: str = "the database",
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[int]:
    """Apply the migrations this database lacks, in order; return the versions applied.

    Raises SetupError if the database was written by a newer phonebank (it has versions this
    code does not know)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS migrations "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    newest = schema_version(db)
    if newest > len(migrations):
        raise SetupError(newer_schema(name, newest, len(migrations)))
    applied = []
    for version, migration in enumerate(migrations, start=1):
        if version <= newest:
            continue
        with immediate(db.conn):
            # Another process may have applied it while we waited for the lock.
            done = db.execute("SELECT 1 FROM migrations WHERE version = ?", [version]).fetchone()
            if done:
                continue
            if isinstance(migration, str):
                db.executescript(migration)
            else:
                migration(db)
            db.execute(
                "INSERT INTO migrations (version, applied_at) VALUES (?, ?)", [version, to_iso(now)]
            )
        applied.append(version)
    return applied


def schema_version(db: Database) -> int:
    """The newest migration applied to the database (0: none, or no migrations table)."""
    if "migrations" not in db.table_names():
        return 0
    return int(db.execute("SELECT max(version) FROM migrations").fetchone()[0] or 0)


def newer_schema(name: str, version: int, known: int = len(MIGRATIONS)) -> str:
    """The sentence for a database written by a newer phonebank than this one."""
    return (
        f"{name} was written by a newer phonebank (schema {version}; this one knows up to"
        f" {known}): upgrade phonebank or restore a backup."
    )
