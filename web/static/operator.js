// phonebank: the operator's pages. Plain JavaScript, no build. Each feature starts only
// when its elements are on the page.
"use strict";

// The page's CSRF token comes in a data attribute of this script's tag: the
// Content-Security-Policy allows no inline script.
const csrfToken = document.currentScript?.dataset.csrf
  || document.querySelector("script[data-csrf]")?.dataset.csrf || "";
const csrf = () => csrfToken;
const $ = (id) => document.getElementById(id);

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function socketUrl(path) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

// --- copy the team link -------------------------------------------------------------------
for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = $(button.dataset.copy);
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      $("copy-status").textContent = "Copied.";
    } catch {
      $("copy-status").textContent = "Press Ctrl+C (or ⌘C) to copy the selected link.";
    }
  });
}

// --- live script preview (server-rendered in the sandbox, debounced) ----------------------
const scriptBox = document.querySelector("textarea[data-preview]");
if (scriptBox) {
  const target = $(scriptBox.dataset.preview);
  const problems = $("script-problems");
  let timer = null;
  let seq = 0;
  scriptBox.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      const response = await fetch("/operator/script-preview", {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf(), "Accept": "application/json"},
        body: JSON.stringify({script: scriptBox.value}),
      });
      if (!response.ok || mine !== seq) return;
      const data = await response.json();
      target.innerHTML = data.html; // rendered and escaped by the server's sandbox
      problems.replaceChildren(...data.problems.map((p) => el("li", p)));
    }, 300);
  });
}

// --- survey JSON check ---------------------------------------------------------------------
for (const box of document.querySelectorAll("textarea[data-json-check]")) {
  const out = $(box.dataset.jsonCheck);
  box.addEventListener("input", () => {
    try {
      const value = JSON.parse(box.value || "[]");
      out.textContent = Array.isArray(value) ? "" : "The survey must be a list: [ … ]";
    } catch (err) {
      out.textContent = "Not valid JSON yet: " + err.message;
    }
  });
}

// --- voter list upload: operator-import.js -------------------------------------------------

function countList(counts) {
  const list = el("dl", null, {class: "counts"});
  list.replaceChildren(...Object.entries(counts).map(([k, n]) => {
    const div = el("div");
    div.append(el("dt", k), el("dd", n));
    return div;
  }));
  return list;
}

// --- live dashboard -----------------------------------------------------------------------------
const board = $("dashboard");
if (board) setUpDashboard(board);

function setUpDashboard(root) {
  const status = $("live-status");
  let pending = null;
  const refresh = async () => {
    const response = await fetch(root.dataset.stats, {headers: {"Accept": "application/json"}});
    if (response.status === 401) { location.reload(); return; }
    if (response.ok) showStats(await response.json());
  };
  const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 500); };
  const connect = () => {
    const socket = new WebSocket(socketUrl(root.dataset.events));
    socket.addEventListener("open", () => { status.textContent = "Live: updates as calls happen."; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "telephony") {
        $("telephony-notice").textContent = event.message;
        $("telephony-notice").hidden = false;
        $("telephony-notice").classList.toggle("error", !event.available);
      } else if (event.type === "dialing") {
        showDialingHeld(event);
      }
      soon();
    });
    socket.addEventListener("close", (event) => {
      // 1008: this sign-in ended (logged out elsewhere, or the operator was removed)
      if (event.code === 1008) { status.textContent = event.reason; location.reload(); return; }
      status.textContent = "Live updates lost; reconnecting…";
      setTimeout(connect, 3000);
    });
  };
  refresh();
  connect();
  setInterval(refresh, 10000);
}

function showDialingHeld(dialing) {
  // on load: say so when dialing is held (PBX away, trunk down), since the live events
  // only tell of changes; a notice of an outage that is over is taken down
  const notice = $("telephony-notice");
  if (!notice || !dialing) return;
  if (dialing.paused) {
    notice.textContent = dialing.message;
    notice.hidden = false;
    notice.classList.add("error");
  } else if (notice.classList.contains("error")) {
    notice.hidden = true;
  }
}

function setStat(name, value) {
  for (const node of document.querySelectorAll(`[data-stat="${name}"]`)) node.textContent = value;
}

function showStats(s) {
  showDialingHeld(s.dialing);
  const v = s.volunteers;
  setStat("waiting", (v.ready || 0) + (v.connected || 0));
  setStat("previewing", (v.previewing || 0) + (v.ringing || 0));
  for (const name of ["talking", "wrap-up", "paused", "waiting for phone", "phone disconnected"]) {
    setStat(name, v[name] || 0);
  }
  setStat("lines_in_flight", s.lines_in_flight);
  setStat("contacts_last_hour", s.contacts_last_hour);
  setStat("attempts_last_hour", s.attempts_last_hour);
  setStat("abandon_rate_today", s.abandon_rate_today + "%");
  setStat("abandon_rate_30_days", s.abandon_rate_30_days + "%");
  showPacing(s);
  const total = Object.values(s.voters).reduce((a, b) => a + b, 0);
  const finished = (s.voters.done || 0) + (s.voters["do not call"] || 0);
  const bar = $("list-progress");
  bar.max = Math.max(1, total);
  bar.value = finished;
  $("list-progress-text").textContent = total
    ? `${finished} of ${total} voters finished (${Math.round((100 * finished) / total)}%).`
    : "No voters yet: upload a list on the Voter list tab.";
  $("voter-counts").replaceChildren(...countList(s.voters).children);
  drawChart(s.hours, s.contacts_per_hour);
}

const DIAL_MODE_NAMES = {
  predictive: "Predictive dialing",
  power: "Power dialing",
  adaptive: "Adaptive (VICIdial-style) dialing",
  preview: "Preview dialing: volunteers place each call",
};

function showPacing(s) {
  const known = (x) => x !== null && x !== undefined;
  const seconds = (x) => (known(x) ? `${Math.round(x)} s` : "–");
  const learned = (s.pacing && s.pacing.learned) || {};
  const automatic = s.abandons_allowed_now !== null;
  const steers = s.dial_mode === "predictive" || s.dial_mode === "adaptive";
  $("pacing-mode").textContent = (DIAL_MODE_NAMES[s.dial_mode] || s.dial_mode) + ". " +
    (!automatic ? "Preview calls are never abandoned."
      : steers ? `Aims at ${s.abandon_target}% abandons; never above ${s.abandon_limit}%.`
        : `Never above ${s.abandon_limit}% abandons.`) +
    (known(learned.calls_seen) ? ` Learned from ${learned.calls_seen} calls.` : "");
  setStat("abandon_target", steers ? s.abandon_target + "%" : "–");
  setStat("abandons_30_days", `${s.abandons_30_days} of ${s.live_answers_30_days} answers`);
  setStat("abandons_allowed_now", automatic ? s.abandons_allowed_now : "–");
  setStat("learned_contact_rate", known(learned.contact_rate) ? learned.contact_rate + "% of calls" : "–");
  setStat("learned_talk", seconds(learned.talk_seconds));
  setStat("learned_wrap_up", seconds(learned.wrap_up_seconds));
  const last = s.pacing && s.pacing.last_decision;
  let text = automatic ? "The dialer starts pacing when a volunteer is ready." : "";
  if (last && last.placed !== undefined) {
    text = `Last decision: ${last.ready} ready, ${last.talking} talking, ${last.wrap_up} in wrap-up; ` +
      `${last.ringing} ringing, ${last.in_amd} in answering-machine detection; placed ${last.placed}.`;
  }
  if (automatic && s.abandons_allowed_now === 0) {
    text = "The abandon budget is spent: one line per ready volunteer until answered calls earn it back. " + text;
  }
  $("pacing-text").textContent = text;
}

function drawChart(hours, values) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 360, height = 150, bottom = 18, top = 14;
  const max = Math.max(1, ...values);
  const step = width / values.length;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("aria-hidden", "true");
  values.forEach((value, i) => {
    const h = ((height - bottom - top) * value) / max;
    const bar = document.createElementNS(ns, "rect");
    bar.setAttribute("class", "bar");
    bar.setAttribute("x", String(i * step + 3));
    bar.setAttribute("y", String(height - bottom - h));
    bar.setAttribute("width", String(step - 6));
    bar.setAttribute("height", String(h));
    svg.append(bar);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("class", "label");
    label.setAttribute("x", String(i * step + step / 2));
    label.setAttribute("y", String(height - 5));
    label.setAttribute("text-anchor", "middle");
    label.textContent = hours[i].slice(0, 2);
    svg.append(label);
    if (value) {
      const text = document.createElementNS(ns, "text");
      text.setAttribute("class", "value");
      text.setAttribute("x", String(i * step + step / 2));
      text.setAttribute("y", String(height - bottom - h - 3));
      text.setAttribute("text-anchor", "middle");
      text.textContent = String(value);
      svg.append(text);
    }
  });
  $("chart").replaceChildren(svg);
  const total = values.reduce((a, b) => a + b, 0);
  $("chart-text").textContent = `${total} contact${total === 1 ? "" : "s"} in the last ${values.length} hours (UTC hours); ${values[values.length - 1]} this hour.`;
}
