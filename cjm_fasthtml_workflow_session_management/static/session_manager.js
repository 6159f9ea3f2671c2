// Client script of cjm-fasthtml-workflow-session-management: keyboard, focus, selection, dialogs, the URL view,
// and staying live. Loaded once per page. It builds no HTML: it reads sessions and URLs from the DOM
// (`data-*` attributes, `textContent`) and writes only attributes, input values and `textContent`.
(function () {
  "use strict";
  if (window.wsmSessionManagerLoaded) return;
  window.wsmSessionManagerLoaded = true;

  // --- where things are ------------------------------------------------------------------------------
  function byId(id) { return document.getElementById(id); }
  function root() { return document.querySelector("[data-wsm-root]"); }
  function inRoot(el) { var r = root(); return !!(r && el && el.nodeType === 1 && r.contains(el)); }
  function body() { return byId("wsm-list-body"); }
  function rows() { var b = body(); return b ? Array.prototype.slice.call(b.querySelectorAll("tbody tr[data-session-id]")) : []; }
  function openDialog() { return document.querySelector("dialog[data-wsm-dialog][open]"); }
  function url(name) { var r = root(); return r ? r.getAttribute("data-wsm-" + name) : null; }
  function rowOf(el) { return el && el.closest ? el.closest("tr[data-session-id]") : null; }
  function labelOf(row) {
    var holder = row && (row.querySelector("th a, th span") || row.querySelector("[data-wsm-label]"));
    return holder ? holder.textContent.trim() : "";
  }
  function indexOf(row) { return parseInt(row.getAttribute("aria-rowindex"), 10) - 2; }
  function detail() { return byId("wsm-session-detail"); }
  function sessionOf(el) {  // {id, label} of the row or detail view an element belongs to
    var row = rowOf(el);
    if (row) return { id: row.dataset.sessionId, label: labelOf(row), row: row };
    var d = detail();
    if (d && d.dataset.sessionId && (!el || d.contains(el) || !rowOf(el))) {
      var h = d.querySelector("[data-wsm-label]");
      return { id: d.dataset.sessionId, label: h ? h.textContent.trim() : "", row: null };
    }
    return null;
  }
  function requestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return (Date.now().toString(36) + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2)).slice(0, 32);
  }

  // --- the view: it lives in the list body's data-view and in the address bar ---------------------------
  var VIEW_PARAMS = ["sort", "dir", "q", "step", "age", "unlabelled", "start", "rows", "trash"];
  function currentView() { var b = body(); return b ? b.dataset.view || "" : ""; }
  function viewOfLocation() {
    var params = new URLSearchParams(location.search), out = new URLSearchParams();
    params.forEach(function (v, k) { if (VIEW_PARAMS.indexOf(k) >= 0) out.append(k, v); });
    return out.toString();
  }
  function locationWithView(view) {
    var params = new URLSearchParams(location.search), kept = new URLSearchParams();
    params.forEach(function (v, k) { if (VIEW_PARAMS.indexOf(k) < 0) kept.append(k, v); });
    new URLSearchParams(view).forEach(function (v, k) { kept.append(k, v); });
    var q = kept.toString();
    return location.pathname + (q ? "?" + q : "") + location.hash;
  }
  var historyMode = "push";  // how the next list answer records its view: "push", "replace" or "none"
  function recordView() {
    var b = body();
    if (!b || detail()) return;
    var view = b.dataset.view || "";  // an empty data-view (the default view) may be left out of the markup
    if (view !== viewOfLocation() && historyMode !== "none") {
      history[historyMode === "replace" ? "replaceState" : "pushState"]({ wsmView: view }, "", locationWithView(view));
    }
    historyMode = "push";
  }
  window.addEventListener("popstate", function () {
    if (!body() || viewOfLocation() === currentView()) return;
    historyMode = "none";
    request("GET", url("list-sessions"), { view: viewOfLocation() || "start=0" });  // an empty value would not be sent
  });

  // --- requests ----------------------------------------------------------------------------------------
  // Every request from the manager carries the view the list shows and the focused row, unless it says
  // otherwise, and the ids of the rows shown: a move reads from the first or last of them, an action from the
  // first one left (by key, where a read by position deep in a long list would walk every row before it).
  // Keys that act on what the list shows wait for the answers on their way, then act on what those show
  var pending = 0, waiting = [], inFlight = new WeakSet();
  function whenIdle(action) { if (pending) waiting.push(action); else action(); }
  function drain() { while (!pending && waiting.length) waiting.shift()(); }
  function request(verb, to, values, source) {
    if (to) htmx.ajax(verb, to, { source: source || body() || root(), values: values || {}, swap: "none" });
  }
  function move(name, source) {
    historyMode = "replace";
    request("GET", url("vc") + "nav_" + name, {}, source);
  }
  function mentions(elt, name) {  // whether the control sending a request sets `name` itself (a form's inputs count even unchecked)
    var form = elt && (elt.tagName === "FORM" ? elt : elt.closest && elt.closest("form"));
    return !!(form && form.querySelector("[name='" + name + "']")) || (elt && elt.getAttribute && elt.getAttribute("name") === name);
  }
  function has(params, name) { return params.has ? params.has(name) : name in params; }  // htmx 2 gives a FormData proxy
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt, p = e.detail.parameters;
    if (!inRoot(elt)) return;
    var view = currentView();
    if (!has(p, "view") && body()) p.view = view;
    if (body()) p.was = view;  // the view the page shows, even when the control asks for another
    var cur = cursorRow();
    if (!has(p, "cursor") && cur) p.cursor = String(indexOf(cur));
    var rs = rows();
    if (rs.length && !has(p, "first")) { p.first = rs[0].dataset.sessionId; p.last = rs[rs.length - 1].dataset.sessionId; }
    if (rs.length && !has(p, "shown")) p.shown = rs.map(function (r) { return r.dataset.sessionId; }).join(",");
    if (!has(p, "request_id") && e.detail.verb !== "get" && !mentions(elt, "request_id")) p.request_id = requestId();
    var s = sessionOf(elt);
    if (s && !has(p, "session_id") && !mentions(elt, "session_id") && elt.closest("tr[data-session-id], #wsm-session-detail")) p.session_id = s.id;
    if (detail() && !has(p, "context")) p.context = "detail";
  });
  // Busy while a request is on its way: the control says so and takes no second click (it keeps the focus: a
  // disabled button would drop it), so a double click sends one request
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    if (!inRoot(elt)) return;
    inFlight.add(e.detail.xhr); pending++;
    var controls = elt.tagName === "FORM" ? Array.prototype.slice.call(elt.querySelectorAll("button[type=submit]")) : [elt];
    controls.forEach(function (c) {
      if (!c.matches("button, input, select")) return;
      c.setAttribute("aria-busy", "true");
      if (c.getAttribute("aria-disabled") !== "true") { c.setAttribute("aria-disabled", "true"); c.dataset.wsmBusy = "1"; }
    });
  });
  function busy(el) {  // whether a control (or a form, by its submit button) has a request on its way
    if (!el || !el.closest) return false;
    return !!(el.closest("[aria-busy=true]") || (el.tagName === "FORM" && el.querySelector("[aria-busy=true]")));
  }
  document.addEventListener("htmx:confirm", function (e) { if (inRoot(e.detail.elt) && busy(e.detail.elt)) e.preventDefault(); });
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail.elt;
    if (inFlight.delete(e.detail.xhr)) { pending--; setTimeout(drain, 40); }  // after the answer has settled (htmx settles in 20 ms)
    if (!elt || !elt.removeAttribute) return;
    (elt.tagName === "FORM" ? Array.prototype.slice.call(elt.querySelectorAll("[aria-busy]")) : [elt]).forEach(function (c) {
      c.removeAttribute("aria-busy");
      if (c.dataset && c.dataset.wsmBusy) { delete c.dataset.wsmBusy; c.removeAttribute("aria-disabled"); }
    });
    var dialog = elt.closest && elt.closest("dialog[data-wsm-dialog]");
    var ok = e.detail.successful || (e.detail.xhr && e.detail.xhr.status === 404);
    if (dialog && dialog.open && ok) dialog.close();
  });
  // The manager answers bad input with a 4xx (and an unavailable database with a 503) whose body is an alert: show it
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    if (inRoot(e.detail.elt) && status >= 400 && (status < 500 || status === 503)) { e.detail.shouldSwap = true; e.detail.isError = false; }
  });
  function showError(kind) {
    var r = root(), t = r && r.querySelector("template[data-wsm-error]"), area = byId("wsm-alert-area");
    if (!t || !area) return;
    var alert = t.content.cloneNode(true);
    alert.querySelector("span").textContent = r.getAttribute("data-wsm-error-" + kind) || "";
    area.replaceChildren(alert);
  }
  document.addEventListener("htmx:sendError", function (e) { if (inRoot(e.detail.elt)) showError("network"); });
  document.addEventListener("htmx:responseError", function (e) {
    if (inRoot(e.detail.elt) && e.detail.xhr.status >= 500 && e.detail.xhr.status !== 503) showError("server");
  });

  // --- the cursor: one focused row, the only one in the tab order --------------------------------------
  function cursorRow() { var b = body(); return b && b.querySelector("tbody tr[aria-current]"); }
  function setCursor(row, focus) {
    rows().forEach(function (r) {
      var menu = r.querySelector("[data-a=menu]");
      if (menu) menu.setAttribute("aria-haspopup", "menu");
      var on = r === row;
      if (on) r.setAttribute("aria-current", "true"); else r.removeAttribute("aria-current");
      r.tabIndex = on ? 0 : -1;
      r.querySelectorAll("a, button, input").forEach(function (c) { c.tabIndex = on ? 0 : -1; });
    });
    if (row && focus) row.focus();
  }
  function focusList() {  // after the list changed under the user: the cursor row, or New Session when the list is empty
    var row = cursorRow() || rows()[0];
    if (row) setCursor(row, true);
    else { var n = byId("wsm-new-session-btn"); if (n) n.focus(); }
  }
  document.addEventListener("focusin", function (e) {
    var row = rowOf(e.target);
    if (row && inRoot(row) && row !== cursorRow()) setCursor(row, false);
  });

  // --- after every swap ----------------------------------------------------------------------------------
  var focusWasInList = false, focusedControl = null;
  function controlKey(el) {  // a selector that finds a list control again once the list was replaced
    if (el.dataset.sort) return '[data-sort="' + CSS.escape(el.dataset.sort) + '"]';
    if (el.dataset.move) return '[data-move="' + CSS.escape(el.dataset.move) + '"]';
    if (el.name === "page" && el.closest("#wsm-pager")) return '#wsm-pager [name="page"]';
    if (el.closest("#wsm-filter-fields")) return '#wsm-filter-fields [name="' + CSS.escape(el.name) + '"][value="' + CSS.escape(el.value) + '"]';
    return null;
  }
  document.addEventListener("htmx:beforeSwap", function () {
    var b = body(), a = document.activeElement;
    focusWasInList = !!(b && a && (b.contains(a) || a === document.body));
    var fields = byId("wsm-filter-fields");  // replaced with the counts, while a box in it may have focus
    focusedControl = a && ((b && b.contains(a) && !rowOf(a)) || (fields && fields.contains(a))) ? controlKey(a) : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var b = body();
    if (!b) return;
    setCursor(cursorRow(), false);
    applySelection();
    if (b.dataset.changes) lastChanges = b.dataset.changes;
    var menu = byId("wsm-rows");
    if (menu) menu.value = b.dataset.rows;
    var box = searchBox();  // the box says what the list shows, unless the user is typing in it
    if (box && (historyMode === "none" || document.activeElement !== box)) box.value = new URLSearchParams(b.dataset.view).get("q") || "";
    recordView();
    var control = focusedControl && document.querySelector(focusedControl);
    if (control && !control.disabled) control.focus();
    else if (!openDialog() && (focusWasInList || document.activeElement === document.body)) focusList();
    focusWasInList = false; focusedControl = null;
  });

  // --- selection: kept in the page, so it survives moves, pages and sorts --------------------------------
  var selected = new Map(), allMatching = null, anchor = null;  // id -> label; {view, total} when every match is selected
  function filterKey(view) {
    var p = new URLSearchParams(view);
    ["start", "rows", "sort", "dir"].forEach(function (k) { p.delete(k); });
    return p.toString();
  }
  function applySelection() {
    if (allMatching && filterKey(currentView()) !== allMatching.filters) allMatching = null;
    rows().forEach(function (r) {
      var on = !!allMatching || selected.has(r.dataset.sessionId), box = r.querySelector("td input[type=checkbox]");
      if (box) box.checked = on;
      r.setAttribute("aria-selected", on ? "true" : "false");
    });
    var page = body() && body().querySelector("[data-wsm-select-page]"), rs = rows();
    if (page) page.checked = rs.length > 0 && rs.every(function (r) { return r.getAttribute("aria-selected") === "true"; });
    showSelectionBar();
  }
  function showSelectionBar() {
    var bar = byId("wsm-selection"), b = body();
    if (!bar || !b) return;
    var n = allMatching ? allMatching.total : selected.size, total = b.dataset.total || "0";
    bar.hidden = n === 0;
    var count = bar.querySelector("[data-wsm-fill=selected]"), all = bar.querySelector("[data-wsm-select-all]");
    if (count) count.textContent = (allMatching ? "All " : "") + n.toLocaleString() + " selected";
    if (all) {
      all.hidden = !!allMatching || selected.size >= parseInt(total, 10);
      all.textContent = "Select all " + parseInt(total, 10).toLocaleString() + (b.dataset.capped ? "+" : "") + " matching";
    }
  }
  function toggle(row, on) {
    if (allMatching) { allMatching = null; rows().forEach(function (r) { selected.set(r.dataset.sessionId, labelOf(r)); }); }
    if (on === undefined) on = !selected.has(row.dataset.sessionId);
    if (on) selected.set(row.dataset.sessionId, labelOf(row)); else selected.delete(row.dataset.sessionId);
    anchor = row;
  }
  function selectRange(to) {
    var rs = rows(), a = rs.indexOf(anchor), b = rs.indexOf(to);
    if (a < 0) { toggle(to, true); return; }
    rs.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (r) { selected.set(r.dataset.sessionId, labelOf(r)); });
  }
  function clearSelection() { selected.clear(); allMatching = null; anchor = null; applySelection(); }
  function selection() {  // what a bulk action acts on: {ids, labels} or {all: true}
    if (allMatching) return { all: true, count: allMatching.total, labels: [] };
    return { ids: Array.from(selected.keys()), labels: Array.from(selected.values()), count: selected.size };
  }

  // --- dialogs -----------------------------------------------------------------------------------------
  var returnFocus = null;
  function show(dialog, from) { returnFocus = from || document.activeElement; dialog.showModal(); }
  document.addEventListener("close", function (e) {
    if (!e.target.matches || !e.target.matches("dialog[data-wsm-dialog]")) return;
    var back = returnFocus;
    returnFocus = null;
    var row = back && back.dataset && back.dataset.sessionId && document.querySelector('tr[data-session-id="' + CSS.escape(back.dataset.sessionId) + '"]');
    if (row) setCursor(row, true);
    else if (back && document.body.contains(back)) back.focus();
    else focusList();
  }, true);
  function openRename(s, from) {
    var dialog = byId("wsm-rename-modal"), input = byId("wsm-rename-input");
    if (!dialog || !s) return;
    byId("wsm-rename-id").value = s.id;
    input.value = s.label;
    show(dialog, from || s.row);
    input.select();
  }
  function fillDeleteForm(form, fields) {
    form.replaceChildren();
    Object.keys(fields).forEach(function (name) {
      [].concat(fields[name]).forEach(function (value) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = name; input.value = value;
        form.appendChild(input);
      });
    });
  }
  function openDelete(what, from, kind) {  // what: {ids, labels, count} or {all, count}
    var dialog = byId("wsm-delete-modal");
    if (!dialog || !what || !what.count) return;
    var form = byId("wsm-delete-form"), confirm = dialog.querySelector("[data-wsm-confirm]");
    var names = what.labels.slice(0, 3).map(function (l) { return "“" + l + "”"; }).join(", ");
    var label = what.all ? "all " + what.count.toLocaleString() + " matching sessions"
      : what.count === 1 ? what.labels[0] : what.count.toLocaleString() + " sessions (" + names + (what.count > 3 ? ", …" : "") + ")";
    dialog.querySelector("[data-wsm-fill=label]").textContent = label;
    var purge = kind === "purge";
    dialog.querySelector("h3").textContent = purge ? "Delete forever?" : "Delete sessions?";
    var note = dialog.querySelector("[data-wsm-fill=note]");
    if (!note.dataset.text) note.dataset.text = note.textContent;
    note.textContent = purge ? "This cannot be undone." : note.dataset.text;
    fillDeleteForm(form, Object.assign(what.all ? { all: "1", view: currentView() } : { session_id: what.ids },
                                       { request_id: requestId() }, detail() ? { context: "detail" } : {}));
    confirm.setAttribute("hx-post", purge ? url("purge-trash") : url("delete-sessions"));
    htmx.process(confirm);
    show(dialog, from);
  }
  function oneSession(s) { return s ? { ids: [s.id], labels: [s.label], count: 1 } : null; }
  function openHelp() { var d = byId("wsm-help-modal"); if (d) show(d); }

  // --- the row menu ------------------------------------------------------------------------------------
  var menuFor = null;
  function openMenu(button) {
    var menu = byId("wsm-row-menu"), s = sessionOf(button);
    if (!menu || !s) return;
    menuFor = { session: s, button: button };
    menu.setAttribute("aria-label", "Actions for “" + s.label + "”");
    menu.querySelectorAll("[data-wsm-action]").forEach(function (item) {
      item.setAttribute("aria-label", item.textContent.trim() + " “" + s.label + "”");
    });
    var box = button.getBoundingClientRect();
    menu.style.position = "fixed";
    menu.style.margin = "0";
    menu.style.top = Math.min(box.bottom + 4, window.innerHeight - 240) + "px";
    menu.style.left = Math.max(8, box.right - 176) + "px";
    menu.showPopover();
    var first = menu.querySelector("[role=menuitem]");
    if (first) first.focus();
  }
  document.addEventListener("toggle", function (e) {
    if (e.target.id === "wsm-row-menu" && e.newState === "closed" && menuFor) {
      var back = menuFor.button;
      setTimeout(function () { if (document.body.contains(back) && !openDialog()) back.focus(); }, 0);
    }
  }, true);

  // --- actions on a session ------------------------------------------------------------------------------
  function act(action, s, from) {
    if (!s) return;
    if (action === "resume") request("POST", url("resume-session"), { session_id: s.id }, from);
    else if (action === "rename") openRename(s, from);
    else if (action === "delete") openDelete(oneSession(s), from);
    else if (action === "duplicate") request("POST", url("duplicate-session"), { session_id: s.id }, from);
    else if (action === "export") download({ session_id: [s.id] });
    else if (action === "restore") request("POST", url("restore-sessions"), { session_id: s.id }, from);
    else if (action === "purge") openDelete(oneSession(s), from, "purge");
  }
  function download(fields) {
    var params = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { [].concat(fields[k]).forEach(function (v) { params.append(k, v); }); });
    window.location.assign(url("export-sessions") + "?" + params.toString());
  }
  function bulk(kind, from) {
    var what = selection();
    if (kind === "purge-all") { openDelete({ all: true, count: parseInt(body().dataset.total, 10), labels: [] }, from, "purge"); return; }
    if (!what.count) return;
    if (kind === "delete") openDelete(what, from);
    else if (kind === "purge") openDelete(what, from, "purge");
    else if (kind === "export") download(what.all ? { all: "1", view: currentView() } : { session_id: what.ids });
    else if (kind === "restore") request("POST", url("restore-sessions"), what.all ? { all: "1" } : { session_id: what.ids }, from);
  }

  // --- clicks --------------------------------------------------------------------------------------------
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t.closest) return;
    if (t.matches("dialog[data-wsm-dialog]")) { t.close(); return; }  // a click on the backdrop
    if (busy(t)) { e.preventDefault(); return; }  // its request is on its way
    if (t.closest("[data-wsm-close]")) { t.closest("dialog").close(); return; }
    if (!inRoot(t)) return;
    var el;
    if ((el = t.closest("[data-wsm-dismiss]"))) { var alert = el.closest("[role=alert], [role=status]"); if (alert) alert.remove(); return; }
    if ((el = t.closest("[data-sort]"))) { request("GET", url("list-sessions"), { sort: el.dataset.sort, dir: el.dataset.dir, start: "0" }, el); return; }
    if ((el = t.closest("[data-move]"))) { if (!el.disabled) move(el.dataset.move, el); return; }
    if ((el = t.closest("[data-wsm-show]"))) { request("GET", url("list-sessions"), {}, body()); byId("wsm-live-status").replaceChildren(); return; }
    if ((el = t.closest("[data-wsm-open=help]"))) { openHelp(); return; }
    if ((el = t.closest("[data-wsm-bulk]"))) { bulk(el.dataset.wsmBulk, el); return; }
    if ((el = t.closest("[data-wsm-select-all]"))) {
      allMatching = { filters: filterKey(currentView()), total: parseInt(body().dataset.total, 10) };
      applySelection(); return;
    }
    if ((el = t.closest("[data-wsm-clear]"))) { clearSelection(); return; }
    if ((el = t.closest("[data-wsm-select-page]"))) {
      rows().forEach(function (r) { toggle(r, el.checked); }); applySelection(); return;
    }
    if ((el = t.closest("#wsm-row-menu [data-wsm-action]"))) {
      var target = menuFor && menuFor.session;
      byId("wsm-row-menu").hidePopover();
      act(el.dataset.wsmAction, target, menuFor && menuFor.button);
      return;
    }
    if ((el = t.closest("[data-a=menu]"))) { openMenu(el); return; }
    if ((el = t.closest("[data-a]"))) { act(el.dataset.a, sessionOf(el), el); return; }
    if ((el = t.closest("#wsm-session-detail [data-wsm-action]")) && el.dataset.wsmAction !== "resume") {
      act(el.dataset.wsmAction, sessionOf(el), el); return;
    }
    var row = rowOf(t);
    if (row) {
      var box = t.closest("td input[type=checkbox]");
      if (box || e.shiftKey) {
        if (e.shiftKey) selectRange(row); else toggle(row, box.checked);
        applySelection();
      }
      if (!t.closest("a, button")) setCursor(row, true);
    }
  });
  document.addEventListener("dblclick", function (e) {
    var row = rowOf(e.target);
    if (row && inRoot(row) && !e.target.closest("a, button, input")) whenIdle(function () { act("resume", sessionOf(row), row); });
  });
  // The page box of the pager, and the rows-per-page menu
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (!inRoot(t) || !(t.closest("#wsm-pager") || t.id === "wsm-rows")) return;
    if (t.name === "page") request("GET", url("list-sessions"), { page: t.value }, t);
    else if (t.name === "rows") request("GET", url("list-sessions"), { rows: t.value }, t);
  });

  // --- keyboard ----------------------------------------------------------------------------------------
  var EDGE_MOVES = { ArrowUp: "up", ArrowDown: "down" }, PAGE_MOVES = { PageUp: "page_up", PageDown: "page_down", Home: "first", End: "last" };
  function typing(t) { return !!t.closest("input, textarea, select, [contenteditable]"); }
  function step(delta, extend) {
    whenIdle(function () {
      var rs = rows(), cur = cursorRow(), i = rs.indexOf(cur), next = rs[i + delta];
      if (!cur) { if (rs[0]) setCursor(rs[0], true); return; }
      if (next) { setCursor(next, true); if (extend) { selectRange(next); applySelection(); } return; }
      var b = body(), start = parseInt(b.dataset.start, 10), total = parseInt(b.dataset.total, 10);
      if ((delta < 0 && start + i > 0) || (delta > 0 && (b.dataset.capped || start + i < total - 1))) move(EDGE_MOVES[delta < 0 ? "ArrowUp" : "ArrowDown"]);
    });
  }
  var toList = false;  // the search box's Down or Enter will move the focus to the list once its results are in
  function searchBox() { return byId("wsm-search"); }
  function flushSearch() {  // send a search the debounce still holds, then go on to its results
    var box = searchBox();
    if (!box) return;
    var shown = new URLSearchParams(currentView()).get("q") || "";
    if (box.value.trim().replace(/\s+/g, " ") !== shown) htmx.trigger(box, "search");
  }
  document.addEventListener("keydown", function (e) {
    var r = root(), t = e.target;
    if (!r || e.defaultPrevented || e.altKey) return;
    if (openDialog() || document.querySelector("#wsm-row-menu:popover-open")) return menuKeys(e);
    if (t !== document.body && !r.contains(t)) return;  // keys elsewhere belong to the host page
    if ((e.ctrlKey || e.metaKey) && (e.key === "z" || e.key === "Z") && !typing(t)) { e.preventDefault(); undo(); return; }
    if (e.ctrlKey || e.metaKey) return;
    if (t === searchBox() && (e.key === "ArrowDown" || e.key === "Enter")) {
      e.preventDefault();
      // Typed ahead of the results (Down, then Enter): Enter opens the row the results put the cursor on
      if (toList) { if (e.key === "Enter") setTimeout(function () { whenIdle(function () { act("resume", sessionOf(cursorRow()), cursorRow()); }); }, 0); return; }
      flushSearch();
      toList = true;
      setTimeout(function () { whenIdle(function () { toList = false; focusList(); }); }, 0);
      return;
    }
    if (typing(t)) return;
    var onRow = !!rowOf(t), onControl = !!t.closest("a, button, summary");
    if (t.matches("[data-sort]") && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); t.click(); return; }
    if (EDGE_MOVES[e.key] && (onRow || t === document.body || inRoot(t))) { e.preventDefault(); step(e.key === "ArrowUp" ? -1 : 1, e.shiftKey); return; }
    if (PAGE_MOVES[e.key] && (onRow || t === document.body)) {
      e.preventDefault();
      whenIdle(function () { var b = byId("wsm-pager"), btn = b && b.querySelector("[data-move=" + PAGE_MOVES[e.key] + "]");
        if (btn && !btn.disabled) move(PAGE_MOVES[e.key]); else setCursor(e.key === "Home" || e.key === "PageUp" ? rows()[0] : rows()[rows().length - 1], true); });
      return;
    }
    if (e.key === "Enter" && onRow && !onControl) { e.preventDefault(); whenIdle(function () { act("resume", sessionOf(cursorRow()), cursorRow()); }); return; }
    if (e.key === "F2" || e.key === "Delete") {
      e.preventDefault();
      var kind = e.key === "F2" ? "rename" : "delete";
      whenIdle(function () {
        if (openDialog()) return;
        var s = sessionOf(onRow ? t : cursorRow()) || sessionOf(detail());
        if (kind === "delete" && selected.size > 1 && s && selected.has(s.id)) openDelete(selection(), t);
        else if (body() && body().dataset.trash) act(kind === "delete" ? "purge" : "restore", s, t);
        else act(kind, s, t);
      });
      return;
    }
    if (e.key === " " && onRow && !onControl) { e.preventDefault(); var row = rowOf(t); toggle(row); applySelection(); return; }
    if (e.key === "Escape" && (selected.size || allMatching)) { e.preventDefault(); clearSelection(); return; }
    if (e.key === "n" && !e.shiftKey) { var n = byId("wsm-new-session-btn"); if (n) { e.preventDefault(); n.click(); } return; }
    if (e.key === "/") { var box = searchBox(); if (box) { e.preventDefault(); box.focus(); box.select(); } return; }
    if (e.key === "?") { e.preventDefault(); openHelp(); }
  });
  function menuKeys(e) {  // inside the row menu: up and down move between its items
    var menu = byId("wsm-row-menu");
    if (!menu || !menu.matches(":popover-open") || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    var items = Array.prototype.slice.call(menu.querySelectorAll("[role=menuitem]")), i = items.indexOf(document.activeElement);
    e.preventDefault();
    items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
  }

  // --- notices and undo ----------------------------------------------------------------------------------
  function undo() {
    var button = document.querySelector("#wsm-alert-area [data-wsm-undo]");
    var batch = button ? button.dataset.wsmUndo : lastBatch;
    if (batch) request("POST", url("restore-sessions"), { batch: batch }, button || body());
  }
  var lastBatch = null, fading = null;
  function noticed() {  // a new notice arrived: remember its Undo, and let a success fade
    var area = byId("wsm-alert-area"), notice = area && area.firstElementChild;
    if (!notice || notice.dataset.wsmSeen) return;
    notice.dataset.wsmSeen = "1";
    var button = notice.querySelector("[data-wsm-undo]");
    if (button) lastBatch = button.dataset.wsmUndo;
    fade(area);
  }
  document.addEventListener("htmx:afterSettle", noticed);
  function fade(area) {
    clearTimeout(fading);
    var notice = area.querySelector("[data-wsm-fade]");
    if (!notice) return;
    fading = setTimeout(function tick() {
      if (notice.matches(":hover, :focus-within")) { fading = setTimeout(tick, 2000); return; }
      if (document.body.contains(notice)) notice.remove();
    }, notice.querySelector("[data-wsm-undo]") ? 10000 : 6000);
  }

  // --- what a cut-off label or a relative time says in full, on hover ---------------------------------
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function absolute(d) {
    return MONTHS[d.getUTCMonth()] + " " + pad(d.getUTCDate()) + ", " + d.getUTCFullYear() + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }
  document.addEventListener("mouseover", function (e) {
    var t = e.target;
    if (!inRoot(t)) return;
    if (t.matches("time[datetime]") && !t.title) t.title = absolute(new Date(t.getAttribute("datetime")));
    var label = t.closest("tbody th a, tbody th span");
    if (label && !label.title) label.title = label.textContent.trim();
  });
  // Relative times age while the page stays open, with the thresholds the server uses
  function relative(then, now) {
    var secs = (now - then) / 1000, future = secs < 0, s = Math.abs(secs);
    if (s < 45) return "just now";
    if (s >= 30 * 86400) return MONTHS[then.getUTCMonth()] + " " + pad(then.getUTCDate()) + ", " + then.getUTCFullYear();
    var units = [[7 * 86400, "week"], [86400, "day"], [3600, "hour"], [60, "minute"]], u = units[units.length - 1];
    for (var i = 0; i < units.length; i++) if (s >= units[i][0]) { u = units[i]; break; }
    var n = Math.max(1, Math.floor(s / u[0]));
    if (u[1] === "day" && n === 1) return future ? "tomorrow" : "yesterday";
    var phrase = n + " " + u[1] + (n === 1 ? "" : "s");
    return future ? "in " + phrase : phrase + " ago";
  }
  setInterval(function () {
    var r = root(), now = Date.now();
    if (!r || document.hidden) return;
    r.querySelectorAll("time[datetime]").forEach(function (t) { t.textContent = relative(new Date(t.getAttribute("datetime")), now); });
  }, 30000);

  // --- staying live: a conditional check of the flow's change number while the page is visible ---------
  var lastChanges = null, failures = 0, timer = null, POLL = 2000, MAX_WAIT = 30000;
  function schedule(ms) { clearTimeout(timer); timer = setTimeout(check, ms); }
  function check() {
    var to = url("changes"), b = body();
    if (!to || !b) return;
    if (document.hidden) { schedule(POLL); return; }
    var headers = lastChanges !== null ? { "If-None-Match": '"' + lastChanges + '"' } : {};
    fetch(to, { headers: headers, credentials: "same-origin", cache: "no-store" }).then(function (res) {
      if (res.status !== 200 && res.status !== 304) throw new Error("status " + res.status);
      if (failures) { failures = 0; setLive(""); }
      if (res.status === 304) return null;
      return res.json();
    }).then(function (data) {
      if (data && String(data.changes) !== lastChanges) {
        var first = lastChanges === null;
        lastChanges = String(data.changes);
        if (!first) refreshLive();
      }
      schedule(POLL);
    }).catch(function () {
      failures++;
      setLive("Offline, retrying…");
      var wait = Math.min(MAX_WAIT, POLL * Math.pow(2, failures));
      schedule(wait * (0.75 + Math.random() * 0.5));  // jitter: restarted servers are not met by every page at once
    });
  }
  function setLive(text) {
    var s = byId("wsm-live-status");
    if (!s) return;
    if (text) { var span = document.createElement("span"); span.textContent = text; s.replaceChildren(span); }
    else if (s.textContent.indexOf("Offline") === 0) s.replaceChildren();
  }
  function refreshLive() {
    if (pending) { schedule(POLL); return; }  // an open dialog stays: the answer replaces only the list
    var b = body(), shown = rows().map(function (r) { return r.dataset.sessionId; }).join(",");
    historyMode = "replace";
    request("GET", url("list-sessions"), { live: "1", shown: shown, total: b ? b.dataset.total : "" });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) schedule(0); });

  // --- icons: rows carry none; each list says which elements get which sprite icon (data-wsm-icons) --------
  var SVG = "http://www.w3.org/2000/svg";
  function drawIcons() {
    document.querySelectorAll("[data-wsm-icons]").forEach(function (box) {
      var rules = JSON.parse(box.dataset.wsmIcons);
      Object.keys(rules).forEach(function (selector) {
        box.querySelectorAll(selector).forEach(function (el) {
          if (el.querySelector("svg")) return;
          var svg = document.createElementNS(SVG, "svg"), use = document.createElementNS(SVG, "use");
          svg.setAttribute("aria-hidden", "true");
          use.setAttribute("href", rules[selector]);
          svg.appendChild(use);
          el.appendChild(svg);
        });
      });
    });
  }
  document.addEventListener("htmx:load", drawIcons);

  // --- start -------------------------------------------------------------------------------------------
  function start() {
    drawIcons();
    var b = body();
    if (b) { lastChanges = b.dataset.changes || null; setCursor(cursorRow() || rows()[0], false); applySelection(); }
    noticed();
    if (url("changes")) schedule(POLL);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
