// tongxin-desk's page: plain JS, no framework, nothing from elsewhere.
// Every text a person reads goes through t("msgid"): the msgids are in
// po/zh_CN.po, and the desk serves them as /i18n/LANG.json.
"use strict";

var S = { lang: "zh", msgs: {}, csrf: "", user: "", login: false, unit: "",
          reg: { types: [], regions: [] }, view: "new", timer: null, status: null };

function t(id) { return S.msgs[id] || id; }
function tf(id) {
  var s = t(id), args = Array.prototype.slice.call(arguments, 1), i = 0;
  // %s in order, or %2$s by position (a translation may reorder them).
  return s.replace(/%(?:(\d)\$)?s/g, function (m, n) { return String(n ? args[n - 1] : args[i++]); });
}

// h("tag", {attr: value, onclick: fn}, child, ...): an element.
function h(tag, attrs) {
  var e = document.createElement(tag);
  var a = attrs || {};
  Object.keys(a).forEach(function (k) {
    var v = a[k];
    if (v === null || v === undefined || v === false) return;
    if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else if (k === "value") e.value = v;
    else e.setAttribute(k, v === true ? "" : v);
  });
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) c.forEach(function (x) { if (x) e.appendChild(x); });
    else e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

function api(method, path, body, type) {
  var opts = { method: method, credentials: "same-origin",
               headers: { "X-Desk-Lang": S.lang } };
  if (method === "POST") {
    opts.headers["X-CSRF-Token"] = S.csrf;
    opts.headers["Content-Type"] = type || "application/json";
    opts.body = type ? body : JSON.stringify(body);
  }
  return fetch(path, opts).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (j) {
      j._status = r.status;
      return j;
    });
  });
}

function token() {
  var b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
}

function typeName(code) {
  var ty = S.reg.types.filter(function (x) { return x.code === code; })[0];
  if (!ty) return code;
  return (S.lang === "en" ? ty.name_en : ty.name_zh) || code;
}
function attrLabel(a) { return (S.lang === "en" ? a.label_en : a.label_zh) || a.name; }
function regionName(code) {
  var r = S.reg.regions.filter(function (x) { return x.code === code; })[0];
  if (!r) return code;
  return (S.lang === "en" ? r.name_en : r.name) + " (" + code + ")";
}
function enumLabel(a, v) {
  var e = (a.enum || []).filter(function (x) { return x.value === v; })[0];
  return (e && (S.lang === "en" ? e.label_en : e.label_zh)) || v;
}

function stateText(r) {
  if (r.state === "waiting") return t("Waiting to be sent");
  if (r.state === "stored") return t("Stored");
  if (r.state === "duplicate")
    return r.original_at ? tf("Already stored (on %s)", r.original_at) : t("Already stored");
  if (r.state === "refused") return tf("Refused: %s", r.reason || r.code);
  return tf("Not sent: %s", r.detail);
}

// ---- the frame: header, status, views -----------------------------------

function header() {
  var top = document.getElementById("top");
  top.textContent = "";
  var views = [["new", t("New report")], ["mine", t("My reports")], ["import", t("Import a spreadsheet")]];
  var nav = h("nav", { "aria-label": t("Pages") });
  if (!S.login || S.user)
    views.forEach(function (v) {
      nav.appendChild(h("button", { type: "button", "aria-current": S.view === v[0] ? "page" : null,
                                    onclick: function () { show(v[0]); } }, v[1]));
    });
  var other = S.lang === "zh" ? "en" : "zh";
  top.appendChild(h("h1", {}, t("Tongxin reporting desk"), S.unit ? " · " + S.unit : ""));
  top.appendChild(nav);
  top.appendChild(h("button", { type: "button", id: "lang", lang: other === "en" ? "en" : "zh-CN",
                                onclick: function () { setLang(other); } },
                    other === "en" ? t("In English") : t("In Chinese")));
  if (S.user)
    top.appendChild(h("button", { type: "button", onclick: logout }, tf("Log out %s", S.user)));
  document.title = t("Tongxin reporting desk");
  document.documentElement.lang = S.lang === "en" ? "en" : "zh-CN";
}

function refreshStatus() {
  if (S.login && !S.user) return;
  api("GET", "/api/status").then(function (st) {
    if (st._status !== 200) return;
    S.status = st;
    var el = document.getElementById("status");
    el.textContent = "";
    el.appendChild(h("span", { id: "link", class: st.connected ? "up" : "down" }, h("span", { class: "dot" }),
                     st.connected ? t("Connected to the collector") : t("Offline")));
    el.appendChild(h("span", { id: "spool" }, tf("Waiting to be sent: %s", st.spool)));
    el.appendChild(h("span", { id: "lastack" }, tf("Last acknowledgement: %s", st.last_ack || t("none yet"))));
    if (!st.connected)
      el.appendChild(h("span", { class: "note" },
                       t("Reports are kept on this computer and sent when the collector is reachable.")));
    // What the handshakes say (libtongxin's TONGXIN_LINK_*): for the administrator.
    var why = st.link === 2 ? t("The collector refuses this unit's key: ask the administrator for a new one.")
            : st.link === 3 ? t("The collector's public key or address is wrong: ask the administrator.")
            : st.link === 4 || st.link === 5 ? t("The address is not a Tongxin collector of this kind: ask the administrator.")
            : "";
    if (why) el.appendChild(h("span", { class: "note", id: "link-problem" }, why));
  });
}

function show(view, arg) {
  S.view = view;
  header();
  var main = document.getElementById("main");
  main.textContent = "";
  if (S.login && !S.user) return viewLogin(main);
  if (view === "new") viewNew(main, arg || {});
  else if (view === "mine") viewMine(main);
  else if (view === "report") viewReport(main, arg);
  else if (view === "import") viewImport(main);
  var first = main.querySelector("h2");
  if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
}

function setLang(lang) {
  S.lang = lang;
  try { localStorage.setItem("desk-lang", lang); } catch (e) { /* private mode */ }
  return fetch("/i18n/" + (lang === "en" ? "en" : "zh-CN") + ".json").then(function (r) { return r.json(); })
    .then(function (m) { S.msgs = lang === "en" ? {} : m; show(S.view === "report" ? "mine" : S.view); refreshStatus(); });
}

// ---- login ----------------------------------------------------------------

function viewLogin(main) {
  var user = h("input", { id: "user", autocomplete: "username", required: true });
  var pw = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  var msg = h("p", { class: "problem", role: "alert" });
  var form = h("form", { class: "card", onsubmit: function (ev) {
    ev.preventDefault();
    api("POST", "/api/login", { user: user.value, password: pw.value }).then(function (r) {
      if (r._status !== 200) { msg.textContent = r.error || t("Wrong user name or password."); return; }
      S.user = r.user; S.csrf = r.csrf;
      start();
    });
  } }, h("h2", {}, t("Log in")), h("label", { for: "user" }, t("User name")), user,
     h("label", { for: "password" }, t("Password")), pw, msg,
     h("button", { class: "primary", type: "submit" }, t("Log in")));
  main.appendChild(form);
  user.focus();
}

function logout() {
  api("POST", "/api/logout", {}).then(function (r) { S.user = ""; S.csrf = r.csrf || ""; show("new"); });
}

// ---- new report -------------------------------------------------------------

function viewNew(main, preset) {
  var card = h("section", { class: "card" });
  main.appendChild(h("h2", {}, preset.supersedes ? t("Correct a report") : t("New report")));
  main.appendChild(card);
  if (preset.supersedes) {
    card.appendChild(h("p", { class: "notice warn" }, t("The new report replaces the earlier one once it is stored.")));
    return form(card, preset.type, preset);
  }
  var types = S.reg.types.filter(function (x) { return x.code !== "retraction"; });
  if (!types.length) {
    card.appendChild(h("p", { class: "notice warn" }, t("No report types are known yet: the desk has not received the registry.")));
    return;
  }
  var search = h("input", { id: "type-search", type: "search", autocomplete: "off",
                            placeholder: t("Type a few characters of the name") });
  var list = h("ul", { class: "types", id: "type-list", "aria-label": t("Report types") });
  function fill() {
    var q = search.value.trim().toLowerCase();
    list.textContent = "";
    types.forEach(function (ty) {
      var hay = [ty.name_zh, ty.name_en, ty.code, ty.description_zh].join(" ").toLowerCase();
      if (q && hay.indexOf(q) < 0) return;
      list.appendChild(h("li", {}, h("button", { type: "button", "data-type": ty.code,
        onclick: function () { card.textContent = ""; form(card, ty.code, {}); } },
        typeName(ty.code), h("small", {}, S.lang === "en" ? ty.code : (ty.description_zh || "")))));
    });
  }
  search.addEventListener("input", fill);
  card.appendChild(h("label", { for: "type-search" }, t("Report type")));
  card.appendChild(search);
  card.appendChild(list);
  fill();
  search.focus();
}

function regionPicker(value) {
  var regions = S.reg.regions || [];
  var provinces = regions.filter(function (r) { return r.level === "province" || /0000$/.test(r.code); });
  var prov = h("select", { id: "partner-province", "aria-label": t("Province") },
               h("option", { value: "" }, t("Province")));
  provinces.forEach(function (p) {
    prov.appendChild(h("option", { value: p.code.slice(0, 2) }, (S.lang === "en" ? p.name_en : p.name) || p.code));
  });
  var county = h("select", { id: "partner", name: "partner", "aria-label": t("County or city") });
  var search = h("input", { id: "partner-search", type: "search", autocomplete: "off",
                            placeholder: t("Search by name") });
  function fillCounties(prefix, q) {
    county.textContent = "";
    county.appendChild(h("option", { value: "" }, t("(none)")));
    regions.forEach(function (r) {
      if (/0000$/.test(r.code) && !q) return;
      if (prefix && r.code.slice(0, 2) !== prefix) return;
      var name = (S.lang === "en" ? r.name_en : r.name) || "";
      if (q && (name + r.code + (r.name || "")).toLowerCase().indexOf(q) < 0) return;
      county.appendChild(h("option", { value: r.code, selected: r.code === value }, name + " " + r.code));
    });
  }
  prov.addEventListener("change", function () { search.value = ""; fillCounties(prov.value, ""); });
  county.addEventListener("change", function () { if (county.value) prov.value = county.value.slice(0, 2); });
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    fillCounties(q ? "" : prov.value, q);
    if (county.options.length === 2) { county.selectedIndex = 1; prov.value = county.value.slice(0, 2); }
  });
  if (value) prov.value = value.slice(0, 2);
  fillCounties(value ? value.slice(0, 2) : "", "");
  return { el: h("div", { class: "row" }, search, prov, county), input: county };
}

function widget(a, value) {
  var id = "attr-" + a.name, w;
  var common = { id: id, name: a.name, required: a.required, "aria-describedby": "help-" + a.name };
  if (a.kind === "enum") {
    w = h("select", common, h("option", { value: "" }, a.required ? t("Choose...") : t("(none)")));
    (a.enum || []).forEach(function (e) {
      w.appendChild(h("option", { value: e.value, selected: e.value === value }, enumLabel(a, e.value)));
    });
  } else if (a.kind === "bool") {
    w = h("select", common, h("option", { value: "" }, t("(none)")),
          h("option", { value: "true", selected: value === "true" }, t("Yes")),
          h("option", { value: "false", selected: value === "false" }, t("No")));
  } else if (a.kind === "date") {
    w = h("input", Object.assign({ type: "date", value: value || "" }, common));
  } else if (a.kind === "int" || a.kind === "numeric") {
    w = h("input", Object.assign({ type: "text", inputmode: a.kind === "int" ? "numeric" : "decimal",
                                   value: value || "" }, common));
  } else if (a.max_len && a.max_len <= 200) {
    w = h("input", Object.assign({ type: "text", value: value || "" }, common));
  } else {
    w = h("textarea", Object.assign({ rows: 3 }, common));
    w.value = value || "";
  }
  var help = [];
  if ((a.kind === "int" || a.kind === "numeric") && (a.min !== null && a.min !== undefined || a.max !== null && a.max !== undefined)) {
    var lo = a.min !== null && a.min !== undefined, hi = a.max !== null && a.max !== undefined;
    if (lo && hi && a.min_exclusive) help.push(tf("More than %s and at most %s", a.min, a.max));
    else if (lo && hi) help.push(tf("From %s to %s", a.min, a.max));
    else if (lo && a.min_exclusive) help.push(tf("More than %s", a.min));
    else if (lo) help.push(tf("At least %s", a.min));
    else help.push(tf("At most %s", a.max));
  }
  if (a.kind === "int") help.push(t("A whole number"));
  if (S.lang !== "en" && a.description_zh) help.unshift(a.description_zh);
  return h("div", { class: "field", "data-field": a.name },
           h("label", { for: id, class: a.required ? "req" : null }, attrLabel(a)), w,
           h("p", { class: "help", id: "help-" + a.name }, help.join(" · ")),
           h("p", { class: "problem", "data-problem": a.name }));
}

function form(card, code, preset) {
  var ty = S.reg.types.filter(function (x) { return x.code === code; })[0];
  if (!ty) return;
  var formToken = token();
  var at = h("input", { id: "occurred_at", type: "datetime-local", required: true,
                        value: preset.occurred_at ? preset.occurred_at.replace(" ", "T") : (S.status && S.status.now || "") });
  var picker = regionPicker(preset.partner || "");
  var fields = (ty.attrs || []).map(function (a) { return widget(a, preset.attrs ? preset.attrs[a.name] : ""); });
  var msg = h("div", { role: "alert", id: "form-message" });
  var submit = h("button", { class: "primary", type: "submit", id: "submit" }, t("Submit"));
  var f = h("form", { id: "report-form", novalidate: true, onsubmit: function (ev) {
    ev.preventDefault();
    submit.disabled = true;
    Array.prototype.forEach.call(f.querySelectorAll("[data-problem]"), function (p) { p.textContent = ""; });
    msg.textContent = "";
    var body = { form_token: formToken, type: code, occurred_at: at.value.replace("T", " "),
                 partner: picker.input.value, attrs: {}, supersedes: preset.supersedes || "" };
    (ty.attrs || []).forEach(function (a) {
      var el = f.querySelector("#attr-" + a.name);
      if (el && el.value !== "") body.attrs[a.name] = el.value;
    });
    api("POST", "/api/reports", body).then(function (r) {
      if (r._status === 200) {
        msg.textContent = "";
        msg.appendChild(h("p", { class: "notice" + (r.state === "waiting" && !(S.status && S.status.connected) ? " warn" : "") },
          r.state === "waiting" && !(S.status && S.status.connected)
            ? t("Saved. The desk is offline: the report will be sent when the collector is reachable.")
            : t("Saved; it is being sent."),
          " ", h("a", { href: "#", onclick: function (e) { e.preventDefault(); show("report", r.id); } }, t("See the report")),
          " ", h("a", { href: "#", id: "another", onclick: function (e) { e.preventDefault(); show("new"); } }, t("Another report"))));
        f.setAttribute("data-saved", r.id);
        return;
      }
      submit.disabled = false;
      var probs = r.problems || [{ field: "", message: r.error || t("The report could not be saved.") }];
      probs.forEach(function (p) {
        var slot = p.field && f.querySelector('[data-problem="' + p.field + '"]');
        if (slot) slot.textContent = p.message;
        else msg.appendChild(h("p", { class: "notice bad" }, p.message));
      });
      var firstBad = f.querySelector("[data-problem]:not(:empty)");
      if (firstBad && firstBad.parentNode.querySelector("input,select,textarea"))
        firstBad.parentNode.querySelector("input,select,textarea").focus();
    });
  } },
    h("p", {}, h("strong", {}, typeName(code)), " ", h("small", {}, S.lang === "en" ? (ty.description || "") : (ty.description_zh || ""))),
    h("div", { class: "field", "data-field": "occurred_at" },
      h("label", { for: "occurred_at", class: "req" }, t("When it happened")), at,
      h("p", { class: "help" }, t("In the organisation's time zone")),
      h("p", { class: "problem", "data-problem": "occurred_at" })),
    h("div", { class: "field", "data-field": "partner" },
      h("label", { for: "partner-search", class: ty.partner_required ? "req" : null }, t("Partner region")), picker.el,
      h("p", { class: "problem", "data-problem": "partner" })),
    fields, msg, submit,
    h("button", { class: "secondary", type: "button", onclick: function () { show("new"); } }, t("Cancel")));
  card.appendChild(f);
  at.focus();
}

// ---- my reports -------------------------------------------------------------

function viewMine(main) {
  main.appendChild(h("h2", {}, t("My reports")));
  var month = h("input", { id: "filter-month", type: "month", "aria-label": t("Month") });
  var type = h("select", { id: "filter-type", "aria-label": t("Report type") }, h("option", { value: "" }, t("All types")));
  S.reg.types.forEach(function (ty) { type.appendChild(h("option", { value: ty.code }, typeName(ty.code))); });
  var table = h("div", { id: "reports" });
  main.appendChild(h("div", { class: "card row" },
                     h("div", {}, h("label", { for: "filter-month" }, t("Month")), month),
                     h("div", {}, h("label", { for: "filter-type" }, t("Report type")), type)));
  main.appendChild(table);
  function load() {
    if (S.view !== "mine") return;
    var q = "?month=" + encodeURIComponent(month.value) + "&type=" + encodeURIComponent(type.value);
    refreshStatus();
    api("GET", "/api/reports" + q).then(function (r) {
      table.textContent = "";
      var rows = r.reports || [];
      if (!rows.length) { table.appendChild(h("p", { class: "card" }, t("No reports yet."))); return; }
      var tb = h("tbody");
      rows.forEach(function (x) {
        tb.appendChild(h("tr", { class: "clickable", tabindex: "0", "data-id": x.id,
          onclick: function () { show("report", x.id); },
          onkeydown: function (e) { if (e.key === "Enter") show("report", x.id); } },
          h("td", {}, x.occurred_at), h("td", {}, typeName(x.type)),
          h("td", { class: "state-" + x.state }, stateText(x)), h("td", {}, x.created)));
      });
      table.appendChild(h("table", { class: "reports" },
        h("thead", {}, h("tr", {}, h("th", {}, t("When it happened")), h("th", {}, t("Report type")),
                                  h("th", {}, t("State")), h("th", {}, t("Submitted")))), tb));
    });
  }
  month.addEventListener("change", load);
  type.addEventListener("change", load);
  load();
  S.listTimer = load;
}

function viewReport(main, id) {
  main.appendChild(h("h2", {}, t("Report")));
  var card = h("section", { class: "card", id: "report" });
  main.appendChild(card);
  api("GET", "/api/reports/" + encodeURIComponent(id)).then(function (r) {
    if (r._status !== 200) { card.appendChild(h("p", { class: "problem" }, r.error || "")); return; }
    var ty = S.reg.types.filter(function (x) { return x.code === r.type; })[0] || { attrs: [] };
    var dl = h("dl", {},
      h("dt", {}, t("Report type")), h("dd", {}, typeName(r.type)),
      h("dt", {}, t("When it happened")), h("dd", {}, r.occurred_at),
      h("dt", {}, t("Partner region")), h("dd", {}, r.partner ? regionName(r.partner) : t("(none)")));
    (ty.attrs || []).forEach(function (a) {
      if (r.attrs[a.name] === undefined) return;
      dl.appendChild(h("dt", {}, attrLabel(a)));
      dl.appendChild(h("dd", {}, a.kind === "enum" ? enumLabel(a, r.attrs[a.name])
                                 : a.kind === "bool" ? (r.attrs[a.name] === "true" ? t("Yes") : t("No")) : r.attrs[a.name]));
    });
    dl.appendChild(h("dt", {}, t("State")));
    dl.appendChild(h("dd", { class: "state-" + r.state, id: "state" }, stateText(r)));
    if (r.state === "refused" && r.detail) {
      dl.appendChild(h("dt", {}, t("The collector's words")));
      dl.appendChild(h("dd", {}, r.code + ": " + r.detail));
    }
    dl.appendChild(h("dt", {}, t("Submitted")));
    dl.appendChild(h("dd", {}, r.created + (r.user ? " · " + r.user : "")));
    if (r.source !== "form") { dl.appendChild(h("dt", {}, t("From"))); dl.appendChild(h("dd", {}, r.source)); }
    if (r.supersedes) {
      dl.appendChild(h("dt", {}, t("Replaces")));
      dl.appendChild(h("dd", {}, h("a", { href: "#", onclick: function (e) { e.preventDefault(); show("report", r.supersedes); } }, r.supersedes)));
    }
    dl.appendChild(h("dt", {}, t("Report id")));
    dl.appendChild(h("dd", {}, h("code", {}, r.id)));
    card.appendChild(dl);
    (r.corrections || []).forEach(function (c) {
      card.appendChild(h("p", { class: "notice warn" },
        c.type === "retraction" ? t("Retracted by a later report: ") : t("Corrected by a later report: "),
        h("a", { href: "#", onclick: function (e) { e.preventDefault(); show("report", c.id); } }, c.created), " · ", stateText(c)));
    });
    var msg = h("div", { role: "alert" });
    if (r.type !== "retraction" && (r.state === "stored" || r.state === "duplicate")) {
      var retractToken = token();
      card.appendChild(h("button", { class: "primary", type: "button", id: "correct",
        onclick: function () { show("new", { type: r.type, supersedes: r.id, occurred_at: r.occurred_at,
                                             partner: r.partner, attrs: r.attrs }); } }, t("Correct")));
      card.appendChild(h("button", { class: "secondary", type: "button", id: "retract", onclick: function (ev) {
        if (!window.confirm(t("Retract this report? It will no longer be counted."))) return;
        ev.target.disabled = true;
        api("POST", "/api/reports", { form_token: retractToken, type: "retraction", occurred_at: r.occurred_at,
                                      supersedes: r.id, attrs: {} }).then(function (x) {
          if (x._status === 200) show("report", x.id);
          else { ev.target.disabled = false; msg.textContent = (x.problems || [{ message: x.error }])[0].message; }
        });
      } }, t("Retract")));
    }
    card.appendChild(msg);
    card.appendChild(h("p", {}, h("a", { href: "#", onclick: function (e) { e.preventDefault(); show("mine"); } }, t("Back to my reports"))));
  });
}

// ---- import -----------------------------------------------------------------

function viewImport(main) {
  main.appendChild(h("h2", {}, t("Import a spreadsheet")));
  var card = h("section", { class: "card" });
  main.appendChild(card);
  var type = h("select", { id: "import-type" }, h("option", { value: "" }, t("Choose...")));
  S.reg.types.forEach(function (ty) {
    if (ty.code !== "retraction") type.appendChild(h("option", { value: ty.code }, typeName(ty.code)));
  });
  var tmpl = h("a", { id: "template", href: "#" }, t("Download the template"));
  type.addEventListener("change", function () {
    tmpl.href = "/api/template?type=" + encodeURIComponent(type.value) + "&lang=" + S.lang;
  });
  var file = h("input", { id: "import-file", type: "file", accept: ".csv,text/csv" });
  var out = h("div", { id: "import-result", role: "status" });
  var data = null;
  function post(commit) {
    return api("POST", "/api/import?type=" + encodeURIComponent(type.value) + "&commit=" + (commit ? 1 : 0) +
               "&name=" + encodeURIComponent(file.files[0] ? file.files[0].name : ""), data, "text/csv");
  }
  function preview() {
    out.textContent = "";
    if (!type.value || !file.files[0]) { out.appendChild(h("p", { class: "problem" }, t("Choose the type and the file first."))); return; }
    file.files[0].arrayBuffer().then(function (buf) {
      data = buf;
      return post(false);
    }).then(function (r) {
      if (r._status !== 200) { out.appendChild(h("p", { class: "notice bad" }, r.error || "")); return; }
      (r.file_problems || []).forEach(function (p) { out.appendChild(h("p", { class: "notice bad" }, p.message)); });
      var tb = h("tbody");
      (r.rows || []).forEach(function (row) {
        tb.appendChild(h("tr", { "data-row": row.row },
          h("td", {}, String(row.row)), h("td", {}, row.values.join(" | ")),
          h("td", { class: row.problems.length ? "state-refused" : "state-stored" },
            row.problems.length ? row.problems.map(function (p) { return (p.column ? p.column + ": " : "") + p.message; }).join("; ")
                                : t("OK"))));
      });
      out.appendChild(h("p", { class: r.bad ? "notice bad" : "notice" },
                        r.bad ? tf("%s of %s rows have problems: correct them in the file and check it again.", r.bad, r.total)
                              : tf("All %s rows are good.", r.total)));
      if (r.rows && r.rows.length)
        out.appendChild(h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, t("Row")), h("th", {}, t("Values")),
                                                              h("th", {}, t("Problems")))), tb));
      if (!r.bad && r.total)
        out.appendChild(h("button", { class: "primary", type: "button", id: "import-send", onclick: function (ev) {
          ev.target.disabled = true;
          post(true).then(function (x) {
            out.appendChild(h("p", { class: x._status === 200 ? "notice" : "notice bad", id: "import-done" },
              x._status === 200 ? tf("%s reports sent. Their state is under My reports; rows already stored before are shown as already stored.", x.sent)
                                : (x.error || "")));
          });
        } }, tf("Send %s reports", r.total)));
    });
  }
  card.appendChild(h("label", { for: "import-type" }, t("Report type")));
  card.appendChild(type);
  card.appendChild(h("p", { class: "help" }, tmpl, " · ",
    t("Save the spreadsheet as CSV (UTF-8 or GBK); one report a row; time as 2025-04-01 09:30.")));
  card.appendChild(h("label", { for: "import-file" }, t("File")));
  card.appendChild(file);
  card.appendChild(h("button", { class: "primary", type: "button", id: "import-check", onclick: preview }, t("Check the file")));
  card.appendChild(out);
}

// ---- start ------------------------------------------------------------------

function start() {
  return api("GET", "/api/registry").then(function (reg) {
    if (reg._status === 200) S.reg = reg;
    show(S.view === "report" ? "mine" : S.view);
    refreshStatus();
  });
}

document.addEventListener("DOMContentLoaded", function () {
  var saved = null;
  try { saved = localStorage.getItem("desk-lang"); } catch (e) { /* private mode */ }
  S.lang = saved === "en" ? "en" : "zh";
  fetch("/i18n/" + (S.lang === "en" ? "en" : "zh-CN") + ".json").then(function (r) { return r.json(); }).then(function (m) {
    S.msgs = S.lang === "en" ? {} : m;
    return api("GET", "/api/session");
  }).then(function (s) {
    S.csrf = s.csrf; S.user = s.user; S.login = s.login_required; S.unit = s.unit;
    if (S.login && !S.user) { show("login"); return; }
    return start();
  });
  setInterval(function () {
    refreshStatus();
    if (S.view === "mine" && S.listTimer) S.listTimer();
  }, 3000);
});
