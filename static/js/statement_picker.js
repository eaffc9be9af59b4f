// The statement picker of the sign and amend forms: type-ahead over the coded statement
// library (codes and words), grouped by category, with the current choices always listed
// as chips. The <select multiple> stays the form's source of truth (and works without
// JavaScript); this only drives it. Conflicts the server would refuse (not exactly one
// rhythm statement, "Normal ECG" with abnormal ones, excluding pairs) are said beside the
// field as the doctor picks; the server checks again on sign.
(function () {
  const rules = JSON.parse(document.getElementById("statement-rules")?.textContent || "null");
  document.querySelectorAll("select.statement-select").forEach((select) => build(select, rules));
  // A refused signature: the summary beside the button takes the focus (it is on screen).
  // Again once the page has loaded, unless the doctor has moved on: a focus given while the
  // page is still loading can be dropped by the browser.
  const summary = document.getElementById("sign-errors");
  if (summary) {
    summary.focus();
    window.addEventListener("load", () => {
      if (document.activeElement === document.body) summary.focus();
    });
  }

  function build(select, rules) {
    const picker = document.createElement("div");
    picker.className = "statement-picker";
    const chips = document.createElement("ul");
    chips.className = "chosen-statements";
    chips.setAttribute("aria-label", "Chosen statements: arrow keys move between them, Delete removes one");
    const search = document.createElement("input");
    search.type = "search";
    search.className = "statement-search";
    search.placeholder = "Find a statement: type a code or words (e.g. \"av block\", PVC)";
    search.setAttribute("aria-label", "Find a statement");
    const list = document.createElement("div");
    list.className = "statement-list";
    const warnings = document.createElement("p");
    warnings.className = "statement-warnings error";
    warnings.setAttribute("role", "status");
    // What the keyboard did, said politely: the matches as the doctor types, and every
    // statement added or removed (Enter had added the first match unsaid; an audit).
    const announcement = document.createElement("p");
    announcement.className = "statement-announcement muted";
    announcement.setAttribute("role", "status");
    announcement.setAttribute("aria-live", "polite");
    picker.append(chips, search, announcement, list, warnings);
    select.hidden = true;
    select.after(picker);

    const items = [];
    select.querySelectorAll("optgroup").forEach((group) => {
      const heading = document.createElement("h4");
      heading.textContent = group.label;
      const box = document.createElement("div");
      box.className = "statement-group";
      box.append(heading);
      group.querySelectorAll("option").forEach((option) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "statement-option";
        button.dataset.code = option.value;
        button.innerHTML = `<span class="mono">${option.value}</span> ${escapeHtml(option.text)}`;
        button.addEventListener("click", () => {
          option.selected = !option.selected;
          refresh();
          announce((option.selected ? "Added: " : "Removed: ") + option.text + ".");
        });
        box.append(button);
        items.push({ option, button, box, words: (option.value + " " + option.text).toLowerCase().replace(/_/g, " ") });
      });
      list.append(box);
    });

    // The chosen statements are one Tab stop (a roving tabindex): the arrows, Home and End move
    // between them, Delete or Backspace removes the one focused, as its × does (a keyboard had
    // tabbed through every chip; an accessibility audit).
    let current = null;  // the code of the chip that is the Tab stop
    chips.addEventListener("focusin", (event) => {
      const chip = event.target.closest(".statement-chip");
      if (!chip) return;
      current = chip.dataset.code;
      chipButtons().forEach((b) => { b.tabIndex = b === event.target ? 0 : -1; });
    });
    chips.addEventListener("keydown", (event) => {
      const buttons = chipButtons(), k = buttons.indexOf(event.target);
      if (k < 0) return;
      if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); event.target.click(); return; }
      const to = { ArrowRight: k + 1, ArrowDown: k + 1, ArrowLeft: k - 1, ArrowUp: k - 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      buttons[Math.max(0, Math.min(buttons.length - 1, to))].focus();
    });
    function chipButtons() {
      return [...chips.querySelectorAll(".statement-chip button")];
    }

    search.addEventListener("input", () => { filter(); announce(matchesSaid()); });
    search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();  // Enter never submits the form
      const chosen = enterChoice();
      if (!chosen) { announce(matchesSaid()); return; }
      if (chosen.option.selected) { announce("Already chosen: " + chosen.option.text + "."); return; }
      chosen.option.selected = true;
      search.value = "";
      filter();
      refresh();
      announce("Added: " + chosen.option.text + ".");
    });

    function enterChoice() {
      // Enter adds only what the text names: a code or a statement's name typed in full, or
      // the one statement left. It had added the first of several ("av block" + Enter gave
      // "Complete heart block"), unsaid.
      const typed = search.value.trim().toLowerCase();
      const exact = items.find((it) => typed && (it.option.value.toLowerCase() === typed
        || it.option.text.toLowerCase() === typed));
      const shown = items.filter((it) => !it.button.hidden);
      return exact || (typed && shown.length === 1 ? shown[0] : null);
    }

    function matchesSaid() {
      const typed = search.value.trim();
      if (!typed) return "";
      const count = items.filter((it) => !it.button.hidden).length;
      if (!count) return `No statement matches "${typed}".`;
      if (count === 1) return `1 statement matches "${typed}": press Enter to add it.`;
      return `${count} statements match "${typed}": Tab to them, or type more.`;
    }

    function announce(text) {
      announcement.textContent = text;
    }

    function filter() {
      const terms = search.value.toLowerCase().replace(/_/g, " ").split(/\s+/).filter(Boolean);
      items.forEach((it) => { it.button.hidden = !terms.every((t) => it.words.includes(t)); });
      list.querySelectorAll(".statement-group").forEach((box) => {
        box.hidden = !box.querySelector(".statement-option:not([hidden])");
      });
    }

    function refresh() {
      chips.replaceChildren();
      const chosen = items.filter((it) => it.option.selected);
      chosen.forEach((it) => {
        const chip = document.createElement("li");
        chip.className = "statement-chip";
        chip.dataset.code = it.option.value;
        chip.textContent = it.option.text + " ";
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.setAttribute("aria-label", "Remove " + it.option.text);
        remove.textContent = "×";
        remove.addEventListener("click", () => {
          // The chips are drawn again: the focus goes to the next chip's button (or the
          // previous, or the search), not to the page (it had fallen to <body>; an audit).
          const place = items.filter((x) => x.option.selected).indexOf(it);
          it.option.selected = false;
          refresh();
          announce("Removed: " + it.option.text + ".");
          const left = chipButtons();
          (left[Math.min(place, left.length - 1)] || search).focus();
        });
        chip.append(remove);
        chips.append(chip);
      });
      const stop = Math.max(0, chosen.findIndex((it) => it.option.value === current));
      chipButtons().forEach((b, i) => { b.tabIndex = i === stop ? 0 : -1; });
      if (!chosen.length) chips.innerHTML = '<li class="muted">No statement chosen yet.</li>';
      items.forEach((it) => it.button.setAttribute("aria-pressed", String(it.option.selected)));
      warnings.textContent = rules ? conflicts(chosen.map((it) => it.option.value), rules).join(" ") : "";
    }
    filter();
    refresh();
  }

  function conflicts(codes, rules) {
    // As ml.vocabulary.contradictions: on a recording read as episodes, AF/flutter beside
    // another rhythm statement is paroxysmal AF, not a second underlying rhythm, and
    // bigeminy and trigeminy are episodes at different times.
    const out = [];
    const paroxysmal = rules.episodes && codes.includes("AF")
      && codes.some((c) => c !== "AF" && rules.rhythm.includes(c));
    // ml.vocabulary.counted_rhythms: on episodes AF or VF may stand beside the underlying one.
    const all = codes.filter((c) => rules.rhythm.includes(c));
    const underlying = all.filter((c) => c !== "AF" && c !== "VF");
    const rhythms = !rules.episodes ? all : underlying.length ? underlying
      : (all.includes("AF") && all.includes("VF") ? ["AF"] : all);
    // "Unclassifiable: too noisy" stands in place of a rhythm statement, never beside one.
    const unreadable = codes.includes(rules.unreadable);
    if (unreadable && rhythms.length) out.push(`"${rules.labels[rules.unreadable]}" says no rhythm can be read: it cannot stand with ${rhythms.map((c) => `"${rules.labels[c]}"`).join(", ")}.`);
    else if (!unreadable && rhythms.length !== 1) out.push(`Choose exactly one rhythm statement (now ${rhythms.length}).`);
    if (codes.includes("NORMAL")) {
      const abnormal = codes.filter((c) => c !== "NORMAL" && c !== "SINUS");
      if (abnormal.length) out.push(`"Normal ECG" cannot be signed with ${abnormal.map((c) => rules.labels[c]).join(", ")}.`);
    }
    rules.exclusions.forEach(([a, b]) => {
      // As `ml.vocabulary.contradictions`: on episodes a dropped beat lies outside AF.
      const droppedOutsideAf = rules.episodes && a === "AF" && b === "DROPPED_BEAT";
      const episodePair =
        (paroxysmal && a === "AF") || (rules.episodes && a === "BIGEMINY") || droppedOutsideAf;
      if (codes.includes(a) && codes.includes(b) && !episodePair) out.push(`"${rules.labels[a]}" and "${rules.labels[b]}" exclude each other.`);
    });
    return out;
  }

  function escapeHtml(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }
})();
