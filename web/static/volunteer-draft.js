// phonebank volunteer page: the call result saved as it is entered (issue 14 item 1).
// Every change (term code, survey answer, notes) is sent as a draft half a second later, and
// at once when the page is hidden or closed (fetch keepalive), so nothing typed is lost when
// the wrap-up deadline passes: the engine keeps the draft as the call's result then.
// PUT /api/session/result/draft; the final result is still sent with "Yes, next call".
"use strict";

window.PhonebankDraft = (() => {
  const DELAY_MS = 500;
  const TOKEN_KEY = "phonebank.token";
  const SAVED = "Your answers are saved as you type.";
  const OFFLINE = "Your latest answers could not be saved (no connection). They are sent again with your next change.";

  class Drafts {
    /**
     * read(): the draft to send now ({attempt_id, term_code, answers, notes}) or null when
     * there is no call to save one for; status(text, problem): what to tell the volunteer.
     */
    constructor(read, status) {
      this.read = read;
      this.status = status;
      this.timer = null;
      this.sent = null;  // the JSON last sent: an unchanged draft is not sent again
    }

    /** A change was made: send the draft once the volunteer pauses for DELAY_MS. */
    schedule() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), DELAY_MS);
    }

    /** Drop a pending draft (the result is being sent with Next). */
    cancel() {
      clearTimeout(this.timer);
      this.timer = null;
    }

    get pending() {
      return this.timer !== null;
    }

    /** A new call: its first draft is sent even if it looks like the last call's. */
    reset() {
      this.cancel();
      this.sent = null;
      this.status("", false);
    }

    /** Send the draft now; ``keepalive`` lets it outlive the page (pagehide). */
    async flush(keepalive = false) {
      this.cancel();
      const draft = this.read();
      if (!draft) return;
      const body = JSON.stringify(draft);
      if (body === this.sent) return;
      this.sent = body;
      const headers = { Accept: "application/json", "Content-Type": "application/json" };
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token) headers.Authorization = `Bearer ${token}`;
      try {
        const response = await fetch("/api/session/result/draft", { method: "PUT", headers, body, keepalive });
        if (response.ok) {
          this.status(SAVED, false);
          return;
        }
        this.sent = null;
        // 409: the wrap-up is over or the result was sent meanwhile; the page says so itself
        if (response.status === 409) return;
        const data = await response.json().catch(() => ({}));
        this.status(data.error?.message || `Your answers could not be saved (the server answered ${response.status}).`, true);
      } catch {
        this.sent = null;
        if (!keepalive) this.status(OFFLINE, true);
      }
    }
  }

  /**
   * The drafts of the session page's Shift (volunteer.js): what it has on screen for the
   * current call is sent after each change to the survey or the notes (the Shift schedules
   * one when a term code is chosen), and when the page is hidden or closed.
   */
  function attach(shift) {
    const $ = (id) => document.getElementById(id);
    const read = () => {
      const state = shift.view?.state;
      if (!["talking", "wrap-up"].includes(state) || shift.attemptId === null) return null;
      return {
        attempt_id: shift.attemptId,
        term_code: shift.termCode || "",
        answers: window.PhonebankSurvey.answers($("survey")),
        notes: $("notes").value,
      };
    };
    const drafts = new Drafts(read, (text, problem) => {
      $("draft-status").textContent = text;
      $("draft-status").classList.toggle("error", problem);
    });
    for (const type of ["change", "input"]) $("survey").addEventListener(type, () => drafts.schedule());
    $("notes").addEventListener("input", () => drafts.schedule());
    window.addEventListener("pagehide", () => drafts.flush(true));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") drafts.flush(true);
    });
    return drafts;
  }

  return { Drafts, attach };
})();
