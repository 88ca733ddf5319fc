// phonebank: the operator's live dashboard (after operator.js, whose $, el, socketUrl and
// countList it uses). Stats come from GET …/stats, refreshed when the campaign's events say
// something changed; the per-volunteer table ticks its "for how long" every second.
"use strict";

const board = $("dashboard");
if (board) setUpDashboard(board);

const STATE_WORDS = {
  "waiting for phone": "Waiting for phone",
  "connected": "Connected, not ready",
  "ready": "Ready",
  "previewing": "Previewing a voter",
  "ringing": "Calling a voter",
  "talking": "Talking",
  "wrap-up": "Wrap-up",
  "paused": "On break",
  "phone disconnected": "Phone disconnected",
};
const number = new Intl.NumberFormat("en-US");

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
      } else if (event.type === "availability") {
        showAvailability(event);
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
  setInterval(tickVolunteers, 1000);
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

function showAvailability(availability) {
  // issue 14 item 2: why nobody can be called, with the voters by reason
  const panel = $("availability");
  const idle = Boolean(availability && availability.idle);
  panel.hidden = !idle;
  if (!idle) return;
  $("availability-message").textContent = availability.message;
  for (const node of panel.querySelectorAll("[data-idle]")) {
    node.textContent = number.format(availability.counts[node.dataset.idle] || 0);
  }
}

function setStat(name, value) {
  const text = typeof value === "number" ? number.format(value) : value;
  for (const node of document.querySelectorAll(`[data-stat="${name}"]`)) node.textContent = text;
}

function showStats(s) {
  showDialingHeld(s.dialing);
  showAvailability(s.availability);
  const v = s.volunteers;
  setStat("waiting", (v.ready || 0) + (v.connected || 0));
  setStat("previewing", (v.previewing || 0) + (v.ringing || 0));
  for (const name of ["talking", "wrap-up", "paused", "waiting for phone", "phone disconnected"]) {
    setStat(name, v[name] || 0);
  }
  showVolunteers(s.volunteers_on_shift || []);
  setStat("lines_in_flight", s.lines_in_flight);
  setStat("contacts_last_hour", s.contacts_last_hour);
  setStat("calls_placed_last_hour", s.calls_placed_last_hour);
  setStat("abandon_rate_today", s.abandon_rate_today + "%");
  setStat("abandon_rate_30_days", s.abandon_rate_30_days + "%");
  showPacing(s);
  const total = Object.values(s.voters).reduce((a, b) => a + b, 0);
  const finished = (s.voters.done || 0) + (s.voters["do not call"] || 0);
  const bar = $("list-progress");
  bar.max = Math.max(1, total);
  bar.value = finished;
  $("list-progress-text").textContent = total
    ? `${number.format(finished)} of ${number.format(total)} voters finished (${Math.round((100 * finished) / total)}%).`
    : "No voters yet: upload a list on the Voter list tab.";
  $("voter-counts").replaceChildren(...countList(s.voters).children);
  drawChart(s.hours, s.contacts_per_hour, s.time_zone, s.time_zone_abbreviation);
}

// --- issue 14 item 5: the signed-in volunteers one by one -------------------------------------
let shiftRows = [];

function showVolunteers(rows) {
  const received = Date.now();
  shiftRows = rows.map((row) => ({ ...row, since: received - row.seconds_in_state * 1000 }));
  const table = $("on-shift");
  table.hidden = rows.length === 0;
  $("no-volunteers").hidden = rows.length !== 0;
  table.tBodies[0].replaceChildren(...shiftRows.map((row) => {
    const tr = el("tr", null, {"data-session": row.session_id});
    const cell = (label, text, attrs = {}) => {
      const td = el("td", text, { "data-label": label, ...attrs });
      tr.append(td);
      return td;
    };
    cell("Volunteer", row.name);
    cell("Audio", row.audio_mode === "browser" ? "Computer" : "Phone");
    cell("Doing", STATE_WORDS[row.state] || row.state, { class: `state state-${row.state.replace(/\s+/g, "-")}` });
    cell("For", duration(row.seconds_in_state), { class: "in-state" });
    cell("Calls", number.format(row.calls));
    cell("Contacts", number.format(row.contacts));
    return tr;
  }));
}

function tickVolunteers() {
  const cells = document.querySelectorAll("#on-shift tbody td.in-state");
  shiftRows.forEach((row, i) => {
    if (cells[i]) cells[i].textContent = duration((Date.now() - row.since) / 1000);
  });
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(rest)}` : `${m}:${pad(rest)}`;
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
    (known(learned.calls_seen) ? ` Learned from ${number.format(learned.calls_seen)} calls.` : "");
  setStat("abandon_target", steers ? s.abandon_target + "%" : "–");
  setStat("abandons_30_days", `${number.format(s.abandons_30_days)} of ${number.format(s.live_answers_30_days)} answers`);
  setStat("abandons_allowed_now", automatic ? s.abandons_allowed_now : "–");
  // a call counts once its outcome must be known (ring time + 10 s after it was placed)
  setStat("learned_contact_rate", known(learned.contact_rate) ? learned.contact_rate + "% of calls"
    : learned.calls_seen ? "counting the first calls" : "–");
  setStat("learned_talk", seconds(learned.talk_seconds));
  setStat("learned_wrap_up", seconds(learned.wrap_up_seconds));
  const last = s.pacing && s.pacing.last_decision;
  let text = automatic ? "The dialer starts pacing when a volunteer is ready." : "";
  if (last && last.placed !== undefined) {
    text = `Last decision: ${last.ready} ready, ${last.talking} talking, ${last.wrap_up} in wrap-up; ` +
      `${last.ringing} ringing, ${last.in_amd} in answering-machine detection; placed ${last.placed}` +
      (last.wanted > last.placed ? ` of ${last.wanted} wanted (too few voters can be called now).` : ".");
  }
  if (automatic && s.abandons_allowed_now === 0) {
    text = "The abandon budget is spent: one line per ready volunteer until answered calls earn it back. " + text;
  }
  $("pacing-text").textContent = text;
}

function drawChart(hours, values, zoneName, zoneAbbreviation) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 360, height = 150, bottom = 18, top = 14;
  const max = Math.max(1, ...values);
  const step = width / values.length;
  const zone = zoneAbbreviation && zoneAbbreviation !== zoneName ? `${zoneName}, ${zoneAbbreviation}` : zoneName;
  $("chart-title").textContent = `Contacts per hour (last ${values.length} hours, ${zone} time)`;
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
  $("chart-axis").textContent = `Hours on the clock of ${zone}.`;
  const total = values.reduce((a, b) => a + b, 0);
  $("chart-text").textContent = `${number.format(total)} contact${total === 1 ? "" : "s"} in the last ${values.length} hours (${zone} time); ${number.format(values[values.length - 1])} this hour.`;
  const table = $("chart-table");
  table.tBodies[0].replaceChildren(...values.map((value, i) => {
    const tr = el("tr");
    tr.append(el("td", `${hours[i]} ${zoneAbbreviation || ""}`.trim(), { "data-label": "Hour" }),
      el("td", number.format(value), { "data-label": "Contacts" }));
    return tr;
  }));
}
