"""Helpers for the browser tests: layout checks and the voter card's timing."""

from __future__ import annotations

from playwright.async_api import Page

from engine.app import Engine

WIDTHS = (375, 1280)
"""A phone and a laptop screen."""

LAYOUT_PROBLEMS = """() => {
  const doc = document.documentElement;
  const problems = [];
  if (doc.scrollWidth > doc.clientWidth) {
    problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
  }
  for (const node of document.body.querySelectorAll("*")) {
    if (node.closest(".skip-link") || node.closest("[hidden]")) continue;
    const style = getComputedStyle(node);
    if (style.display === "none" || style.visibility === "hidden") continue;
    const box = node.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > doc.clientWidth + 0.5 || box.left < -0.5) {
      const name = `${node.tagName}#${node.id}.${node.className}`;
      problems.push(`${name} sticks out: ${box.left}..${box.right}`);
    }
    const clips = ["hidden", "clip"].includes(style.overflowX);
    if (clips && !["INPUT", "SELECT", "TEXTAREA"].includes(node.tagName)
        && node.scrollWidth > node.clientWidth + 1) {
      problems.push(`${node.tagName}#${node.id} cuts off its content`);
    }
  }
  return problems;
}"""


async def assert_fits(page: Page, widths: tuple[int, ...] = WIDTHS) -> None:
    """At each width the page neither scrolls sideways nor cuts anything off; the viewport
    is put back afterwards."""
    original = page.viewport_size or {"width": 1280, "height": 800}
    for width in widths:
        await page.set_viewport_size({"width": width, "height": original["height"]})
        await page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
        problems = await page.evaluate(LAYOUT_PROBLEMS)
        assert not problems, f"{page.url} at {width}px: {problems}"
    await page.set_viewport_size(original)


async def card_latency(page: Page, engine: Engine, previous: int = 0) -> tuple[int, float]:
    """The attempt on the card and the seconds from the voter joining the bridge to the page
    painting their card; waits for a card other than attempt ``previous``."""
    await page.wait_for_function(
        "prev => (document.getElementById('voter-card').dataset.attemptId || '0') !== String(prev)",
        arg=previous,
    )
    card = page.locator("#voter-card")
    attempt_id = int(await card.get_attribute("data-attempt-id") or 0)
    shown_at = float(await card.get_attribute("data-shown-at") or 0) / 1000
    attempt = await engine.store.get_attempt(attempt_id)
    assert attempt.bridged_at is not None
    return attempt_id, shown_at - attempt.bridged_at.timestamp()
