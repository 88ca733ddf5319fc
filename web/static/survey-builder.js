// phonebank campaign form: the survey builder. Questions are added, edited, moved and deleted
// in a form; every change is written as JSON into the form's #survey field (what the server
// and the API read), and drawn in the live preview with the volunteer page's own survey code
// (volunteer-survey.js). Editing the JSON ("Advanced") redraws the builder.
"use strict";

(() => {
  const K = window.PhonebankBuilderKit;
  const { el, button } = K;
  const root = document.getElementById("survey-builder");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const json = $(root.dataset.target);
  const status = $("survey-builder-status");
  const problem = $("survey-problem");
  const preview = $("survey-preview");
  const KIND_LABELS = { single: "One choice", multiple: "Several choices", text: "Written answer" };
  const stashed = new WeakMap(); // a question's options while it is a text question
  const placeholder = new WeakSet(); // questions and options whose id/value was made up here
  let questions = [];

  function read() {
    try {
      const value = JSON.parse(json.value || "[]");
      if (Array.isArray(value)) return value;
    } catch { /* said below */ }
    return null;
  }

  function clean() {
    return questions.map((q) => {
      const out = { ...q, options: (q.kind || "single") === "text" ? [] : q.options || [] };
      if (!out.ask_if) delete out.ask_if;
      return out;
    });
  }

  /** Write the JSON, check it and redraw the preview (answers chosen there are kept). */
  function sync() {
    const survey = clean();
    json.value = JSON.stringify(survey, null, 2);
    showProblem(survey);
    drawPreview(survey);
  }

  function showProblem(survey) {
    problem.textContent = window.PhonebankSurveyCheck.firstProblem(survey);
  }

  function drawPreview(survey) {
    const S = window.PhonebankSurvey;
    const kept = preview.childElementCount ? S.answers(preview) : {};
    S.render(preview, survey.filter((q) => q && q.id));
    // The preview's inputs belong to an empty form of their own, so they are never posted
    // with the campaign and a question id like "name" cannot clash with a campaign field.
    for (const input of preview.querySelectorAll("input, textarea")) input.setAttribute("form", "survey-preview-form");
    S.restore(preview, kept);
    showAnswers();
    $("survey-preview-empty").hidden = survey.length > 0;
  }

  function showAnswers() {
    const found = window.PhonebankSurvey.answers(preview);
    const parts = Object.entries(found).map(([id, v]) => `${id}: ${[].concat(v).join(", ")}`);
    $("survey-preview-answers").textContent = parts.length
      ? `Saved with the call: ${parts.join("; ")}.` : "No answer chosen yet.";
  }

  // --- keeping links right when ids and values change -----------------------------------
  function ids(except) {
    return new Set(questions.filter((q) => q !== except).map((q) => q.id));
  }

  function renameQuestion(from, to) {
    for (const q of questions) {
      if (q.ask_if && q.ask_if.question === from) q.ask_if.question = to;
      for (const o of q.options || []) if (o.next === from) o.next = to;
    }
  }

  function renameAnswer(qid, from, to) {
    for (const q of questions) {
      if (q.ask_if && q.ask_if.question === qid && q.ask_if.answer === from) q.ask_if.answer = to;
    }
  }

  // --- the editor ------------------------------------------------------------------------
  function draw(focus) {
    root.replaceChildren(...questions.map(card));
    if (focus && !K.refocus(focus)) K.refocus("survey-add");
  }

  function card(q, i) {
    const key = `sb-q${i}`;
    const n = i + 1;
    const box = el("fieldset", { class: "builder-card", "data-question": q.id });
    box.append(el("legend", {}, `Question ${n}`));
    box.append(textField(`${key}-text`, "Question text", q.text || "", (value) => {
      const auto = placeholder.has(q) || !q.id; // a saved question keeps its results column
      q.text = value;
      if (auto) setId(q, K.unique(K.slug(value), ids(q), `question_${n}`), `${key}-id`);
    }));
    const kind = el("select", { id: `${key}-kind` });
    for (const [value, label] of Object.entries(KIND_LABELS)) {
      kind.append(el("option", { value, selected: (q.kind || "single") === value ? "" : null }, label));
    }
    kind.addEventListener("change", () => changeKind(q, kind.value, kind.id));
    box.append(field(`${key}-kind`, "Answer kind", kind));
    if ((q.kind || "single") !== "text") box.append(optionsEditor(q, key, n));
    const earlier = questions.slice(0, i).some((p) => (p.kind || "single") !== "text");
    if (earlier || q.ask_if) box.append(conditionEditor(q, i, key));
    box.append(followUps(q));
    box.append(textField(`${key}-id`, "Column name in the results (id)", q.id || "", (value) => {
      renameQuestion(q.id, value);
      q.id = value;
      placeholder.delete(q);
    }, "mono"));
    box.append(actions(i, key, q));
    return box;
  }

  function setId(q, value, inputId) {
    renameQuestion(q.id, value);
    q.id = value;
    const input = $(inputId);
    if (input) input.value = value;
  }

  function field(id, label, control, hint) {
    const wrap = el("div", { class: "field" });
    wrap.append(el("label", { for: id }, label), control);
    if (hint) wrap.append(hint);
    return wrap;
  }

  function textField(id, label, value, onInput, cls) {
    const input = el("input", { id, value, class: cls || null, autocomplete: "off" });
    input.value = value;
    input.addEventListener("input", () => {
      onInput(input.value);
      sync();
      refreshConditions();
    });
    return field(id, label, input);
  }

  function changeKind(q, kind, focus) {
    if (kind === "text") {
      stashed.set(q, q.options || []);
      q.options = [];
    } else if (!(q.options || []).length) {
      q.options = stashed.get(q) || [{ value: "yes", label: "Yes" }, { value: "no", label: "No" }];
    }
    q.kind = kind;
    sync();
    draw(focus);
  }

  function optionsEditor(q, key, n) {
    const box = el("fieldset", { class: "builder-options" });
    box.append(el("legend", {}, "Options"));
    const list = el("ol", { class: "builder-option-list" });
    for (const [j, o] of (q.options || []).entries()) {
      const row = el("li", { class: "builder-option" });
      const label = el("input", { id: `${key}-o${j}-label`, autocomplete: "off" });
      const value = el("input", { id: `${key}-o${j}-value`, class: "mono", autocomplete: "off" });
      label.value = o.label ?? "";
      value.value = o.value ?? "";
      label.addEventListener("input", () => {
        const auto = placeholder.has(o) || !o.value;
        o.label = label.value;
        if (auto) {
          const taken = new Set(q.options.filter((p) => p !== o).map((p) => p.value));
          const made = K.unique(K.slug(label.value), taken, `option_${j + 1}`);
          renameAnswer(q.id, o.value, made);
          o.value = value.value = made;
        }
        sync();
        refreshConditions();
      });
      value.addEventListener("input", () => {
        placeholder.delete(o);
        renameAnswer(q.id, o.value, value.value);
        o.value = value.value;
        sync();
        refreshConditions();
      });
      row.append(
        field(label.id, `Option ${j + 1} label`, label),
        field(value.id, `Option ${j + 1} value`, value),
        button("Remove", () => {
          const removed = q.options.splice(j, 1)[0];
          K.offerUndo(status, `Removed option “${removed.label || removed.value}”.`, () => {
            q.options.splice(j, 0, removed);
            sync();
            draw(`${key}-o${j}-label`);
          });
          sync();
          draw(`${key}-add-option`);
        }, { "aria-label": `Remove option ${j + 1} of question ${n}` }),
      );
      list.append(row);
    }
    box.append(list, button("Add option", () => {
      q.options = q.options || [];
      const taken = new Set(q.options.map((p) => p.value));
      const added = { value: K.unique("", taken, `option_${q.options.length + 1}`), label: "" };
      placeholder.add(added);
      q.options.push(added);
      sync();
      draw(`${key}-o${q.options.length - 1}-label`);
    }, { id: `${key}-add-option` }));
    return box;
  }

  /** "Ask this question: Always / If question 1 is answered… [with] No", from earlier choice
   *  questions; the sentence under it names the question and the answer in full. */
  function conditionEditor(q, i, key) {
    const wrap = el("div", { class: "builder-condition" });
    const which = el("select", { id: `${key}-if`, "aria-describedby": `${key}-if-said` });
    fillConditionChoices(which, q, i);
    which.addEventListener("change", () => {
      const other = questions.find((p) => p.id === which.value);
      q.ask_if = other ? { question: other.id, answer: (other.options[0] || {}).value ?? "" } : undefined;
      sync();
      draw(which.id);
    });
    wrap.append(field(which.id, "Ask this question", which));
    const said = el("p", { class: "hint-plain builder-condition-said", id: `${key}-if-said` });
    if (q.ask_if) {
      const answer = el("select", { id: `${key}-if-answer`, "aria-describedby": said.id });
      const other = questions.find((p) => p.id === q.ask_if.question);
      for (const o of other ? other.options || [] : []) {
        answer.append(el("option", { value: o.value, selected: o.value === q.ask_if.answer ? "" : null }, o.label || o.value));
      }
      if (!other || !(other.options || []).some((o) => o.value === q.ask_if.answer)) {
        answer.append(el("option", { value: q.ask_if.answer, selected: "" }, `${q.ask_if.answer} (no such option)`));
      }
      answer.addEventListener("change", () => {
        q.ask_if.answer = answer.value;
        sync();
        refreshConditions();
      });
      wrap.append(field(answer.id, "with the answer", answer));
    }
    wrap.append(said);
    said.textContent = conditionSentence(q);
    return wrap;
  }

  /** "Asked only when question 1, “Support?”, is answered “No”." (or "Always asked.") */
  function conditionSentence(q) {
    if (!q.ask_if) return "Always asked.";
    const n = questions.findIndex((p) => p.id === q.ask_if.question);
    const other = questions[n];
    if (!other) return `Asked only after an answer to '${q.ask_if.question}', a question that no longer exists.`;
    const option = (other.options || []).find((o) => o.value === q.ask_if.answer);
    return `Asked only when question ${n + 1}, “${other.text || other.id}”, is answered “${option ? option.label || option.value : q.ask_if.answer}”.`;
  }

  function fillConditionChoices(select, q, i) {
    select.replaceChildren(el("option", { value: "" }, "Always"));
    for (const [n, p] of questions.slice(0, i).entries()) {
      if ((p.kind || "single") === "text" || !p.id) continue;
      select.append(el("option", { value: p.id }, `If question ${n + 1} is answered…`));
    }
    if (q.ask_if && !questions.slice(0, i).some((p) => p.id === q.ask_if.question)) {
      const where = questions.findIndex((p) => p.id === q.ask_if.question);
      select.append(el("option", { value: q.ask_if.question },
        // short enough for a phone's menu; the sentence under it names the question
        where < 0 ? "If a deleted question…" : `If question ${where + 1} (later) is…`));
    }
    select.value = q.ask_if ? q.ask_if.question : "";
    const said = document.getElementById(`sb-q${i}-if-said`);
    if (said) said.textContent = conditionSentence(q);
  }

  /** Redraw the condition menus' wording after a text or id changed (focus stays put). */
  function refreshConditions() {
    for (const [i, q] of questions.entries()) {
      const select = $(`sb-q${i}-if`);
      if (select && document.activeElement !== select) fillConditionChoices(select, q, i);
      const said = $(`sb-q${i}-if-said`);
      if (said) said.textContent = conditionSentence(q);
    }
  }

  function followUps(q) {
    const leads = (q.options || []).filter((o) => o.next);
    const note = el("p", { class: "hint-plain" });
    note.hidden = !leads.length;
    note.textContent = leads.map((o) => `“${o.label || o.value}” leads to follow-up question '${o.next}'.`).join(" ")
      + (leads.length ? " (Change follow-ups in the JSON view.)" : "");
    return note;
  }

  function actions(i, key, q) {
    const row = el("p", { class: "button-row builder-actions" });
    const last = questions.length - 1;
    const moveTo = (delta, id) => () => {
      const j = K.move(questions, i, delta);
      sync();
      draw(null);
      if (!K.refocus(`sb-q${j}-${id}`)) K.refocus(`sb-q${j}-${id === "up" ? "down" : "up"}`);
      status.textContent = `Moved question “${q.text || q.id}” to position ${j + 1}.`;
    };
    row.append(
      button("Move up", moveTo(-1, "up"), { id: `${key}-up`, disabled: i === 0 ? "" : null, "aria-label": `Move up: question ${i + 1}` }),
      button("Move down", moveTo(1, "down"), { id: `${key}-down`, disabled: i === last ? "" : null, "aria-label": `Move down: question ${i + 1}` }),
      button("Delete question", () => {
        const removed = questions.splice(i, 1)[0];
        K.offerUndo(status, `Deleted question “${removed.text || removed.id}”.`, () => {
          questions.splice(i, 0, removed);
          sync();
          draw(`${key}-text`);
        });
        sync();
        draw(`sb-q${Math.min(i, questions.length - 1)}-text`);
      }, { class: "button small danger", id: `${key}-delete`, "aria-label": `Delete question ${i + 1}` }),
    );
    return row;
  }

  $("survey-add").addEventListener("click", () => {
    const n = questions.length + 1;
    const added = { id: K.unique("", ids(), `question_${n}`), text: "", kind: "single",
      options: [{ value: "yes", label: "Yes" }, { value: "no", label: "No" }] };
    for (const made of [added, ...added.options]) placeholder.add(made);
    questions.push(added);
    sync();
    draw(`sb-q${n - 1}-text`);
    status.textContent = `Added question ${n}.`;
  });

  // The advanced view: valid JSON typed there redraws the builder and the preview.
  json.addEventListener("input", () => {
    const value = read();
    if (value === null) {
      problem.textContent = "The JSON cannot be read yet; the builder shows the last survey that could.";
      return;
    }
    questions = value;
    draw(null);
    showProblem(value);
    drawPreview(value);
  });
  preview.addEventListener("change", () => {
    window.PhonebankSurvey.showFollowUps(preview);
    showAnswers();
  });
  preview.addEventListener("input", showAnswers);

  const start = read();
  $("survey-builder-area").hidden = false;
  if (start === null) {
    problem.textContent = "The survey JSON cannot be read; fix it in the JSON view below and the builder follows.";
    return;
  }
  questions = start;
  $("survey-advanced").open = false;
  draw(null);
  showProblem(start);
  drawPreview(start);
})();
