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

// The live dashboard: web/static/operator-dashboard.js
