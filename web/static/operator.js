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

// --- voter list upload -----------------------------------------------------------------------
const uploadForm = $("upload-form");
if (uploadForm) setUpUpload(uploadForm);

function setUpUpload(form) {
  const file = $("file");
  const error = $("preview-error");
  file.addEventListener("change", async () => {
    error.textContent = "";
    $("mapping").hidden = true;
    if (!file.files.length) return;
    const head = file.files[0].slice(0, 64 * 1024);
    const response = await fetch(form.dataset.preview, {
      method: "POST",
      headers: {"Content-Type": "text/csv", "X-CSRF-Token": csrf(), "Accept": "application/json"},
      body: head,
    });
    const data = await response.json();
    if (!response.ok) {
      error.textContent = data.error || "This file cannot be read as a voter list.";
      return;
    }
    showMapping(data);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!file.files.length) {
      error.textContent = "Choose a CSV file first.";
      file.focus();
      return;
    }
    upload(form, file.files[0]);
  });
}

function showMapping(data) {
  const body = document.querySelector("#mapping-table tbody");
  body.replaceChildren(...data.columns.map((c) => {
    const row = el("tr");
    row.append(el("td", c.header), el("td", c.target === "extra" ? "kept as an extra column" : c.target), el("td", c.note));
    return row;
  }));
  $("mapping-meta").textContent = `Encoding ${data.encoding}, columns separated by "${data.delimiter === "\t" ? "tab" : data.delimiter}".`;
  $("mapping-missing").textContent = data.missing.length ? "No column for: " + data.missing.join(", ") + "." : "";
  $("mapping-rows").replaceChildren(...data.rows.map((r) =>
    el("li", r.error ? `line ${r.line}: rejected — ${r.error}` : `${r.name || "(no name)"} · ${r.phone}`)));
  $("mapping").hidden = false;
}

function upload(form, file) {
  const bar = $("progress-bar");
  const label = $("progress-label");
  const button = $("import-button");
  $("progress").hidden = false;
  $("report").hidden = true;
  button.disabled = true;
  const socket = new WebSocket(socketUrl(form.dataset.events));
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type !== "import") return;
    if (event.bytes_total) bar.value = Math.round((100 * event.bytes_done) / event.bytes_total);
    label.textContent = `Importing: ${event.rows.toLocaleString()} rows read…`;
  });
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action.split("?")[0]);
  xhr.setRequestHeader("X-CSRF-Token", csrf());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    bar.value = Math.round((100 * event.loaded) / event.total);
    label.textContent = `Uploading: ${bar.value}%`;
  });
  xhr.upload.addEventListener("load", () => {
    bar.value = 0;
    label.textContent = "Importing…";
  });
  xhr.addEventListener("loadend", () => {
    socket.close();
    button.disabled = false;
    let data = {};
    try { data = JSON.parse(xhr.responseText); } catch { data = {error: "The server did not answer (" + xhr.status + ")."}; }
    if (xhr.status !== 200) {
      $("progress").hidden = true;
      $("preview-error").textContent = data.error || "The import failed.";
      return;
    }
    bar.value = 100;
    label.textContent = "Import finished.";
    showReport(data);
  });
  const body = new FormData();
  body.append("file", file);
  xhr.send(body);
}

function showReport(data) {
  const counts = [["imported", data.imported], ["merged", data.merged], ["do not call", data.dnc], ["rejected", data.invalid]];
  $("report-counts").replaceChildren(...counts.map(([k, v]) => {
    const div = el("div");
    div.append(el("dt", k), el("dd", v));
    return div;
  }));
  const lines = data.line_types || {};
  $("report-lines").textContent = `Line types: ${lines.mobile || 0} mobile, ${lines.landline || 0} landline, ` +
    `${lines.unknown || 0} unknown (campaigns can leave mobile numbers to volunteers to call by hand).`;
  const rejected = $("report-rejected");
  rejected.replaceChildren();
  if (data.rejected_url) {
    rejected.append(el("a", "Download the rejected rows (CSV)", {href: data.rejected_url, class: "button", download: "", id: "rejected-link"}));
  }
  const table = $("report-errors");
  table.hidden = !data.errors.length;
  table.querySelector("tbody").replaceChildren(...data.errors.map((e) => {
    const row = el("tr");
    row.append(el("td", e.line), el("td", e.reason));
    return row;
  }));
  $("report").hidden = false;
  $("report").scrollIntoView({block: "nearest"});
  refreshVoterCounts();
}

async function refreshVoterCounts() {
  const panel = $("voters-now");
  const response = await fetch(panel.dataset.stats, {headers: {"Accept": "application/json"}});
  if (!response.ok) return;
  const voters = (await response.json()).voters;
  panel.replaceChildren(el("h2", "Voters now"), countList(voters));
}

function countList(counts) {
  const list = el("dl", null, {class: "counts"});
  list.replaceChildren(...Object.entries(counts).map(([k, n]) => {
    const div = el("div");
    div.append(el("dt", k), el("dd", n));
    return div;
  }));
  return list;
}

// The live dashboard: web/static/operator-dashboard.js
