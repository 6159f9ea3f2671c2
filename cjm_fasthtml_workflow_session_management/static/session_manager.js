// Client script of cjm-fasthtml-workflow-session-management: keyboard, dialogs, focus and error alerts.
// Loaded once per page. It builds no HTML and holds no data: sessions are read from the DOM
// (`data-session-id`, the label link's textContent) and written only as input values and textContent.
(function () {
  "use strict";
  if (window.smSessionManagerLoaded) return;
  window.smSessionManagerLoaded = true;

  var NAV_KEYS = { ArrowUp: "nav-up", ArrowDown: "nav-down", PageUp: "nav-page-up", PageDown: "nav-page-down",
                   Home: "nav-first", End: "nav-last" };
  var returnTo = null;  // session id whose row gets focus back when a dialog closes

  function byId(id) { return document.getElementById(id); }
  function root() { return byId("sm-root"); }
  function inRoot(el) { var r = root(); return !!(r && el && r.contains(el)); }
  function cssId(id) { return window.CSS && CSS.escape ? CSS.escape(id) : id.replace(/["\\]/g, "\\$&"); }

  // The session an element belongs to: the nearest ancestor holding a [data-session-id] (a row, or the detail view).
  function sessionOf(el) {
    for (var node = el; node && node !== document.body; node = node.parentElement) {
      var holder = node.matches("[data-session-id]") ? node : node.querySelector("[data-session-id]");
      if (holder) {
        var label = holder.querySelector("[data-sm-label]") || holder;
        return { id: holder.dataset.sessionId, label: label.textContent.trim(), holder: holder };
      }
    }
    return null;
  }
  function cursorSession() {
    var marker = root() && root().querySelector("[data-sm-cursor]");
    return marker ? sessionOf(marker) : null;
  }
  // The element to focus for a session: its list row, or the holder itself (detail view).
  function focusTarget(holder) {
    return holder.closest('[id^="sm-vc-row-"]:not([id*="-col-"])') || holder;
  }
  function focusSession(id) {
    var holder = id && root() && root().querySelector('[data-session-id="' + cssId(id) + '"]');
    var s = holder ? { holder: holder } : cursorSession();
    if (!s) return;
    var target = focusTarget(s.holder);
    if (!target.hasAttribute("tabindex")) target.tabIndex = -1;
    target.focus();
  }
  function click(id) { var b = byId(id); if (b) b.click(); }

  // --- dialogs ---------------------------------------------------------------------------------------
  function openDialog(dialog, session) {
    returnTo = session.id;
    dialog.showModal();
  }
  function openRename(session) {
    var dialog = byId("sm-rename-modal"), input = byId("sm-rename-input");
    if (!dialog || !session) return;
    byId("sm-rename-id").value = session.id;
    input.value = session.label;
    openDialog(dialog, session);
    input.select();
  }
  function openDelete(session) {
    var dialog = byId("sm-delete-modal");
    if (!dialog || !session) return;
    byId("sm-delete-id").value = session.id;
    dialog.querySelector("[data-sm-fill=label]").textContent = session.label;
    openDialog(dialog, session);
  }
  document.addEventListener("close", function (e) {
    if (e.target.matches && e.target.matches("dialog[data-sm-dialog]")) {
      var id = returnTo;
      returnTo = null;
      focusSession(id);
    }
  }, true);

  // --- clicks ----------------------------------------------------------------------------------------
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.matches && t.matches("dialog[data-sm-dialog]")) { t.close(); return; }  // a click on the backdrop
    var closer = t.closest("[data-sm-close]");
    if (closer) { closer.closest("dialog").close(); return; }
    var clear = t.closest("[data-sm-clear-search]");
    if (clear && inRoot(clear)) {
      var box = byId("sm-search");
      box.value = "";
      htmx.trigger(box, "search");
      box.focus();
      return;
    }
    var action = t.closest("[data-sm-action]");
    if (!action || !inRoot(action)) return;
    if (action.dataset.smAction === "rename") openRename(sessionOf(action));
    else if (action.dataset.smAction === "delete") openDelete(sessionOf(action));
  });

  // --- one request at a time -------------------------------------------------------------------------
  // The user's view lives server-side, so the manager's requests go out one by one, each after the answer to
  // the one before. F2 and Delete wait in the same line, so they act on the row the moves before them land on.
  // When an answer has replaced the element of a waiting request, its replacement (a sort header, a pager button)
  // sends it instead; a row has no lasting identity (its place and its session may both have changed), so a
  // click on one is dropped. Either way the line moves on: htmx's own hx-sync queue would stall behind a
  // replaced element and fire the rest on some later, unrelated request.
  var inFlight = new WeakSet(), pending = 0, waiting = [], releasing = false;
  function inLine(action) { if (pending || waiting.length) waiting.push(action); else action(); }
  function nextInLine() { while (!pending && waiting.length) waiting.shift()(); }  // a request sent sets `pending`
  function replacementOf(elt) {
    var sort = elt.dataset && elt.dataset.smSort, r = root();
    if (sort) return r && r.querySelector('[data-sm-sort="' + cssId(sort) + '"]');
    return elt.id && !/^sm-vc-row-/.test(elt.id) ? byId(elt.id) : null;
  }
  document.addEventListener("htmx:confirm", function (e) {
    if (releasing || !inRoot(e.detail.elt) || (!pending && !waiting.length)) return;
    e.preventDefault();
    var elt = e.detail.elt, issue = e.detail.issueRequest, type = e.detail.triggeringEvent ? e.detail.triggeringEvent.type : "click";
    waiting.push(function () {
      if (document.body.contains(elt)) { issue(true); return; }
      var again = replacementOf(elt);
      if (!again) return;
      releasing = true;  // htmx readies swapped-in elements only as they settle: ready this one now, then send
      try { htmx.process(again); htmx.trigger(again, type); } finally { releasing = false; }
    });
  });
  document.addEventListener("htmx:beforeSend", function (e) {
    if (inRoot(e.detail.elt)) { inFlight.add(e.detail.xhr); pending++; }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (!inFlight.delete(e.detail.xhr)) return;  // not ours, or already counted (htmx may fire it twice)
    pending--;
    setTimeout(nextInLine, 0);  // after the answer has been swapped in
  });

  // A double click on a row (not on its link or buttons) resumes it: its clicks put the cursor there, and
  // Enter's resume of the cursor row queues behind them.
  document.addEventListener("dblclick", function (e) {
    var t = e.target;
    if (inRoot(t) && !t.closest("a, button, input, select") && t.closest('[id^="sm-vc-row-"]')) click("sm-vc-btn-activate");
  });

  // --- keyboard --------------------------------------------------------------------------------------
  document.addEventListener("keydown", function (e) {
    var r = root(), t = e.target;
    if (!r || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector("dialog[open]")) return;  // the open dialog owns the keyboard
    if (t !== document.body && !r.contains(t)) return;   // keys elsewhere belong to the host page
    if (t.id === "sm-search" && e.key === "ArrowDown") { e.preventDefault(); focusSession(null); return; }  // on to the results
    if (t.closest("input, textarea, select, [contenteditable]")) return;
    if (t.matches("[data-sm-sort]") && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); t.click(); return; }
    var onControl = !!t.closest("button, a, summary");
    if (NAV_KEYS[e.key]) { e.preventDefault(); click("sm-vc-btn-" + NAV_KEYS[e.key]); }
    else if (e.key === "Enter" && !onControl) { e.preventDefault(); click("sm-vc-btn-activate"); }
    else if (e.key === "F2" || e.key === "Delete") {
      e.preventDefault();
      var open = e.key === "F2" ? openRename : openDelete, own = onControl ? sessionOf(t) : null;
      inLine(function () { if (!document.querySelector("dialog[open]")) open(own || cursorSession()); });
    }
    else if (e.key === "n" && !e.shiftKey) { e.preventDefault(); click("sm-new-session"); }
    else if (e.key === "/") { var box = byId("sm-search"); if (box) { e.preventDefault(); box.focus(); box.select(); } }
  });

  // --- htmx ------------------------------------------------------------------------------------------
  // Resume buttons post the id of their row's session.
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    if (elt.matches && elt.matches("[data-sm-action=resume]") && inRoot(elt)) {
      var s = sessionOf(elt);
      if (s) e.detail.parameters.session_id = s.id;
    }
  });
  // The manager answers bad input with a 4xx whose body is an alert for the alert area: show it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    if (status >= 400 && status < 500 && inRoot(e.detail.elt)) { e.detail.shouldSwap = true; e.detail.isError = false; }
  });
  // No answer from the manager (network down, or a 5xx): show the page's matching alert template.
  function showTransportError(kind) {
    var template = root() && root().querySelector('template[data-sm-error="' + kind + '"]'), area = byId("sm-alerts");
    if (template && area) area.replaceChildren(template.content.cloneNode(true));
  }
  document.addEventListener("htmx:sendError", function (e) { if (inRoot(e.detail.elt)) showTransportError("network"); });
  document.addEventListener("htmx:responseError", function (e) {
    if (inRoot(e.detail.elt) && e.detail.xhr.status >= 500) showTransportError("server");
  });
  // A dialog's request is done: close it (its close handler returns focus to the row).
  document.addEventListener("htmx:afterRequest", function (e) {
    var dialog = e.detail.elt.closest && e.detail.elt.closest("dialog[data-sm-dialog]");
    if (dialog && dialog.open) dialog.close();
  });
  // After the list changes under the keyboard user (their focused row was swapped out), focus the cursor row.
  document.addEventListener("htmx:afterSettle", function () {
    var active = document.activeElement, body = byId("sm-list-body");
    if (!body || document.querySelector("dialog[open]")) return;
    if (active === document.body || body.contains(active)) { var s = cursorSession(); if (s) focusSession(s.id); }
  });
})();
