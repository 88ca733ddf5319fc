// phonebank, issue 14 item 2: the ready volunteer is told why nobody can be called now and
// when calling resumes (the session view's and the "availability" event's fields);
// volunteer.js calls show() with each. It goes away when calls go out again.
"use strict";
/* exported PhonebankIdle */

const PhonebankIdle = (() => {
  const $ = (id) => document.getElementById(id);
  const IDLE_TITLE = "Nobody to call right now";
  // What happens next, where the reason itself does not say (the others name a time, or who
  // acts: "calls start once the organizers upload a list").
  const NEXT_STEP = {
    "finished": "You can log out, or stay ready: if the organizers add voters, calls start again.",
    "do not call": "You can log out, or stay ready: if the organizers add voters, calls start again.",
  };

  function show(availability) {
    const line = $("idle-reason");
    if (!line) return;
    const idle = Boolean(availability && availability.idle);
    const title = $("waiting-title");
    if (title.dataset.busy === undefined) title.dataset.busy = title.textContent;
    title.textContent = idle ? IDLE_TITLE : title.dataset.busy;
    $("dialer-doing").hidden = idle;
    // "Waiting for the next call…" above "Nobody to call right now" says the opposite
    if (!$("step-waiting").hidden) $("status").hidden = idle;
    line.hidden = !idle;
    const next = idle ? NEXT_STEP[availability.reason] : "";
    line.textContent = idle ? [availability.message, next].filter(Boolean).join(" ") : "";
  }

  return { show };
})();
