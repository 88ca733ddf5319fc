// phonebank, issue 14 item 2: the ready volunteer is told why nobody can be called now and
// when calling resumes (the session view's and the "availability" event's fields);
// volunteer.js calls show() with each. It goes away when calls go out again.
"use strict";
/* exported PhonebankIdle */

const PhonebankIdle = (() => {
  const $ = (id) => document.getElementById(id);
  const IDLE_TITLE = "Nobody to call right now";

  function show(availability) {
    const line = $("idle-reason");
    if (!line) return;
    const idle = Boolean(availability && availability.idle);
    const title = $("waiting-title");
    if (title.dataset.busy === undefined) title.dataset.busy = title.textContent;
    title.textContent = idle ? IDLE_TITLE : title.dataset.busy;
    $("dialer-doing").hidden = idle;
    line.hidden = !idle;
    line.textContent = idle ? availability.message : "";
  }

  return { show };
})();
