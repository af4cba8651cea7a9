// The desk's few behaviours: sign-in, actions by fetch (JSON, with the CSRF token),
// keyboard shortcuts, and evidence offsets from a selection in the article.
"use strict";
(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  function flash(text, error) {
    const box = document.getElementById("flash");
    if (!box) return;
    const div = document.createElement("div");
    div.className = "msg" + (error ? " error" : "");
    div.textContent = text;
    box.appendChild(div);
    setTimeout(() => div.remove(), error ? 12000 : 4000);
  }

  async function send(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const problem = data || {};
      const error = new Error(problem.detail || response.statusText);
      error.status = response.status;
      error.code = problem.code;
      throw error;
    }
    return data;
  }

  // --- sign-in and sign-out ------------------------------------------------------------
  const signIn = document.getElementById("sign-in");
  if (signIn) {
    signIn.addEventListener("submit", async (event) => {
      event.preventDefault();
      const keyInput = signIn.elements.namedItem("key");
      const body = { key: keyInput.value, csrf: signIn.elements.namedItem("csrf").value };
      keyInput.value = "";
      try {
        const next = signIn.dataset.next || "/desk";
        const done = await send("POST", "/desk/api/sign-in?next=" + encodeURIComponent(next), body);
        window.location.assign(done.next);
      } catch (error) {
        flash(error.message, true);
        if (error.code === "csrf_failed") window.location.reload();
      }
    });
  }
  const signOut = document.getElementById("sign-out");
  if (signOut) {
    signOut.addEventListener("click", async () => {
      try { await send("POST", "/desk/api/sign-out", {}); } catch (error) { /* gone already */ }
      window.location.assign("/desk/sign-in");
    });
  }

  // --- the review page --------------------------------------------------------------------
  const review = document.querySelector(".review");
  if (!review) return;
  const sourceId = review.dataset.source;
  const article = document.getElementById("article");
  const drafts = Array.from(document.querySelectorAll("article.draft"));
  let current = -1;
  let armedConflict = null;

  function select(index) {
    if (!drafts.length) return;
    current = Math.max(0, Math.min(drafts.length - 1, index));
    drafts.forEach((d, i) => d.classList.toggle("selected", i === current));
    const card = drafts[current];
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
    document.querySelectorAll("mark.current").forEach((m) => m.classList.remove("current"));
    const marks = Array.from(article.querySelectorAll("mark")).filter(
      (m) => m.dataset.ids.split(" ").includes(card.dataset.id));
    marks.forEach((m) => m.classList.add("current"));
    if (marks.length) marks[0].scrollIntoView({ block: "nearest" });
  }
  drafts.forEach((card, i) => card.addEventListener("click", (event) => {
    if (!event.target.closest("form")) select(i);
  }));
  function selected() { return current >= 0 ? drafts[current] : null; }
  function base(card) { return "/desk/api/" + card.dataset.kind + "s/" + encodeURIComponent(card.dataset.id); }

  // Form fields as a flat object; numbers where the server wants them.
  function fields(form) {
    const out = {};
    for (const element of form.elements) {
      if (!element.name || element.name === "reason" || element.name === "text" || element.name === "publish") continue;
      if (element.type === "submit" || element.type === "button") continue;
      out[element.name] = element.type === "number" ? Number(element.value) : element.value;
    }
    return out;
  }

  async function act(card, what, payload) {
    try {
      await send(what === "edit" ? "PATCH" : "POST",
        base(card) + (what === "edit" ? "" : "/" + what),
        Object.assign({ revision: Number(card.dataset.revision) }, payload));
      flash(what === "edit" ? "Saved." : (what === "publish" ? "Published." : "Rejected."));
      window.location.reload();
    } catch (error) {
      flash(error.message, true);
    }
  }

  function publish(card) {
    const conflicted = Number(card.dataset.conflicts || 0) > 0;
    if (conflicted && armedConflict !== card) {
      armedConflict = card;
      card.querySelector(".conflict-warning").scrollIntoView({ block: "nearest" });
      flash("This draft conflicts with a published figure (see the warning). Press p again to publish anyway.", true);
      return;
    }
    armedConflict = null;
    act(card, "publish", { accept_conflicts: conflicted });
  }
  function open(card, cls) {
    card.querySelectorAll("form").forEach((f) => { f.hidden = !f.classList.contains(cls); });
    const form = card.querySelector("form." + cls);
    const first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }
  function closeForms() {
    document.querySelectorAll("article.draft form, form.add-form").forEach((f) => { f.hidden = true; });
    if (selected()) selected().focus({ preventScroll: true });
  }

  drafts.forEach((card) => {
    card.querySelectorAll("[data-action]").forEach((button) => button.addEventListener("click", () => {
      select(drafts.indexOf(card));
      const action = button.dataset.action;
      if (action === "publish") publish(card);
      if (action === "reject") open(card, "reject-form");
      if (action === "edit") open(card, "edit-form");
    }));
    card.querySelector("form.reject-form").addEventListener("submit", (event) => {
      event.preventDefault();
      act(card, "reject", { reason: event.target.elements.namedItem("reason").value });
    });
    card.querySelector("form.edit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      act(card, "edit", { reason: form.elements.namedItem("reason").value || null, fields: fields(form) });
    });
  });
  document.querySelectorAll("[data-cancel]").forEach((b) => b.addEventListener("click", closeForms));

  // --- a selection in the article -> evidence offsets -------------------------------------
  // Offsets are Python code points; JavaScript strings count UTF-16 units. Each piece of the
  // article carries its start in code points (data-start), so an offset is that start plus
  // the code points of the piece's text before the caret.
  function codePoints(text) { let n = 0; for (const _ of text) n += 1; return n; }
  function pieceOf(node) {
    let element = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    while (element && element !== article && !element.hasAttribute("data-start")) element = element.parentElement;
    return element && element !== article ? element : null;
  }
  function offsetOf(node, offset) {
    if (node === article) {
      if (offset >= article.childNodes.length) return Number(article.dataset.length);
      return Number(article.childNodes[offset].dataset.start);
    }
    const piece = pieceOf(node);
    if (!piece) return null;
    const start = Number(piece.dataset.start);
    if (node.nodeType === Node.TEXT_NODE) return start + codePoints(node.data.slice(0, offset));
    return offset === 0 ? start : start + codePoints(piece.textContent);
  }
  function articleSelection() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!article.contains(range.startContainer) || !article.contains(range.endContainer)) return null;
    let start = offsetOf(range.startContainer, range.startOffset);
    let end = offsetOf(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return null;
    const all = Array.from(article.textContent);   // code points, like Python's str
    while (start < end && /\s/.test(all[start])) start += 1;
    while (end > start && /\s/.test(all[end - 1])) end -= 1;
    if (end <= start) return null;
    return { start: start, end: end, text: all.slice(start, end).join("") };
  }
  const bar = document.getElementById("selection-bar");
  let lastSelection = null;
  document.addEventListener("selectionchange", () => {
    const found = articleSelection();
    if (found) lastSelection = found;
    bar.hidden = !found;
    if (found) document.getElementById("selection-info").textContent =
      "[" + found.start + ":" + found.end + "] " + (found.text.length > 60 ? found.text.slice(0, 60) + "…" : found.text);
  });
  function addFrom(kind) {
    const found = articleSelection() || lastSelection;
    if (!found) { flash("Select words in the article first.", true); return; }
    const form = document.getElementById(kind === "fact" ? "add-fact" : "add-quote");
    document.querySelectorAll("form.add-form").forEach((f) => { f.hidden = f !== form; });
    form.hidden = false;
    form.querySelector(".selected-words").textContent = found.text;
    form.elements.namedItem("text").value = found.text;
    form.elements.namedItem("evidence_start").value = found.start;
    form.elements.namedItem("evidence_end").value = found.end;
    const statement = form.elements.namedItem("statement");
    if (statement && !statement.value) statement.value = found.text;
    form.scrollIntoView({ block: "nearest" });
    const first = form.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  }
  document.querySelectorAll("[data-add]").forEach((b) => b.addEventListener("click", () => addFrom(b.dataset.add)));
  document.querySelectorAll("form.add-form").forEach((form) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const publishNow = !(event.submitter && event.submitter.value === "0");
    const kind = form.id === "add-fact" ? "facts" : "quotes";
    try {
      const made = await send("POST", "/desk/api/" + kind, {
        source_id: sourceId,
        text: form.elements.namedItem("text").value,
        fields: fields(form),
        publish: publishNow,
        reason: form.elements.namedItem("reason").value || null,
      });
      flash("Added " + made.id + " (" + made.status + ").");
      window.location.reload();
    } catch (error) {
      flash(error.message, true);
    }
  }));

  // --- keyboard ----------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    if (event.key === "Escape") { closeForms(); return; }
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        const form = event.target.closest("form");
        if (form) { event.preventDefault(); form.requestSubmit(form.querySelector("button[type=submit]")); }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const card = selected();
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "p": if (card) publish(card); break;
      case "r": if (card) { event.preventDefault(); open(card, "reject-form"); } break;
      case "e": if (card) { event.preventDefault(); open(card, "edit-form"); } break;
      case "h": if (card && card.dataset.kind === "fact") window.location.assign("/desk/facts/" + encodeURIComponent(card.dataset.id) + "/history"); break;
      case "f": event.preventDefault(); addFrom("fact"); break;
      case "q": event.preventDefault(); addFrom("quote"); break;
      case "u": window.location.assign("/desk"); break;
      case "?": document.getElementById("keys").showModal(); break;
      default: return;
    }
  });
  if (drafts.length) select(0);
})();
