"""Named exceptions raised by the engine. Each message is a sentence an operator can act on."""


class PhonebankError(Exception):
    """Base class: something the operator must fix; the message says what and how."""


class ConfigError(PhonebankError):
    """A configuration value is missing or invalid."""


class SetupError(PhonebankError):
    """The machine lacks something phonebank needs (a package, the Asterisk rootfs, a free port)."""


class PbxStartError(PhonebankError):
    """An Asterisk instance failed to start or to become healthy."""


class AriError(PhonebankError):
    """Asterisk's REST interface answered with an unexpected error."""


class AriNotFound(AriError):
    """The channel, bridge or other ARI object no longer exists (HTTP 404): a hangup race."""


class AriUnauthorized(AriError):
    """ARI refused the credentials (HTTP 401)."""


class AriUnavailable(AriError):
    """ARI could not be reached (connection refused or reset)."""


class NotFound(PhonebankError):
    """The campaign, voter, session or other record does not exist."""


class Conflict(PhonebankError):
    """The change would break a uniqueness rule (a name or PIN already taken)."""


class SessionMoved(Conflict):
    """A session's state or phone changed between reading it and writing a change computed
    from it (engine/sessions/ledger.py reads it again and applies its event to what it is
    now)."""


class InvalidInput(PhonebankError):
    """A request or file is malformed; the message says which field and why."""


class LoginFailed(PhonebankError):
    """Wrong Login ID or password; the message says what to check."""


class RateLimited(PhonebankError):
    """Too many failed attempts; the message says how long to wait."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotAllowed(PhonebankError):
    """The action does not fit the session's current state (e.g. a result with no call)."""


class ClusterUnavailable(PhonebankError):
    """The other engines cannot be reached (the database behind the event bus is down)."""


class RemoteCallFailed(PhonebankError):
    """The engine that drives a node did not answer in time, or failed to do the action."""
