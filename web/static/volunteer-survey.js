// phonebank volunteer pages: the survey form (Spoke-style questions whose answers can lead
// to follow-up questions through an option's `next`, and questions asked only when an earlier
// answer holds: `"ask_if": {"question", "answer"}`). Labels are inserted as text only. The
// campaign form's live preview (survey-builder.js) draws with the same functions.
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
      if (q.ask_if?.question) {
        box.classList.add("conditional");
        box.dataset.askIf = q.ask_if.question;
        box.dataset.askIfAnswer = q.ask_if.answer ?? "";
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

  /** Show the questions that are asked given the answers so far: a follow-up once a checked
   *  answer of a shown question leads to it, a conditional one while its shown condition
   *  question has the chosen answer (engine/scripts/survey.py visible_questions, same rule). */
  function showFollowUps(form) {
    const boxes = [...form.querySelectorAll(".question")];
    const shown = new Set();
    const chosen = (box) => [...box.querySelectorAll("input:checked")].map((i) => i.value);
    const asked = (box) => {
      const id = box.dataset.question;
      if (box.classList.contains("follow-up")) {
        const leads = [...form.querySelectorAll("input[data-next]:checked")].some(
          (i) => i.dataset.next === id && shown.has(i.closest(".question")));
        if (!leads) return false;
      }
      if (!box.dataset.askIf) return true;
      const other = boxes.find((b) => b.dataset.question === box.dataset.askIf);
      return Boolean(other) && shown.has(other) && chosen(other).includes(box.dataset.askIfAnswer);
    };
    for (let changed = true; changed;) {
      changed = false;
      for (const box of boxes) {
        if (!shown.has(box) && asked(box)) {
          shown.add(box);
          changed = true;
        }
      }
    }
    for (const box of boxes) box.hidden = !shown.has(box);
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
