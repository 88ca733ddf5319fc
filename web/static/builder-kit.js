// phonebank campaign form: small helpers the survey and term-code builders share (elements,
// ids made from labels, moving items, "Deleted … Undo").
"use strict";

window.PhonebankBuilderKit = (() => {
  /** An element with attributes and text (always inserted as text, never as HTML). */
  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  /** A button with its visible text; `name` (if given) adds which item it acts on. */
  function button(text, onClick, attrs = {}) {
    const node = el("button", { type: "button", class: "button small", ...attrs }, text);
    node.addEventListener("click", onClick);
    return node;
  }

  /** "Can we count on you?" → "can_we_count_on_you" (letters, digits and _; at most 40). */
  function slug(text) {
    return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40).replace(/_+$/, "");
  }

  /** `base`, or base_2, base_3… when it is taken; `fallback` when base is empty. */
  function unique(base, taken, fallback) {
    const start = base || fallback;
    let name = start;
    for (let n = 2; taken.has(name); n += 1) name = `${start}_${n}`;
    return name;
  }

  /** Move list[i] by delta (-1 up, +1 down); the new index, or i when it cannot move. */
  function move(list, i, delta) {
    const j = i + delta;
    if (j < 0 || j >= list.length) return i;
    [list[i], list[j]] = [list[j], list[i]];
    return j;
  }

  /** Show "message" with an Undo button in `status` (a role=status element). */
  function offerUndo(status, message, undo) {
    const again = button("Undo", () => {
      status.replaceChildren(el("span", {}, "Restored."));
      undo();
    }, { class: "button small undo" });
    status.replaceChildren(el("span", {}, message + " "), again);
  }

  /** Focus the element with this id (after a redraw), if it is there and enabled. */
  function refocus(id) {
    const node = id && document.getElementById(id);
    if (node && !node.disabled) node.focus();
    return Boolean(node && !node.disabled);
  }

  return { el, button, slug, unique, move, offerUndo, refocus };
})();
