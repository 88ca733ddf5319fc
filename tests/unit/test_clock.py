"""`now()` is declared once: engine/clock.py's utc_now is the product's one clock (issue 12)."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from pathlib import Path

from engine.clock import utc_now

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("engine", "web", "phonebank")
OWN_CLOCK = re.compile(r"datetime\.(now|utcnow)\(|def (utc_?now|now_utc|_now)\(\)")


def test_utc_now_is_aware_and_in_utc() -> None:
    now = utc_now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert now.tzinfo == UTC


def test_no_product_module_reads_or_declares_a_clock_of_its_own() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "engine" / "clock.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if OWN_CLOCK.search(line)
    ]
    assert offenders == []
