"""`phonebank run` tells every page when the dialer PBX is being restarted (the engine says
when it is back); the carrier simulator restarting is not the volunteers' phone system."""

from types import SimpleNamespace
from typing import Any, cast

from phonebank.serve import PBX_RESTARTING, _tell_pages


class RecordingTelephony:
    def __init__(self) -> None:
        self.said: list[tuple[bool, str]] = []

    def notify(self, *, available: bool, message: str) -> None:
        self.said.append((available, message))


def test_a_dialer_restart_is_announced_on_every_page() -> None:
    telephony = RecordingTelephony()
    tell = _tell_pages(cast(Any, SimpleNamespace(telephony=telephony)))
    tell("dialer", "restarting")
    assert telephony.said == [(False, PBX_RESTARTING)]


def test_a_carrier_restart_is_not_announced_as_the_phone_system() -> None:
    telephony = RecordingTelephony()
    tell = _tell_pages(cast(Any, SimpleNamespace(telephony=telephony)))
    tell("carrier", "restarting")
    assert telephony.said == []
