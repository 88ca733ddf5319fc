// phonebank volunteer pages: plain JavaScript, no framework, no build step.
// Every voter field is inserted with textContent; only the campaign script (sanitized HTML
// rendered server-side in a sandbox) is inserted as HTML. The survey form is in
// volunteer-survey.js (loaded first on the session page).
"use strict";
/* global PhonebankSurvey, PhonebankSoftphone, PhonebankPreview, PhonebankIdle, PhonebankDraft */

(() => {
  const TOKEN_KEY = "phonebank.token";
  const $ = (id) => document.getElementById(id);

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = data.error?.message || `The server answered ${response.status}.`;
      throw Object.assign(new Error(message), { status: response.status });
    }
    return data;
  }

  function showDialingHeld(dialing) {
    // on load: say so when dialing is held (PBX away, trunk down), since the live events
    // only tell of changes; a notice of an outage that is over is taken down
    const notice = $("telephony-notice");
    if (!notice || !dialing) return;
    if (dialing.paused) {
      notice.textContent = dialing.message;
      notice.hidden = false;
      notice.classList.add("error");
    } else if (notice.classList.contains("error")) {
      notice.hidden = true;
    }
  }

  function showError(element, error) {
    element.textContent = error ? error.message : "";
    element.hidden = !error;
  }

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  // --- /join/{id}: sign up, show the login ----------------------------------------------
  function joinPage() {
    const form = $("signup-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = Object.fromEntries(
        ["name", "email", "phone"].map((key) => [key, form.elements[key].value.trim()]),
      );
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const login = await api("POST", "/api/signup", body);
        $("login-id").textContent = login.login_id;
        $("password").textContent = login.password;
        $("signup").hidden = true;
        $("credentials").hidden = false;
        $("credentials-title").focus();
      } catch (error) {
        showError($("signup-error"), error);
      } finally {
        button.disabled = false;
      }
    });
    for (const button of document.querySelectorAll("[data-copy]")) {
      button.addEventListener("click", () => copy($(button.dataset.copy), button));
    }
  }

  async function copy(source, button) {
    const text = source.textContent;
    const label = button.getAttribute("aria-label").replace(/^Copy /, "");
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const range = document.createRange();  // older browsers / insecure origins
      range.selectNodeContents(source);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand("copy");
    }
    $("copy-status").textContent = `${label[0].toUpperCase()}${label.slice(1)} copied.`;
  }

  // --- /signin ---------------------------------------------------------------------------
  function signinPage() {
    const form = $("signin-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const campaign = form.elements.campaign.value;
      const body = {
        login_id: form.elements.login_id.value.replace(/\s+/g, ""),
        password: form.elements.password.value.replace(/\s+/g, ""),
        campaign: /^\d+$/.test(campaign) ? Number(campaign) : campaign,
        audio_mode: form.elements.audio_mode.value || "phone",
      };
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const signin = await api("POST", "/api/signin", body);
        sessionStorage.setItem(TOKEN_KEY, signin.token);
        location.assign("/session");
      } catch (error) {
        showError($("signin-error"), error);
        button.disabled = false;
      }
    });
  }

  // --- /logged-out -----------------------------------------------------------------------
  async function loggedOutPage() {
    if (!sessionStorage.getItem(TOKEN_KEY)) return;
    $("ended-logout").hidden = true;  // until we know why the session ended
    try {
      const view = await api("GET", "/api/session");
      document.body.dataset.audio = view.audio_mode === "browser" ? "computer" : "phone";
      $(view.end_reason === "timeout" ? "ended-timeout" : "ended-logout").hidden = false;
    } catch {
      $("ended-logout").hidden = false;  // an unknown token: the generic text
    }
    sessionStorage.removeItem(TOKEN_KEY);
  }

  // --- /session: the shift ---------------------------------------------------------------
  function sessionPage() {
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      location.replace("/signin");
      return;
    }
    const shift = new Shift();
    shift.start();
    window.phonebankShift = shift;  // for tests and debugging
  }

  const AUTO_WAITING = (computer) => "The dialer is calling voters for you. Most calls don't "
    + "answer or reach a voicemail; those are skipped. When a person answers you hear a beep "
    + `${computer ? "in your headset" : "on your phone"} and their details appear here at once.`;
  const PREVIEW_WAITING = "The next voter's card appears here in a moment: you see who it is "
    + "before you press Call.";

  const STEP_HEADINGS = {
    "waiting for phone": "connect-title",
    connected: "connect-title",
    "phone disconnected": "connect-title",
    ready: "waiting-title",
    paused: "paused-title",
  };

  class Shift {
    constructor() {
      this.view = null;
      this.attemptId = null;
      this.termCode = null;
      this.readySince = null;
      this.timer = null;
      this.socket = null;
      this.retry = 500;
      this.deadline = null;
      this.events = 0;  // WebSocket events seen: an HTTP answer older than one is not drawn
      this.drafts = PhonebankDraft.attach(this);  // the result saved as it is entered
      this.wrapUpFocused = null;
      this.leaving = false;  // on the way to the logged-out page
    }

    async start() {
      this.bindControls();
      try {
        const view = await api("GET", "/api/session");
        this.render(view);
        if (view.softphone) this.startSoftphone(view);
      } catch (error) {
        if (error.status === 401) return location.replace("/signin");
        showError($("session-error"), error);
      }
      this.connect();
      this.timer = setInterval(() => this.tick(), 250);
    }

    connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const token = encodeURIComponent(sessionStorage.getItem(TOKEN_KEY));
      const socket = new WebSocket(`${scheme}//${location.host}/api/session/events?token=${token}`);
      this.socket = socket;
      socket.addEventListener("message", (message) => this.onEvent(JSON.parse(message.data)));
      socket.addEventListener("open", () => { this.retry = 500; });
      socket.addEventListener("close", () => {
        if (this.leaving || this.view?.state === "logged out") return;
        setTimeout(() => this.connect(), this.retry);
        this.retry = Math.min(this.retry * 2, 8000);
      });
    }

    onEvent(event) {
      this.events += 1;
      if (event.type === "snapshot") {
        this.render(event);
        showDialingHeld(event.dialing);
      } else if (event.type === "session") {
        // the voter event follows "talking" (or "previewing") and brings the new card; keep
        // the card in wrap-up, while a preview call rings and once it is answered
        const keep = ["wrap-up", "ringing"].includes(event.state)
          || (event.state === "talking" && this.view.state === "ringing");
        this.render({ ...this.view, ...event, call: keep ? this.view.call : null });
      } else if (event.type === "voter") {
        const call = { attempt_id: event.attempt_id, voter: event.voter, script: event.script };
        const state = event.preview ? "previewing" : "talking";
        this.render({ ...this.view, state, call, result: null });
      } else if (event.type === "preview_ended") {
        PhonebankPreview.notice(event.message);
      } else if (event.type === "telephony") {
        // the phone system went away or came back: say so until the next change
        $("telephony-notice").textContent = event.message;
        $("telephony-notice").hidden = false;
        $("telephony-notice").classList.toggle("error", !event.available);
      } else if (event.type === "pin_in_use") {
        // someone called in with this session's PIN while the phone was connected: they
        // were refused; say so where call notices go
        const line = $("call-notice");
        line.textContent = event.message;
        line.hidden = false;
      } else if (event.type === "pin_rejected") {
        // a wrong PIN was typed on this volunteer's phone: say so (and how many tries are left)
        $("pin-rejected").textContent = event.message;
        $("pin-rejected").hidden = false;
      } else if (event.type === "dialing") {
        // the trunk to the carrier is down (or back): the same notice as on load
        showDialingHeld(event);
      } else if (event.type === "availability") {
        // nobody can be called now and why, or calls go out again (issue 14 item 2)
        this.view = { ...this.view, availability: event };
        PhonebankIdle.show(event);
      }
    }

    startSoftphone(view) {
      $("softphone").hidden = false;
      const ui = {
        remoteAudio: $("remote-audio"),
        state: (text, connected = false) => {
          $("softphone-state-text").textContent = text;
          $("softphone-state").classList.toggle("connected", connected);
        },
        level: (value) => { $("mic-level").value = value; },
        problem: (message, options = {}) => {
          showError($("softphone-error"), message ? new Error(message) : null);
          $("softphone-error").dataset.kind = options.kind || "";
          $("enable-sound").hidden = !options.enableSound;
          if (options.fallback) this.showFallback();
        },
      };
      this.softphone = new PhonebankSoftphone.Softphone(view.softphone, ui);
      $("mute").addEventListener("click", () => {
        const muted = $("mute").getAttribute("aria-pressed") !== "true";
        this.softphone.setMuted(muted);
        $("mute").setAttribute("aria-pressed", String(muted));
        $("mute").textContent = muted ? "Unmute" : "Mute";
      });
      $("test-sound").addEventListener("click", () => this.softphone.playTestSound());
      $("enable-sound").addEventListener("click", () => this.softphone.enableSound());
      window.addEventListener("pagehide", () => this.softphone.stop());
      this.softphone.start();
    }

    showFallback() {
      this.fallback = true;
      $("fallback-number").textContent = this.view.callin_number_display || this.view.callin_number;
      $("fallback-number").href = `tel:${this.view.callin_number}`;
      $("fallback-pin").textContent = this.view.pin;
      $("softphone-fallback").hidden = false;
      if (this.view) this.render(this.view);
    }

    bindControls() {
      const act = (id, path) => $(id).addEventListener("click", () => this.act("POST", path));
      act("start", "/api/session/ready");
      act("pause", "/api/session/pause");
      act("resume", "/api/session/ready");
      act("end-call", "/api/session/end-call");
      act("logout", "/api/session/logout");
      PhonebankPreview.bind((method, path) => this.act(method, path));
      for (const button of document.querySelectorAll("[data-then]")) {
        button.addEventListener("click", () => this.saveResult(button.dataset.then));
      }
      $("survey").addEventListener("change", () => PhonebankSurvey.showFollowUps($("survey")));
      $("survey").addEventListener("submit", (event) => event.preventDefault());
      act("missed-ready", "/api/session/ready");
    }

    async act(method, path, body) {
      showError($("session-error"), null);
      const seen = this.events;
      try {
        const view = await api(method, path, body);
        if (view.state && this.events === seen) this.render(view);
        return view;
      } catch (error) {
        showError($("session-error"), error);
        return null;
      }
    }

    async saveResult(then) {
      if (!this.termCode) {
        showError($("session-error"), new Error("Choose a call result first."));
        return;
      }
      this.drafts.cancel();  // the result itself is sent now
      const body = {
        term_code: this.termCode,
        answers: PhonebankSurvey.answers($("survey")),
        notes: $("notes").value,
        then,
      };
      if (!(await this.act("POST", "/api/session/result", body))) return;
      if (then === "logout") {
        this.leave();
        return;
      }
      const seen = this.events;
      const view = await api("GET", "/api/session");
      if (this.events === seen) this.render(view);
    }

    // Go to the logged-out page once. The result's reply and the socket's "logged out" event
    // both lead here; a second location.replace() would abort the first navigation.
    leave() {
      if (this.leaving) return;
      this.leaving = true;
      clearInterval(this.timer);
      this.softphone?.stop();
      this.socket?.close();
      location.replace("/logged-out");
    }

    render(view) {
      const previous = this.view?.state;
      this.view = view;
      const state = view.state;
      if (state === "logged out") {
        this.leave();
        return;
      }
      $("campaign-name").textContent = view.campaign?.name ?? "";
      $("status").textContent = view.message || "";
      const connecting = ["waiting for phone", "connected", "phone disconnected"].includes(state);
      $("step-connect").hidden = !connecting;
      $("step-waiting").hidden = state !== "ready";
      if (state !== "paused") view.wrapup_missed = null;  // a miss is told only until resumed
      const missed = view.wrapup_missed;
      $("step-paused").hidden = state !== "paused" || Boolean(missed);
      $("step-missed").hidden = !missed;
      $("missed-message").textContent = missed || "";
      $("status").hidden = Boolean(missed);  // the break's panel says it (and is announced)
      const preview = PhonebankPreview.isPreview(state);
      const onCall = (state === "talking" || state === "wrap-up" || preview) && view.call;
      $("step-call").hidden = !onCall;
      this.focusStep(state === "ringing" ? "ringing-title" : onCall ? "voter-name"
        : missed ? "missed-title" : STEP_HEADINGS[state]);
      if (state === "talking") PhonebankPreview.notice("");
      const computer = view.audio_mode === "browser" && !this.fallback;
      document.body.dataset.audio = computer ? "computer" : "phone";  // .for-phone / .for-computer
      $("dialer-doing").textContent = view.campaign?.dial_mode === "preview" ? PREVIEW_WAITING : AUTO_WAITING(computer);
      if (connecting) this.renderConnect(view);
      if (view.phone) $("pin-rejected").hidden = true;  // the right PIN came at last
      this.renderPhoneLost(view);
      if (state === "ready" && previous !== "ready") this.readySince = Date.now();
      PhonebankIdle.show(view.availability);
      if (onCall) this.renderCall(view);
      this.tick();
    }

    focusStep(headingId) {
      // keyboard users land on the step that replaced the one they were in
      if (!headingId || headingId === this.step) return;
      const first = this.step === undefined;
      this.step = headingId;
      if (!first) $(headingId).focus({ preventScroll: false });
    }

    renderConnect(view) {
      const connected = view.state === "connected";
      const lost = view.state === "phone disconnected";
      const computer = view.audio_mode === "browser" && !this.fallback;
      $("connect-title").textContent = lost
        ? (computer ? "Your computer's audio is disconnected" : "Your phone is disconnected")
        : connected ? "Ready to start calling"
          : (computer ? "Connect your computer's audio" : "Call in from your phone");
      $("callin-details").hidden = computer || connected;  // shown again if the phone drops
      $("callin-notice").hidden = computer;
      $("callin-number").textContent = view.callin_number_display || view.callin_number;
      $("callin-number").href = `tel:${view.callin_number}`;
      $("pin").textContent = view.pin;
      $("phone-state").classList.toggle("connected", connected);
      $("phone-state").hidden = computer && connected;  // the audio panel above says so
      const device = computer ? "your computer's audio" : "your phone";
      $("phone-state-text").textContent = connected
        ? `Connected: ${device} is on the line.`
        : lost ? `No calls come to you until ${device} is back on the line`
          + (computer ? ": reload this page to reconnect it." : ": call again and enter your PIN.")
          : `Waiting for ${device}…`;
      const wasHidden = $("start").hidden;
      $("start").hidden = !connected;
      if (connected && wasHidden && this.step !== undefined) $("start").focus();
    }

    renderPhoneLost(view) {
      // the phone dropped during a break or wrap-up: say so, and how to get it back
      const gone = view.phone === false && ["paused", "wrap-up"].includes(view.state);
      const computer = view.audio_mode === "browser" && !this.fallback;
      $("phone-lost").textContent = !gone ? "" : computer
        ? "Your computer's audio is disconnected. Reload this page to reconnect it, or call "
          + `${view.callin_number_display} from a phone and enter your PIN ${view.pin} followed by #.`
        : `Your phone is disconnected. Call ${view.callin_number_display} again and enter your PIN `
          + `${view.pin} followed by # to reconnect.`;
      $("phone-lost").hidden = !gone;
    }

    renderCall(view) {
      if (view.call.attempt_id !== this.attemptId) {
        this.attemptId = view.call.attempt_id;
        this.renderVoter(view.call, view.campaign);
        this.termCode = null;
        this.drafts.reset();
        this.renderTermCodes(view.campaign.term_codes);
        if (view.result) this.restoreResult(view.result);
        this.markShown(view.call.attempt_id);
      }
      const wrapUp = view.state === "wrap-up";
      $("wrapup").hidden = !wrapUp;
      $("countdown-line").hidden = !wrapUp;
      if (wrapUp && this.wrapUpFocused !== view.call.attempt_id) {
        // the call ended: keyboard users land on the call results
        this.wrapUpFocused = view.call.attempt_id;
        const codes = $("term-codes");
        (codes.querySelector("[aria-pressed=true]") || codes.querySelector("button"))?.focus();
      }
      $("end-call").hidden = view.state !== "talking";
      $("cue").hidden = view.state !== "talking";
      $("next-step").hidden = !wrapUp || !this.termCode;
      PhonebankPreview.render(view);
      if (view.state === "talking" && this.cueFor !== view.call.attempt_id) {
        this.cueFor = view.call.attempt_id;  // in step with the beep (or a preview's answer)
        const cue = $("cue");
        cue.classList.remove("flash");
        void cue.offsetWidth;  // restart the animation
        cue.classList.add("flash");
      }
    }

    renderVoter(call, campaign) {
      const voter = call.voter;
      $("voter-name").textContent = [voter.first_name, voter.last_name].filter(Boolean).join(" ") || "(no name)";
      const fields = $("voter-fields");
      fields.replaceChildren();
      const address = [voter.address, voter.city, voter.state, voter.zip].filter(Boolean).join(", ");
      const rows = [["Age", voter.age], ["Address", address], ["Phone", voter.phone_display || voter.phone], ["Party", voter.party]];
      const known = new Set(["id", "first_name", "last_name", "phone", "phone_display", "address", "city", "state", "zip", "party", "age"]);
      for (const [key, value] of Object.entries(voter)) {
        if (!known.has(key)) rows.push([key.replace(/_/g, " "), value]);
      }
      for (const [label, value] of rows) {
        if (value === null || value === undefined || value === "") continue;
        fields.append(el("dt", {}, label[0].toUpperCase() + label.slice(1)), el("dd", {}, value));
      }
      $("script").innerHTML = call.script;  // sanitized server-side (sandboxed template)
      const questions = campaign.survey || [];
      PhonebankSurvey.render($("survey"), questions);
      $("survey-title").hidden = questions.length === 0;
      $("notes").value = "";
    }

    markShown(attemptId) {
      requestAnimationFrame(() => {
        const shownAt = performance.timeOrigin + performance.now();
        const card = $("voter-card");
        card.dataset.attemptId = String(attemptId);
        card.dataset.shownAt = String(shownAt);
        (window.phonebankCardsShown ||= []).push({ attemptId, shownAt });
      });
    }

    restoreResult(result) {
      PhonebankSurvey.restore($("survey"), result.answers);
      $("notes").value = result.notes || "";
      this.chooseTermCode(result.term_code);
    }

    renderTermCodes(codes) {
      const row = $("term-codes");
      row.replaceChildren();
      for (const code of codes) {
        const button = el("button", { type: "button", class: "button", "aria-pressed": "false", "data-code": code.code }, code.label);
        button.addEventListener("click", () => {
          this.chooseTermCode(code.code);
          this.drafts.schedule();
        });
        row.append(button);
      }
    }

    chooseTermCode(code) {
      this.termCode = code;
      for (const button of $("term-codes").querySelectorAll("button")) {
        button.setAttribute("aria-pressed", String(button.dataset.code === code));
      }
      if (this.view?.state === "wrap-up") $("next-step").hidden = false;
      showError($("session-error"), null);
    }

    tick() {
      const view = this.view;
      if (!view) return;
      if (view.state === "ready" && this.readySince) {
        $("elapsed").textContent = clock((Date.now() - this.readySince) / 1000);
      }
      if (view.state === "wrap-up" && view.wrapup_deadline) {
        const left = (Date.parse(view.wrapup_deadline) - Date.now()) / 1000;
        if (this.deadline !== view.wrapup_deadline) {
          this.deadline = view.wrapup_deadline;
          $("countdown-bar").max = Math.max(1, Math.ceil(left));
        }
        $("countdown").textContent = String(Math.max(0, Math.ceil(left)));
        if (left < 1 && this.drafts.pending) this.drafts.flush();  // beat the deadline
        $("countdown-bar").value = Math.max(0, left);
        $("countdown").parentElement.classList.toggle("urgent", left <= 10);
      }
    }
  }

  const page = document.currentScript?.dataset.page
    || document.querySelector("script[data-page]")?.dataset.page;
  const pages = { join: joinPage, signin: signinPage, session: sessionPage, "logged-out": loggedOutPage };
  pages[page]?.();
})();
