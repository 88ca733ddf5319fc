"""Keep every half hour under 5 % abandons (a campaign setting, `half_hour_guard`): how far
the predictive policy's θ is cut when the last 30 minutes run short of abandons to spend.

The 30-day rule (engine/dialer/pacing/base.py `AbandonGuard`, the θ steering of
`PredictivePacing`) holds a campaign's average; a small team's half hour holds only 50 to 150
live answers, so 5 % of it is 3 to 7 abandons, and one burst (several people answering while
every volunteer talks) breaks it. The guard budgets the abandons the current half hour can
still take,

    budget = limit × (its live answers + the live answers expected in flight)
             − its abandons − margin,

and while that is negative cuts θ by exp(gain × budget): the policy over-dials less the
further the window is over, and as answers come in (or old abandons leave the window) θ
returns to what the 30-day steering asks. bench/pacing measured the variants tried
(docs/performance.md, "Drifting worlds"). No I/O here.
"""

from __future__ import annotations

import math

HALF_HOUR_S = 1800.0
"""The window the limit holds over."""
HALF_HOUR_LIMIT = 0.05
"""The most any half hour may abandon, as a share of its live answers."""
HALF_HOUR_MARGIN = 8.0
"""Abandons kept in hand: bursts of several at once, the counts' delay (read every 10 s) and
the windows still to come, which keep today's abandons for 30 minutes. bench.pacing.guards:
with a margin of 4 or 6 some half hour still reached 5.2–6.0 % at 10 volunteers; 8 kept
every one under 4.2 %."""
HALF_HOUR_GAIN = 2.0
"""θ is divided by e² for each abandon the half hour is short of its margin."""


def half_hour_budget(
    window_live_answers: int,
    window_abandons: int,
    live_in_flight: float,
    limit: float = HALF_HOUR_LIMIT,
    margin: float = HALF_HOUR_MARGIN,
) -> float:
    """Abandons the current half hour can still take (negative when short): `limit` of its
    live answers and of those expected from the calls in flight, less its abandons and
    `margin`."""
    return limit * (window_live_answers + live_in_flight) - window_abandons - margin


def half_hour_factor(budget: float, gain: float = HALF_HOUR_GAIN) -> float:
    """What θ is multiplied by: 1 while the half hour's budget is not short, exp(gain ×
    budget) when it is."""
    return math.exp(gain * min(0.0, budget))
