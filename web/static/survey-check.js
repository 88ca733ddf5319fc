// phonebank campaign form: the first problem of a survey, in the same sentence the server
// gives (engine/scripts/survey.py check_survey), so the builder can say it while editing.
"use strict";

window.PhonebankSurveyCheck = (() => {
  const KINDS = ["single", "multiple", "text"];

  function question(q, n) {
    if (!q || typeof q !== "object" || Array.isArray(q)) {
      return `Question ${n} must be an object with an id and a text.`;
    }
    if (typeof q.id !== "string" || !q.id.trim()) return `Question ${n} needs an id.`;
    if (typeof q.text !== "string" || !q.text.trim()) return `Question '${q.id}' needs a question text.`;
    const kind = q.kind || "single";
    if (!KINDS.includes(kind)) return `Question '${q.id}': the kind must be single, multiple or text.`;
    const options = q.options || [];
    if (!Array.isArray(options)) return `Question '${q.id}': options must be a list.`;
    if (kind !== "text" && !options.length) {
      return `Question '${q.id}' is a ${kind} choice question with no options; add one.`;
    }
    const values = new Set();
    for (const o of options) {
      const value = o && o.value;
      if (typeof value !== "string" || !value.trim()) return `Question '${q.id}': every option needs a value.`;
      if (values.has(value)) return `Question '${q.id}' has the option '${value}' twice.`;
      values.add(value);
    }
    return "";
  }

  function links(q, survey, position) {
    for (const o of q.options || []) {
      if (o.next && !position.has(o.next)) {
        return `Question '${q.id}': an option leads to question '${o.next}', which does not exist.`;
      }
    }
    const on = q.ask_if;
    if (on === undefined || on === null) return "";
    if (typeof on !== "object" || !on.question) {
      return `Question '${q.id}': ask_if must name a question and an answer, like {"question": "support", "answer": "yes"}.`;
    }
    const other = on.question;
    if (other === q.id) return `Question '${q.id}' cannot depend on its own answer.`;
    if (!position.has(other)) {
      return `Question '${q.id}' is asked only after an answer to '${other}', but there is no such question.`;
    }
    if (position.get(other) > position.get(q.id)) {
      return `Question '${q.id}' depends on '${other}', which comes after it; move '${other}' above it.`;
    }
    const target = survey[position.get(other) - 1];
    if ((target.kind || "single") === "text") {
      return `Question '${q.id}' depends on '${other}', a text question; only answers to choice questions can be used.`;
    }
    if (!(target.options || []).some((o) => o.value === on.answer)) {
      return `Question '${q.id}' is asked only if '${other}' is answered '${on.answer}', but '${other}' has no such option.`;
    }
    return "";
  }

  /** The first problem of the survey as one sentence, or "" when it is fine. */
  function firstProblem(survey) {
    if (!Array.isArray(survey)) return "The survey must be a list of questions.";
    const position = new Map();
    for (const [i, q] of survey.entries()) {
      const problem = question(q, i + 1);
      if (problem) return problem;
      if (position.has(q.id)) return `Two questions have the id '${q.id}'; give each question its own id.`;
      position.set(q.id, i + 1);
    }
    for (const q of survey) {
      const problem = links(q, survey, position);
      if (problem) return problem;
    }
    return "";
  }

  return { firstProblem };
})();
