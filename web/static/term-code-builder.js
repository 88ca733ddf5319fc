// phonebank campaign form: the term-code builder. Each code has a label (what volunteers
// press), a code (what the results and the export keep) and a kind explained in words; every
// change is written into the #term_codes field as "code | label | kind" lines, the format the
// server reads. Typing in that field ("Advanced") redraws the builder.
"use strict";

(() => {
  const K = window.PhonebankBuilderKit;
  const { el, button } = K;
  const root = document.getElementById("term-builder");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const text = $(root.dataset.target);
  const status = $("term-builder-status");
  const KINDS = {
    contact: ["Talked to the voter",
      "You spoke with the voter: counted as a contact in the results."],
    "no contact": ["Did not talk to the voter",
      "Wrong number, someone else answered, or the voter hung up at once: recorded as no contact."],
    remove: ["Do not call again",
      "The person asked not to be called: the number goes on the do-not-call list."],
  };
  const placeholder = new WeakSet(); // codes made up here until the label gives one
  let codes = [];

  function parse() {
    const found = [];
    for (const line of text.value.split("\n")) {
      if (!line.trim()) continue;
      const parts = line.split("|").map((p) => p.trim());
      if (parts.length !== 3) return null;
      found.push({ code: parts[0], label: parts[1], kind: parts[2] });
    }
    return found;
  }

  function sync() {
    text.value = codes.map((c) => `${c.code} | ${c.label} | ${c.kind}`).join("\n");
    $("term-problem").textContent = problem();
  }

  /** The first problem the server would refuse, as one sentence ("" when none). */
  function problem() {
    if (!codes.length) return "Add at least one term code: volunteers pick one after every call.";
    const seen = new Set();
    for (const [i, c] of codes.entries()) {
      if (!c.label.trim()) return `Term code ${i + 1} needs a label.`;
      if (!c.code.trim()) return `Term code ${i + 1} (“${c.label}”) needs a code.`;
      if (c.code.includes("|") || c.label.includes("|")) return `Term code ${i + 1}: a label or code cannot contain “|”.`;
      if (seen.has(c.code)) return `Two term codes have the code '${c.code}'; give each its own code.`;
      seen.add(c.code);
    }
    return "";
  }

  function draw(focus) {
    root.replaceChildren(...codes.map(row));
    if (focus && !K.refocus(focus)) K.refocus("term-add");
  }

  function field(id, label, control, hint) {
    const wrap = el("div", { class: "field" });
    wrap.append(el("label", { for: id }, label), control);
    if (hint) wrap.append(hint);
    return wrap;
  }

  function row(c, i) {
    const key = `tb-c${i}`;
    const box = el("fieldset", { class: "builder-card term-card" });
    box.append(el("legend", {}, `Term code ${i + 1}`));
    const label = el("input", { id: `${key}-label`, autocomplete: "off" });
    const code = el("input", { id: `${key}-code`, class: "mono", autocomplete: "off" });
    label.value = c.label;
    code.value = c.code;
    label.addEventListener("input", () => {
      const auto = placeholder.has(c) || !c.code; // a saved code keeps its results value
      c.label = label.value;
      if (auto) {
        const taken = new Set(codes.filter((d) => d !== c).map((d) => d.code));
        c.code = code.value = K.unique(K.slug(label.value), taken, `code_${i + 1}`);
      }
      sync();
    });
    code.addEventListener("input", () => {
      placeholder.delete(c);
      c.code = code.value.trim();
      sync();
    });
    const kind = el("select", { id: `${key}-kind`, "aria-describedby": `${key}-kind-hint` });
    for (const [value, [name]] of Object.entries(KINDS)) {
      kind.append(el("option", { value, selected: c.kind === value ? "" : null }, name));
    }
    if (!KINDS[c.kind]) kind.append(el("option", { value: c.kind, selected: "" }, `${c.kind} (unknown kind)`));
    const hint = el("p", { class: "hint-plain", id: `${key}-kind-hint` }, (KINDS[c.kind] || ["", "Choose a kind."])[1]);
    kind.addEventListener("change", () => {
      c.kind = kind.value;
      hint.textContent = (KINDS[c.kind] || ["", ""])[1];
      sync();
    });
    const grid = el("div", { class: "term-grid" });
    grid.append(
      field(label.id, "Label volunteers see", label),
      field(code.id, "Code in the results", code),
      field(kind.id, "Kind", kind, hint),
    );
    box.append(grid, actions(c, i, key));
    return box;
  }

  function actions(c, i, key) {
    const moveTo = (delta, id) => () => {
      const j = K.move(codes, i, delta);
      sync();
      draw(null);
      if (!K.refocus(`tb-c${j}-${id}`)) K.refocus(`tb-c${j}-${id === "up" ? "down" : "up"}`);
      status.textContent = `Moved “${c.label || c.code}” to position ${j + 1}.`;
    };
    const bar = el("p", { class: "button-row builder-actions" });
    bar.append(
      button("Move up", moveTo(-1, "up"), { id: `${key}-up`, disabled: i === 0 ? "" : null, "aria-label": `Move up: term code ${i + 1}` }),
      button("Move down", moveTo(1, "down"), { id: `${key}-down`, disabled: i === codes.length - 1 ? "" : null, "aria-label": `Move down: term code ${i + 1}` }),
      button("Delete term code", () => {
        const removed = codes.splice(i, 1)[0];
        K.offerUndo(status, `Deleted term code “${removed.label || removed.code}”.`, () => {
          codes.splice(i, 0, removed);
          sync();
          draw(`${key}-label`);
        });
        sync();
        draw(`tb-c${Math.min(i, codes.length - 1)}-label`);
      }, { class: "button small danger", id: `${key}-delete`, "aria-label": `Delete term code ${i + 1}` }),
    );
    return bar;
  }

  $("term-add").addEventListener("click", () => {
    const taken = new Set(codes.map((c) => c.code));
    const added = { code: K.unique("", taken, `code_${codes.length + 1}`), label: "", kind: "contact" };
    placeholder.add(added);
    codes.push(added);
    sync();
    draw(`tb-c${codes.length - 1}-label`);
    status.textContent = `Added term code ${codes.length}.`;
  });

  text.addEventListener("input", () => {
    const value = parse();
    $("term-problem").textContent = value === null
      ? "Write one term code per line as code | label | kind; the builder shows the last list that could be read." : "";
    if (value === null) return;
    codes = value;
    draw(null);
    $("term-problem").textContent = problem();
  });

  const start = parse();
  $("term-builder-area").hidden = false;
  if (start === null) {
    $("term-problem").textContent = "A term code line cannot be read; fix it in the text view below and the builder follows.";
    return;
  }
  codes = start;
  $("term-advanced").open = false;
  draw(null);
})();
