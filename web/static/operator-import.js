// phonebank: the voter-list upload (operator pages). Uses $, el, csrf, socketUrl and countList
// from operator.js, which loads first. The preview shows how each column will be read and lets
// the operator change it; the import sends those choices as the form's "mapping" field.
"use strict";

(() => { // nothing of this file becomes a global
  const importForm = $("upload-form");
  if (importForm) setUpImport(importForm);

  const ERRORS_PER_PAGE = 50;
  const numberFormat = new Intl.NumberFormat("en-US");
  const count = (n) => numberFormat.format(n || 0);

  function setUpImport(form) {
    const file = $("file");
    const error = $("preview-error");
    const state = {choices: {}, targets: []};
    const preview = async () => {
      const query = Object.keys(state.choices).length
        ? "?mapping=" + encodeURIComponent(JSON.stringify(state.choices)) : "";
      const response = await fetch(form.dataset.preview + query, {
        method: "POST",
        headers: {"Content-Type": "text/csv", "X-CSRF-Token": csrf(), "Accept": "application/json"},
        body: file.files[0].slice(0, 64 * 1024),
      });
      const data = await response.json();
      if (!response.ok) {
        error.textContent = data.error || "This file cannot be read as a voter list.";
        return false;
      }
      error.textContent = data.problem || "";
      showMapping(data, state, preview);
      return true;
    };
    file.addEventListener("change", async () => {
      error.textContent = "";
      state.choices = {};
      $("mapping").hidden = true;
      if (file.files.length) await preview();
    });
    // A file chosen before this script ran (a quick hand on a slow page, or the browser
    // restoring the form on Back) gets its preview too.
    if (file.files.length) preview();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!file.files.length) {
        error.textContent = "Choose a CSV file first.";
        file.focus();
        return;
      }
      importFile(form, file.files[0], state.choices);
    });
  }

  function showMapping(data, state, preview) {
    const body = document.querySelector("#mapping-table tbody");
    body.replaceChildren(...data.columns.map((column, index) => {
      const position = String(index + 1);
      const header = column.header || `column ${position}`;
      const select = el("select", null, {id: `map-${position}`, name: `map-${position}`});
      for (const target of data.targets) {
        const option = el("option", target.label, {value: target.value});
        option.selected = target.value === column.target;
        select.append(option);
      }
      select.addEventListener("change", async () => {
        const before = {...state.choices};
        state.choices[position] = select.value;
        $("mapping-status").textContent = "Checking the new mapping…";
        if (await preview()) {
          $("mapping-status").textContent = `“${header}” is now read as: ${select.selectedOptions[0].textContent}.`;
          $(`map-${position}`)?.focus();
        } else {
          state.choices = before;
          select.value = column.target;
          $("mapping-status").textContent = "That change was not applied: see the message below.";
        }
      });
      const label = el("label", `Use of column “${header}”`, {for: select.id, class: "sr-only"});
      const row = el("tr");
      const use = el("td", null, {"data-label": "Used as"});
      use.append(label, select);
      row.append(el("td", header, {"data-label": "Column"}), use, el("td", column.note, {"data-label": "Note"}));
      return row;
    }));
    const separator = {",": "commas", ";": "semicolons", "\t": "tabs"}[data.delimiter] || `"${data.delimiter}"`;
    $("mapping-meta").textContent = `Encoding: ${data.encoding_name}; columns separated by ${separator}.`;
    $("mapping-missing").textContent = data.missing.length ? "No column for: " + data.missing.join(", ") + "." : "";
    $("mapping-rows").replaceChildren(...data.rows.map((r) => el("li", r.error
      ? `line ${r.line}: rejected — ${r.error}`
      : [r.name || "(no name)", r.phone, r.zip, r.city].filter(Boolean).join(" · "))));
    $("mapping-rows-heading").hidden = !data.rows.length;
    $("mapping").hidden = false;
  }

  function importFile(form, file, choices) {
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
      label.textContent = `Importing: ${count(event.rows)} rows read…`;
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
    body.append("mapping", JSON.stringify(choices));
    body.append("file", file);
    xhr.send(body);
  }

  function showReport(data) {
    const counts = [["imported", data.imported], ["merged", data.merged], ["do not call", data.dnc], ["rejected", data.invalid]];
    $("report-counts").replaceChildren(...counts.map(([k, v]) => {
      const div = el("div");
      div.append(el("dt", k), el("dd", count(v)));
      return div;
    }));
    const lines = data.line_types || {};
    $("report-lines").textContent = `${count(data.total_rows)} rows read (${data.encoding_name}). Line types: ` +
      `${count(lines.mobile)} mobile, ${count(lines.landline)} landline, ${count(lines.unknown)} unknown ` +
      "(campaigns can leave mobile numbers to volunteers to call by hand)." +
      (data.short_rows ? ` ${count(data.short_rows)} row${data.short_rows === 1 ? "" : "s"} had fewer ` +
        "columns than the header: the missing fields were left empty." : "");
    const rejected = $("report-rejected");
    rejected.replaceChildren();
    if (data.rejected_url) {
      rejected.append(el("a", "Download the rejected rows (CSV)", {href: data.rejected_url, class: "button", download: "", id: "rejected-link"}));
    }
    showErrors(data.errors, data.invalid, 0);
    $("report").hidden = false;
    $("report").scrollIntoView({block: "nearest"});
    refreshVoterCounts();
  }

  function showErrors(errors, total, page) {
    const block = $("report-errors-block");
    block.hidden = !errors.length;
    if (!errors.length) return;
    const pages = Math.ceil(errors.length / ERRORS_PER_PAGE);
    const first = page * ERRORS_PER_PAGE;
    const shown = errors.slice(first, first + ERRORS_PER_PAGE);
    $("report-errors").querySelector("tbody").replaceChildren(...shown.map((e) => {
      const row = el("tr");
      row.append(el("td", count(e.line), {"data-label": "Line"}), el("td", e.reason, {"data-label": "Why"}));
      return row;
    }));
    const unlisted = total > errors.length ? ` (the first ${count(errors.length)} are listed here and in the download)` : "";
    $("errors-range").textContent = `Rejected rows ${count(first + 1)}–${count(first + shown.length)} of ` +
      `${count(total)}${unlisted}; page ${count(page + 1)} of ${count(pages)}.`;
    const previous = $("errors-previous");
    const next = $("errors-next");
    $("errors-pager").hidden = pages <= 1;
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
    previous.onclick = () => showErrors(errors, total, page - 1);
    next.onclick = () => showErrors(errors, total, page + 1);
  }

  async function refreshVoterCounts() {
    const panel = $("voters-now");
    const response = await fetch(panel.dataset.stats, {headers: {"Accept": "application/json"}});
    if (!response.ok) return;
    const voters = (await response.json()).voters;
    const list = countList(voters);
    for (const dd of list.querySelectorAll("dd")) dd.textContent = count(Number(dd.textContent));
    panel.replaceChildren(el("h2", "Voters now"), list);
  }
})();
