// phonebank preview dialing on the session page: the voter's card with "Call {first name}"
// and "Skip", then "Ringing…" with "Cancel". volunteer.js draws the card and calls these.
"use strict";
/* exported PhonebankPreview */

const PhonebankPreview = (() => {
  const $ = (id) => document.getElementById(id);
  const STATES = ["previewing", "ringing"];

  /** True while the session holds a voter the volunteer places the call to. */
  function isPreview(state) {
    return STATES.includes(state);
  }

  /** Show the buttons that fit the state; "Call Ann" names who is about to be called. */
  function render(view) {
    const state = view.state;
    $("preview-actions").hidden = state !== "previewing";
    $("ringing").hidden = state !== "ringing";
    if (state === "previewing" && view.call) {
      const first = view.call.voter.first_name || view.call.voter.last_name || "this voter";
      $("call-voter").textContent = `Call ${first}`;
      $("call-voter").disabled = false;
      $("skip-voter").disabled = false;
    }
    if (state === "ringing") $("cancel-call").disabled = false;
  }

  /** "Last call: Busy." — why the last preview call did not connect; "" hides it. */
  function notice(text) {
    const line = $("call-notice");
    line.textContent = text ? `Last call: ${text}.` : "";
    line.hidden = !text;
  }

  /** Wire the buttons to `act(method, path)` (which answers the view, or null on error). A
   *  button stays disabled while its request is on its way, so a double click calls once. */
  function bind(act) {
    const press = (id, path, before) => {
      $(id).addEventListener("click", async () => {
        const button = $(id);
        if (button.disabled) return;
        before?.();
        button.disabled = true;
        if (!(await act("POST", path))) button.disabled = false;
      });
    };
    press("call-voter", "/api/session/call", () => notice(""));
    press("skip-voter", "/api/session/skip");
    press("cancel-call", "/api/session/cancel-call");
  }

  return { isPreview, render, notice, bind };
})();
