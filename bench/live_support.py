"""What the benches on the real PBX pair share: the carrier's ARI link for the volunteers'
phones, CPU clocks, percentiles, and a simulated volunteer that works its shift through the
HTTP API (bench/live_pacing.py; bench/engine_latency.py uses the clocks and the report)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import resource
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from engine.app import Engine
from engine.ari.client import AriClient, AriSettings
from engine.models import Campaign
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer

Carrier = tuple[AriClient, EventLog]


@contextlib.asynccontextmanager
async def carrier_link(pair: PbxPair) -> AsyncIterator[Carrier]:
    """The carrier simulator's ARI and its event log: what the volunteers' phones need."""
    spec = pair.carrier.spec
    settings = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    async with AriClient.connect(settings) as ari, EventLog.running(ari) as events:
        yield ari, events


def unlimited_http() -> aiohttp.ClientSession:
    """An HTTP client for many simulated volunteers: each holds a WebSocket for its whole
    shift, and aiohttp's default limit of 100 connections would leave the 101st volunteer's
    requests waiting forever (at 120 volunteers the capacity ramp measured that, not the
    engine)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


def process_cpu() -> float:
    """CPU seconds (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def asterisk_cpu(pair: PbxPair) -> float:
    """CPU seconds both Asterisk instances have used."""
    total = 0.0
    for instance in pair.instances:
        fields = Path(f"/proc/{instance.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat: diff two to get a load."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


async def warn_if_busy(seconds: float = 3.0) -> None:
    """Print a warning when other work already keeps the machine's cores busy: the figures
    of a bench on a shared machine are then noisy (timing above all)."""
    busy0, total0 = machine_busy()
    await asyncio.sleep(seconds)
    busy1, total1 = machine_busy()
    cores = os.cpu_count() or 1
    used = cores * (busy1 - busy0) / max(1, total1 - total0)
    if used > 0.3:
        print(
            f"warning: other work keeps {used:.1f} of {cores} cores busy before the bench "
            "starts; timing figures will be noisy"
        )


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method); nan for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report_ms(what: str, values: list[float]) -> str:
    """'what: median, p95 and max in ms (n)' for durations in seconds."""
    if not values:
        return f"{what}: no samples"
    ms = sorted(v * 1e3 for v in values)
    return (
        f"{what}: median {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
        f"max {ms[-1]:.1f} ms (n={len(ms)})"
    )


@dataclass
class Clocks:
    wall: float
    process: float
    asterisk: float
    machine: tuple[float, float]

    @classmethod
    def read(cls, pair: PbxPair) -> Clocks:
        return cls(time.time(), process_cpu(), asterisk_cpu(pair), machine_busy())

    def used(self, pair: PbxPair) -> tuple[float, float, float]:
        """(process, Asterisk, whole machine) CPU since `read`, as shares of one core."""
        now = Clocks.read(pair)
        wall = now.wall - self.wall
        busy = now.machine[0] - self.machine[0]
        total = now.machine[1] - self.machine[1]
        cores = os.cpu_count() or 1
        return (
            (now.process - self.process) / wall,
            (now.asterisk - self.asterisk) / wall,
            cores * busy / total if total else 0.0,
        )


@dataclass
class ApiVolunteer:
    """A volunteer driven through the HTTP API, with the carrier simulator as their phone.

    `work()` takes calls until cancelled: on each voter card (WebSocket `voter` event) it
    talks for `talk()` seconds, ends the call (POST /api/session/end-call; the voter may have
    hung up first), waits for wrap-up, takes `wrap_up()` seconds and posts a result with
    `then: ready` (POST /api/session/result).
    """

    url: str
    token: str
    sim: SimVolunteer
    talk: Callable[[], float]
    wrap_up: Callable[[], float]
    ready_at: list[float] = field(default_factory=list)
    """Wall-clock times this volunteer asked to be ready (start calling, then each result
    saved with `then: ready`), taken just before the request."""
    calls: list[tuple[int, float]] = field(default_factory=list)
    """(attempt id, wall-clock arrival of the voter card)."""
    talking: bool = False
    errors: list[str] = field(default_factory=list)

    @classmethod
    async def sign_in(
        cls,
        engine: Engine,
        http: aiohttp.ClientSession,
        url: str,
        campaign: Campaign,
        n: int,
        rng: random.Random,
        talk: Callable[[random.Random], float],
        wrap_up: Callable[[random.Random], float],
    ) -> ApiVolunteer:
        """Sign up and sign in through the API (phone audio); the phone is not called in yet."""
        signup = await _post(
            http,
            f"{url}/api/signup",
            None,
            name=f"Live {n}",
            email=f"live{n}@bench.example.org",
            phone="+12025550111",
        )
        signin = await _post(
            http,
            f"{url}/api/signin",
            None,
            login_id=signup["login_id"],
            password=signup["password"],
            campaign=campaign.id,
            audio_mode="phone",
        )
        session = await engine.store.get_session(int(signin["session_id"]))
        own = random.Random(rng.random())
        return cls(
            url,
            str(signin["token"]),
            SimVolunteer(engine, session),
            lambda: talk(own),
            lambda: wrap_up(own),
        )

    async def work(self, http: aiohttp.ClientSession) -> None:
        ws_url = self.url.replace("http", "ws", 1) + f"/api/session/events?token={self.token}"
        async with http.ws_connect(ws_url) as ws:
            events: asyncio.Queue[Any] = asyncio.Queue()
            # Read all the time, so the server's pings are answered during a long call.
            reader = asyncio.create_task(_pump(ws, events))
            try:
                await self._shift(http, events)
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def _shift(self, http: aiohttp.ClientSession, events: asyncio.Queue[Any]) -> None:
        self.ready_at.append(time.time())
        await _post(http, f"{self.url}/api/session/ready", self.token)
        while True:
            event = await _next(events, lambda e: e.get("type") == "voter")
            self.calls.append((int(event["attempt_id"]), time.time()))
            self.talking = True
            await asyncio.sleep(self.talk())
            self.talking = False
            status = await _post_status(http, f"{self.url}/api/session/end-call", self.token)
            if status not in (202, 409):
                self.errors.append(f"end-call answered {status}")
            if await self._state() != "wrap-up":
                await _next(events, lambda e: e.get("state") == "wrap-up")
            await asyncio.sleep(self.wrap_up())
            self.ready_at.append(time.time())
            await _post(
                http, f"{self.url}/api/session/result", self.token, term_code="talked", then="ready"
            )

    async def _state(self) -> str:
        return str((await self.sim.refresh()).state)


async def _pump(ws: aiohttp.ClientWebSocketResponse, events: asyncio.Queue[Any]) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            events.put_nowait(message.json())
    events.put_nowait(None)


async def _next(events: asyncio.Queue[Any], wanted: Callable[[Any], bool]) -> Any:
    while True:
        event = await events.get()
        if event is None:
            raise ConnectionError("the session WebSocket closed")
        if wanted(event):
            return event


async def _post(
    http: aiohttp.ClientSession, url: str, token: str | None, **body: Any
) -> dict[str, Any]:
    """POST a JSON body; raises RuntimeError with the API's message unless it succeeded."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(url, json=body or None, headers=headers) as response:
        data: dict[str, Any] = await response.json()
        if response.status >= 300:
            raise RuntimeError(f"POST {url} answered {response.status}: {data}")
        return data


async def _post_status(http: aiohttp.ClientSession, url: str, token: str) -> int:
    async with http.post(url, headers={"Authorization": f"Bearer {token}"}) as response:
        await response.read()
        return response.status


@dataclass
class Sample:
    at: float
    calls: int
    """Outbound calls the engine has going (dialing, in AMD, connecting or connected)."""
    dialer_channels: int
    carrier_channels: int


class ShiftSampler:
    """Counts the engine's calls and both PBXes' channels every `interval` seconds."""

    def __init__(self, engine: Engine, carrier_ari: AriClient, interval: float = 1.0) -> None:
        assert engine.telephony is not None
        self.telephony = engine.telephony
        self.carrier_ari = carrier_ari
        self.interval = interval
        self.samples: list[Sample] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            calls = len(self.telephony.calls.by_channel)
            dialer, carrier = await asyncio.gather(
                self.telephony.ari.list_channels(), self.carrier_ari.list_channels()
            )
            self.samples.append(Sample(time.time(), calls, len(dialer), len(carrier)))
            await asyncio.sleep(self.interval)

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]
