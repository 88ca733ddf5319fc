// phonebank volunteer pages: the survey form (Spoke-style questions whose answers can lead
// to follow-up questions through an option's `next`). Labels are inserted as text only.
"use strict";

window.PhonebankSurvey = (() => {
  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  /** Draw the questions into `form`; follow-up questions start hidden. */
  function render(form, questions) {
    form.replaceChildren();
    const targets = new Set();
    for (const q of questions) for (const o of q.options || []) if (o.next) targets.add(o.next);
    for (const q of questions) {
      const box = el("fieldset", { class: "question", "data-question": q.id });
      if (targets.has(q.id)) {
        box.classList.add("follow-up");
        box.hidden = true;
      }
      box.append(el("legend", {}, q.text));
      const kind = q.kind || "single";
      if (kind === "text") {
        box.append(el("textarea", { id: `q-${q.id}`, name: q.id, rows: "2", "aria-label": q.text }));
      }
      for (const [n, o] of (kind === "text" ? [] : q.options || []).entries()) {
        const id = `q-${q.id}-${n}`;
        const label = el("label", { class: "choice", for: id });
        const input = el("input", {
          type: kind === "multiple" ? "checkbox" : "radio", id, name: q.id, value: o.value,
        });
        if (o.next) input.dataset.next = o.next;
        label.append(input, document.createTextNode(o.label ?? o.value));
        box.append(label);
      }
      form.append(box);
    }
  }

  /** Show the follow-ups that a checked answer leads to (transitively); hide the rest. */
  function showFollowUps(form) {
    const shown = new Set();
    const visit = (box) => {
      for (const input of box.querySelectorAll("input[data-next]:checked")) {
        const next = form.querySelector(`[data-question="${CSS.escape(input.dataset.next)}"]`);
        if (next && !shown.has(next)) {
          shown.add(next);
          visit(next);
        }
      }
    };
    for (const box of form.querySelectorAll(".question:not(.follow-up)")) visit(box);
    for (const box of form.querySelectorAll(".question.follow-up")) box.hidden = !shown.has(box);
  }

  /** The answers of the visible questions: question id → value, [values] or text. */
  function answers(form) {
    const found = {};
    for (const box of form.querySelectorAll(".question")) {
      if (box.hidden) continue;
      const id = box.dataset.question;
      const text = box.querySelector("textarea");
      const checked = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      if (text && text.value.trim()) found[id] = text.value.trim();
      else if (box.querySelector("input[type=checkbox]") && checked.length) found[id] = checked;
      else if (checked.length) found[id] = checked[0];
    }
    return found;
  }

  /** Put saved answers back (after a reload during wrap-up). */
  function restore(form, saved) {
    for (const [id, value] of Object.entries(saved || {})) {
      const box = form.querySelector(`[data-question="${CSS.escape(id)}"]`);
      for (const v of [].concat(value)) {
        const input = box?.querySelector(`input[value="${CSS.escape(String(v))}"]`);
        if (input) input.checked = true;
        else if (box?.querySelector("textarea")) box.querySelector("textarea").value = v;
      }
    }
    showFollowUps(form);
  }

  return { render, showFollowUps, answers, restore };
})();
