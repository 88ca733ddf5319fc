"""The streaming answering-machine detector offline, frame by frame, on both voice sets.

Builds (or reuses) today's synthetic voices (data/voices.toml: people plain and silent
first, answering machines, carrier voicemail) and the harder set (data/voices-hard.toml)
under build/amd-voices/, feeds every clip through ``StreamingDetector`` 20 ms at a time and
prints, per set and kind, the verdicts; people called MACHINE and machines passed as people
(first verdict, and final after the retraction window); answer → HUMAN and answer → end of
first utterance (the early-connect trigger), median and p95; and CPU per call-second.
Figures go to docs/testbed.md ("The streaming detector").

    .venv/bin/python bench/amd_offline.py [--vad webrtc,silero,energy] [--tradeoff] [--wrong]
"""

from __future__ import annotations

import argparse
import statistics
import time
import wave
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.amd.detector import FRAME_BYTES, FRAME_MS, StreamingAmdSettings, StreamingDetector
from testbed.hard_voices import ensure_hard_voices
from testbed.voices import ensure_voices, load_manifest

ROOT = Path(__file__).resolve().parents[1]
PARENT = ROOT / "build" / "amd-voices"
SILENT_FIRST_S = 1.0
"""Today's survey also calls each person as behaviour 11: one second of silence first."""


TRADEOFF: dict[str, tuple[int | float, ...]] = {
    "silence_human_ms": (0, 1000, 1200, 1500),
    "human_deadline_ms": (1200, 1400, 1600),
    "human_pause_ms": (300, 400, 700),
    "short_greeting_ms": (0, 800),
    "long_greeting_ms": (1800, 2600),
    "quiet_below_speech_db": (12.0, 24.0),
}
"""The thresholds varied one at a time (the others at their defaults) by ``--tradeoff``."""


@dataclass(frozen=True)
class Clip:
    set_name: str
    kind: str
    name: str
    expected: str
    pcm: bytes
    speech_end_s: float | None = None
    """Where the speech ends (the harder set's manifest says; today's does not)."""


@dataclass(frozen=True)
class Outcome:
    clip: Clip
    first: str
    first_cause: str
    first_ms: int | None
    final: str
    final_ms: int | None
    trigger_ms: int | None
    """Audio time when the end of the first utterance became known (early connect)."""
    cpu_s: float
    audio_s: float


def today_clips() -> list[Clip]:
    folder = ensure_voices(ROOT / "data" / "voices.toml", PARENT)
    files = load_manifest(folder)["files"]
    talk = [f for f in files if f["kind"] == "talk"]
    clips = []
    for f in files:
        pcm = _pcm(folder / f"{f['kind']}-{f['index']}.wav")
        if f["kind"] == "person":
            # The carrier plays the greeting (with its 4 s pause), then the person talks.
            pcm += _pcm(folder / f"talk-{talk[f['index'] % len(talk)]['index']}.wav")
            name = f"person-{f['index']}"
            clips.append(Clip("today", "person", name, "HUMAN", pcm))
            quiet = bytes(int(SILENT_FIRST_S * 8000) * 2)
            clips.append(Clip("today", "person-silent-first", name, "HUMAN", quiet + pcm))
        elif f["kind"] in ("machine", "carriervm"):
            name = f"{f['kind']}-{f['index']}"
            clips.append(Clip("today", f["kind"], name, "MACHINE", pcm))
    return clips


def hard_clips() -> list[Clip]:
    folder = ensure_hard_voices(ROOT / "data" / "voices-hard.toml", PARENT)
    return [
        Clip(
            "hard",
            f["kind"],
            f"{f['kind']}-{f['index']}",
            f["expected"],
            _pcm(folder / f"{f['kind']}-{f['index']}.wav"),
            f["speech_end"],
        )
        for f in load_manifest(folder)["files"]
    ]


def _pcm(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        pcm: bytes = w.readframes(w.getnframes())
    return pcm


def run(clip: Clip, settings: StreamingAmdSettings) -> Outcome:
    pcm = clip.pcm + bytes(2 * 8 * (settings.max_analysis_ms + settings.retract_ms + 1000))
    detector = StreamingDetector(settings)
    decisions, trigger_ms, frames = [], None, 0
    started = time.process_time()
    for start in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
        decision = detector.feed(pcm[start : start + FRAME_BYTES])
        frames += 1
        if decision is not None:
            decisions.append(decision)
        if trigger_ms is None and detector.first_utterance_end_ms is not None:
            trigger_ms = frames * FRAME_MS
        if detector.finished:
            break
    cpu = time.process_time() - started
    first = decisions[0] if decisions else None
    return Outcome(
        clip,
        first.verdict if first else "NONE",
        first.cause if first else "",
        first.at_ms if first else None,
        decisions[-1].verdict if decisions else "NONE",
        decisions[-1].at_ms if decisions else None,
        trigger_ms,
        cpu,
        frames * FRAME_MS / 1000,
    )


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


Figures = dict[str, float | int | None]


def summary(outcomes: list[Outcome]) -> Figures:
    people = [o for o in outcomes if o.clip.expected == "HUMAN"]
    machines = [o for o in outcomes if o.clip.expected == "MACHINE"]
    human_s = [o.first_ms / 1000 for o in people if o.first == "HUMAN" and o.first_ms]
    trigger_s = [o.trigger_ms / 1000 for o in people if o.trigger_ms]
    after_speech_s = [
        o.first_ms / 1000 - o.clip.speech_end_s
        for o in people
        if o.first == "HUMAN" and o.first_ms and o.clip.speech_end_s
    ]
    cpu = sum(o.cpu_s for o in outcomes) / sum(o.audio_s for o in outcomes)
    return {
        "clips": len(outcomes),
        "right_first_pct": _pct(sum(o.first == o.clip.expected for o in outcomes), len(outcomes)),
        "people_machine_first": sum(o.first == "MACHINE" for o in people),
        "people_machine_final": sum(o.final == "MACHINE" for o in people),
        "people_notsure": sum(o.first == "NOTSURE" for o in people),
        "machines_human_first_pct": _pct(sum(o.first == "HUMAN" for o in machines), len(machines)),
        "machines_human_final_pct": _pct(sum(o.final == "HUMAN" for o in machines), len(machines)),
        "machines_notsure": sum(o.first == "NOTSURE" for o in machines),
        "human_median_s": _round(quantile(human_s, 0.5)),
        "human_p95_s": _round(quantile(human_s, 0.95)),
        "human_after_speech_median_s": _round(quantile(after_speech_s, 0.5)),
        "trigger_median_s": _round(quantile(trigger_s, 0.5)),
        "trigger_p95_s": _round(quantile(trigger_s, 0.95)),
        **taken_back(machines),
        **early_connect(people, machines),
        "cpu_ms_per_call_s": round(1000 * cpu, 3),
    }


def taken_back(machines: list[Outcome]) -> Figures:
    """Machines put through on a first HUMAN verdict and taken back by the retraction: how
    many, and how long the volunteer heard them (first verdict → retraction)."""
    heard_s = [
        (o.final_ms - o.first_ms) / 1000
        for o in machines
        if o.first == "HUMAN" and o.final == "MACHINE" and o.final_ms and o.first_ms
    ]
    return {
        "taken_back_pct": _pct(len(heard_s), len(machines)),
        "taken_back_heard_median_s": _round(quantile(heard_s, 0.5)),
        "taken_back_heard_max_s": _round(max(heard_s, default=None)),
    }


def early_connect(people: list[Outcome], machines: list[Outcome]) -> Figures:
    """The volunteer joins at the trigger; a machine is heard until it is retracted."""
    bridged = [o for o in machines if o.trigger_ms is not None]
    heard_s = [
        (o.final_ms - o.trigger_ms) / 1000
        for o in bridged
        if o.final == "MACHINE" and o.final_ms and o.trigger_ms
    ]
    saved_s = [
        (o.first_ms - o.trigger_ms) / 1000
        for o in people
        if o.first == "HUMAN" and o.first_ms and o.trigger_ms
    ]
    kept = sum(o.final != "MACHINE" for o in bridged)
    return {
        "early_machines_bridged_pct": _pct(len(bridged), len(machines)),
        "early_machines_kept_pct": _pct(kept, len(machines)),
        "early_machine_heard_median_s": _round(quantile(heard_s, 0.5)),
        "early_saved_median_s": _round(quantile(saved_s, 0.5)),
    }


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def per_kind(outcomes: list[Outcome]) -> None:
    print(f"  {'set':6} {'kind':22} {'n':>3}  first verdicts            final verdicts")
    kinds = sorted({(o.clip.set_name, o.clip.kind) for o in outcomes})
    for set_name, kind in kinds:
        these = [o for o in outcomes if (o.clip.set_name, o.clip.kind) == (set_name, kind)]
        first = Counter(o.first for o in these)
        final = Counter(o.final for o in these)
        print(
            f"  {set_name:6} {kind:22} {len(these):3}  "
            f"{_counts(first):24} {_counts(final)}   (expect {these[0].clip.expected})"
        )


def _counts(counter: Counter[str]) -> str:
    return " ".join(f"{verdict[0]}={n}" for verdict, n in sorted(counter.items()))


def print_summary(label: str, outcomes: list[Outcome]) -> None:
    for set_name in ("today", "hard", "both"):
        these = [o for o in outcomes if set_name in ("both", o.clip.set_name)]
        figures = "  ".join(f"{k}={v}" for k, v in summary(these).items())
        print(f"{label:34} {set_name:5} {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vad", default="webrtc,silero,energy")
    parser.add_argument("--tradeoff", action="store_true", help="also vary the thresholds")
    parser.add_argument("--wrong", action="store_true", help="list every wrong first verdict")
    parser.add_argument("--repeat", type=int, default=1, help="runs per clip; CPU is the least")
    args = parser.parse_args()
    clips = today_clips() + hard_clips()
    base = StreamingAmdSettings()
    variants: list[tuple[str, StreamingAmdSettings]] = []
    for vad in args.vad.split(","):
        variants.append((f"vad={vad}", StreamingAmdSettings.from_mapping({"vad": vad})))
    if args.tradeoff:
        for key, values in TRADEOFF.items():
            for value in values:
                table = {**asdict(base), key: value}
                variants.append((f"{key}={value}", StreamingAmdSettings.from_mapping(table)))
    for label, settings in variants:
        outcomes = [
            min((run(clip, settings) for _ in range(args.repeat)), key=lambda o: o.cpu_s)
            for clip in clips
        ]
        print(f"== {label}")
        per_kind(outcomes)
        print_summary(label, outcomes)
        if args.wrong:
            for o in outcomes:
                if o.first != o.clip.expected or o.final != o.clip.expected:
                    print(
                        f"   wrong: {o.clip.set_name}/{o.clip.name}: {o.first} {o.first_cause}"
                        f" at {o.first_ms} ms, final {o.final} (expect {o.clip.expected})"
                    )


if __name__ == "__main__":
    main()
