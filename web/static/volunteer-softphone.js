// phonebank browser softphone ("Call using computer"): plain JavaScript over JsSIP
// (vendor/jssip.min.js, built by `make`). The page calls sip:join@<pbx> with its session's own
// SIP credentials over SIP-over-WebSocket and stays in the session's bridge for the shift; no
// registration. It reconnects once after a dropped call, then offers the phone call-in.
// Network trouble gets one sentence each (then the phone call-in): the SIP WebSocket blocked
// at the proxy, the TURN relay unreachable, ICE failing.
"use strict";
/* global JsSIP */

(() => {
  const RECONNECT_DELAY_MS = 1000;
  const STABLE_CALL_MS = 30000;  // a call up this long earns a fresh reconnect
  const CONNECT_TIMEOUT_MS = 15000;  // a WebSocket that neither opens nor fails by then
  const RELAY_TIMEOUT_MS = 8000;  // relay-only: no TURN allocation by then means unreachable

  const MESSAGES = {
    denied: "Your browser blocked the microphone. Allow it (the icon in the address bar), " +
      "then reload this page, or call in from your phone instead.",
    noMicrophone: "No microphone was found. Plug in a headset and reload this page, or call " +
      "in from your phone instead.",
    micBusy: "Your microphone is in use by another program. Close it and reload this page, " +
      "or call in from your phone instead.",
    unreachable: "Your computer cannot reach the phone server, so your audio cannot connect. " +
      "Call in from your phone instead.",
    wsBlocked: "The calling connection is blocked: ask your coordinator to check that the " +
      "proxy forwards WebSockets for /ws. You can call in by phone instead:",
    wsInsecure: "The calling connection is not secure on this secure page: ask your " +
      "coordinator to set the server's public address (web.public_url). You can call in by " +
      "phone instead:",
    turnUnreachable: "Your computer's audio cannot get through: the audio relay server does " +
      "not answer, so call in from your phone instead (and tell your coordinator).",
    iceFailed: "Your computer's audio cannot get through the network to the phone server, so " +
      "call in from your phone instead (and tell your coordinator).",
    dropped: "Your computer's call dropped and reconnecting failed. Call in from your phone " +
      "to keep going.",
    autoplay: "Your browser is holding back the sound. Click \"Turn on sound\" to hear voters.",
    unsupported: "This browser cannot make calls (it needs WebRTC on https or localhost). " +
      "Call in from your phone instead.",
  };

  class Softphone {
    // config: {ws_url, uri, username, password, ice_servers, ice_transport_policy};
    // ui: callbacks and elements.
    constructor(config, ui) {
      this.config = config;
      this.ui = ui;
      this.ua = null;
      this.session = null;
      this.stream = null;
      this.audioContext = null;
      this.reconnects = 0;
      this.stopping = false;
      this.everConnected = false;
      this.gaveUp = false;
      this.marks = { start: performance.timeOrigin + performance.now() };
    }

    get peerConnection() {
      return this.session?.connection ?? null;
    }

    async start() {
      if (!navigator.mediaDevices?.getUserMedia || typeof JsSIP === "undefined") {
        return this.fail("unsupported");
      }
      this.ui.state("Asking for your microphone…");
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      } catch (error) {
        const kind = {
          NotAllowedError: "denied",
          SecurityError: "denied",
          NotFoundError: "noMicrophone",
          OverconstrainedError: "noMicrophone",
          NotReadableError: "micBusy",
        }[error.name] || "noMicrophone";
        return this.fail(kind);
      }
      this.meter();
      this.connect();
    }

    connect() {
      this.ui.state("Connecting your computer's audio…");
      if (location.protocol === "https:" && this.config.ws_url.startsWith("ws:")) {
        return this.giveUp("wsInsecure");  // the browser refuses ws:// from an https page
      }
      const socket = new JsSIP.WebSocketInterface(this.config.ws_url);
      const host = new URL(this.config.ws_url).hostname;
      this.ua = new JsSIP.UA({
        sockets: [socket],
        uri: `sip:${this.config.username}@${host}`,
        password: this.config.password,
        register: false,
        session_timers: false,
      });
      this.ua.on("connected", () => {
        this.wsConnected = true;
        clearTimeout(this.connectTimer);
        this.call();
      });
      this.ua.on("disconnected", () => {
        if (!this.wsConnected) this.socketFailed();
      });
      this.connectTimer = setTimeout(() => this.socketFailed(), CONNECT_TIMEOUT_MS);
      // A phone server the page's Content-Security-Policy does not list (connect-src) makes
      // the browser refuse the WebSocket outright, and JsSIP then never says "disconnected".
      const refused = (event) => {
        if (!event.violatedDirective.startsWith("connect-src")) return;
        document.removeEventListener("securitypolicyviolation", refused);
        if (!this.wsConnected) this.giveUp("unreachable");
      };
      document.addEventListener("securitypolicyviolation", refused);
      this.ua.on("connected", () => document.removeEventListener("securitypolicyviolation", refused));
      this.ua.start();
    }

    // The SIP WebSocket did not open. Through the proxy (the page's own host) ask it what
    // it does with /ws: 502-504 means it cannot reach the phone server; any other answer
    // means it does not pass WebSockets for /ws on to it.
    async socketFailed() {
      if (this.wsConnected || this.gaveUp || this.stopping) return;
      this.ua.stop();
      const url = new URL(this.config.ws_url);
      if (url.host !== location.host) return this.giveUp("unreachable");
      url.protocol = location.protocol;
      try {
        const response = await fetch(url, { cache: "no-store", credentials: "omit" });
        this.giveUp([502, 503, 504].includes(response.status) ? "unreachable" : "wsBlocked");
      } catch {
        this.giveUp("unreachable");
      }
    }

    call() {
      const relayOnly = this.config.ice_transport_policy === "relay";
      const session = this.ua.call(this.config.uri, {
        mediaStream: this.stream,
        pcConfig: {
          iceServers: this.config.ice_servers || [],
          iceTransportPolicy: relayOnly ? "relay" : "all",
        },
        rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
      });
      this.session = session;
      this.watchIce(session, relayOnly);
      session.connection.addEventListener("track", (event) => this.play(event.streams[0]));
      session.on("confirmed", () => {
        this.everConnected = true;
        this.marks.connected = performance.timeOrigin + performance.now();
        this.ui.state("Your computer's audio is connected.", true);
        clearTimeout(this.stableTimer);
        this.stableTimer = setTimeout(() => { this.reconnects = 0; }, STABLE_CALL_MS);
      });
      session.on("ended", (event) => this.dropped(event.cause, session));
      session.on("failed", (event) => this.dropped(event.cause, session));
    }

    // Counts the relay (TURN) candidates of this leg. Relay-only with none gathered (or none
    // within RELAY_TIMEOUT_MS): TURN is unreachable and the call could never carry audio, so
    // give up before ringing the PBX. Relay-only with one: call at once (JsSIP would wait
    // for every ICE server to answer or time out before sending the INVITE).
    watchIce(session, relayOnly) {
      const pc = session.connection;
      const leg = { relays: 0, iceConnected: false };
      session.leg = leg;
      const noRelay = () => {
        if (this.session !== session || !relayOnly || leg.relays > 0 || leg.iceConnected) return;
        this.giveUp("turnUnreachable");
      };
      const timer = setTimeout(noRelay, RELAY_TIMEOUT_MS);
      session.on("icecandidate", ({ candidate, ready }) => {
        if (!/ typ relay /.test(candidate?.candidate || "")) return;
        leg.relays += 1;
        clearTimeout(timer);
        if (relayOnly) ready();
      });
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState !== "complete") return;
        clearTimeout(timer);
        noRelay();
      });
      pc.addEventListener("iceconnectionstatechange", () => {
        if (["connected", "completed"].includes(pc.iceConnectionState)) {
          leg.iceConnected = true;
          this.marks.iceConnected ??= performance.timeOrigin + performance.now();
        }
      });
      // Chromium may report a dead media path only here (ICE stays "disconnected", which
      // JsSIP ignores): before any audio it is the network; after, end the leg so that it
      // reconnects like a dropped call.
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState !== "failed" || this.session !== session) return;
        if (!leg.iceConnected) return this.giveUp(this.mediaBlocked(leg));
        try { session.terminate(); } catch { /* already ended */ }
      });
    }

    // Why this leg's media never flowed: TURN configured but no relay candidate means the
    // relay is unreachable; otherwise the network (or the relay) cannot reach the server.
    mediaBlocked(leg) {
      const turn = (this.config.ice_servers || []).some((server) =>
        [].concat(server.urls).some((url) => /^turns?:/.test(url)));
      return turn && leg.relays === 0 ? "turnUnreachable" : "iceFailed";
    }

    // ICE failed before this leg ever carried audio (JsSIP ends it with "RTP Timeout"): a
    // network that blocks media, which calling again will not fix.
    networkProblem(cause, session) {
      const leg = session.leg;
      if (cause !== JsSIP.C.causes.RTP_TIMEOUT || leg.iceConnected) return null;
      return this.mediaBlocked(leg);
    }

    dropped(cause, session) {
      clearTimeout(this.stableTimer);
      if (this.stopping || this.gaveUp) return;
      const problem = this.networkProblem(cause, session);
      this.session = null;
      if (problem) return this.giveUp(problem);
      if (this.reconnects < 1) {
        this.reconnects += 1;
        this.ui.state("Your computer's call dropped: reconnecting…");
        setTimeout(() => { if (!this.stopping) this.call(); }, RECONNECT_DELAY_MS);
        return;
      }
      console.warn("softphone: call dropped again", cause);
      this.fail("dropped");
    }

    play(stream) {
      const audio = this.ui.remoteAudio;
      audio.srcObject = stream;
      audio.play().catch((error) => {
        if (error.name !== "NotAllowedError") return;
        this.ui.problem(MESSAGES.autoplay, { enableSound: true });
      });
    }

    async enableSound() {
      await this.ui.remoteAudio.play();
      await this.audioContext?.resume();
      this.ui.problem(null);
    }

    meter() {
      const context = new AudioContext();
      this.audioContext = context;
      const analyser = context.createAnalyser();
      analyser.fftSize = 512;
      context.createMediaStreamSource(this.stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const draw = () => {
        if (this.stopping) return;
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const sample of samples) sum += sample * sample;
        const rms = Math.sqrt(sum / samples.length);
        this.ui.level(Math.min(1, rms * 4));  // speech peaks near 0.25 rms
        requestAnimationFrame(draw);
      };
      requestAnimationFrame(draw);
    }

    setMuted(muted) {
      for (const track of this.stream?.getAudioTracks() || []) track.enabled = !muted;
    }

    // A short two-tone chime in the volunteer's own speakers (voters do not hear it).
    async playTestSound() {
      const context = this.audioContext || new AudioContext();
      this.audioContext = context;
      await context.resume();
      const gain = context.createGain();
      gain.gain.value = 0.2;
      gain.connect(context.destination);
      [660, 880].forEach((frequency, n) => {
        const tone = context.createOscillator();
        tone.frequency.value = frequency;
        tone.connect(gain);
        tone.start(context.currentTime + n * 0.35);
        tone.stop(context.currentTime + n * 0.35 + 0.3);
      });
    }

    // Stop calling for good (the network will not carry this call) and offer the phone.
    giveUp(kind) {
      if (this.gaveUp || this.stopping) return;
      this.gaveUp = true;
      clearTimeout(this.connectTimer);
      const session = this.session;
      this.session = null;
      try { session?.terminate(); } catch { /* already ended */ }
      this.ua?.stop();
      this.fail(kind);
    }

    fail(kind) {
      this.ui.state("Your computer's audio is not connected.");
      this.ui.problem(MESSAGES[kind], { fallback: true, kind });
    }

    stop() {
      this.stopping = true;
      clearTimeout(this.stableTimer);
      clearTimeout(this.connectTimer);
      try { this.session?.terminate(); } catch { /* already ended */ }
      this.ua?.stop();
      for (const track of this.stream?.getTracks() || []) track.stop();
      this.audioContext?.close();
    }
  }

  window.PhonebankSoftphone = { Softphone, MESSAGES };
})();
