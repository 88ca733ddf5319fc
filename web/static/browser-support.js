// phonebank: can this browser "Call using computer"? It needs a secure page (https, or
// localhost), WebRTC (RTCPeerConnection) and the microphone API (getUserMedia). When one is
// missing, the sign-in page disables the option and says why in one sentence, and the session
// page (reached anyway, e.g. with an old bookmark) shows that sentence with the phone call-in
// number and PIN instead of starting the softphone. Loaded after volunteer-softphone.js and
// before volunteer.js.
"use strict";

(() => {
  const SENTENCES = {
    insecure: "Calling from this computer needs this site's secure https:// address, so call " +
      "in from your phone instead.",
    webrtc: "This browser cannot make internet calls (it has no WebRTC), so call in from your " +
      "phone instead, or use a recent Chrome, Firefox or Safari.",
    microphone: "This browser does not let web pages use a microphone, so call in from your " +
      "phone instead.",
  };

  /** What is missing, most fundamental first: [] when the browser can make calls. */
  function missing() {
    const gaps = [];
    if (!window.isSecureContext) gaps.push("insecure");
    if (typeof window.RTCPeerConnection !== "function") gaps.push("webrtc");
    if (typeof navigator.mediaDevices?.getUserMedia !== "function") gaps.push("microphone");
    return gaps;
  }

  /** The one sentence for the first gap, or null when nothing is missing. */
  function sentence(gaps = missing()) {
    return gaps.length ? SENTENCES[gaps[0]] : null;
  }

  function signinPage(gaps) {
    const option = document.querySelector("input[name=audio_mode][value=browser]");
    const phone = document.querySelector("input[name=audio_mode][value=phone]");
    const hint = document.getElementById("browser-hint");
    if (!gaps.length || !option || !phone || !hint) return;
    option.disabled = true;
    option.checked = false;
    phone.checked = true;
    hint.textContent = sentence(gaps);
    hint.dataset.unsupported = gaps.join(" ");
    hint.classList.add("error");
  }

  // The softphone itself only checks getUserMedia; a browser without RTCPeerConnection would
  // ask for the microphone and then fail inside JsSIP. Check everything before it starts.
  function sessionPage(gaps) {
    const softphone = window.PhonebankSoftphone;
    if (!gaps.length || !softphone) return;
    softphone.Softphone.prototype.start = function startIfSupported() {
      softphone.MESSAGES.unsupported = sentence(gaps);
      document.documentElement.dataset.callingUnsupported = gaps.join(" ");
      const controls = document.querySelector(".softphone-controls");
      if (controls) controls.hidden = true;  // mute, level, test sound: nothing to control
      return Promise.resolve(this.fail("unsupported"));
    };
  }

  const gaps = missing();
  window.PhonebankBrowserSupport = { missing, sentence, SENTENCES };
  if (document.getElementById("signin-form")) signinPage(gaps);
  else if (document.getElementById("softphone")) sessionPage(gaps);
})();
