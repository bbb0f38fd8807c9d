// eventhub console: plain JavaScript, no build step, no third-party code. Every datum
// comes from the API's routes with the admin token kept in sessionStorage.
"use strict";

const TOKEN_KEY = "eventhub.adminToken";
const apiBase = new URL(".", location.href); // the API serves the console at <base>/console
let pollTimer = null;
let navSeq = 0; // advanced by every navigation: an answer that comes after one renders nothing

// ---- DOM helpers (text only: nothing from the API is ever parsed as HTML) ----
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
const SVG = "http://www.w3.org/2000/svg";
function sv(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : String(k));
  return e;
}
const page = () => document.getElementById("page");
function show(...kids) { page().replaceChildren(...kids); }

// ---- API ----
class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message ? (e.path ? e.path + ": " : "") + e.message : "HTTP " + status);
    this.status = status;
  }
}
async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) { signOut(); throw new APIError(401, null); }
  const seq = navSeq;
  const init = { method, headers: { Authorization: "Bearer " + token }, cache: "no-store", credentials: "omit" };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const resp = await fetch(new URL(path.replace(/^\//, ""), apiBase), init);
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (resp.status === 401) { signOut("The token was refused: sign in again."); throw new APIError(401, data); }
  if (seq !== navSeq) { const e = new APIError(0, null); e.stale = true; throw e; }
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}
const enc = encodeURIComponent;
function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? "?" + s : "";
}

// ---- sign in / out ----
function signOut(message) {
  navSeq++;
  sessionStorage.removeItem(TOKEN_KEY);
  stopPolling();
  page().replaceChildren();
  document.getElementById("nav").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("token").focus();
}
async function signIn(ev) {
  ev.preventDefault();
  const input = document.getElementById("token");
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  try {
    await api("GET", "/subscriptions"); // any admin route: proves the token before showing anything
  } catch (e) {
    if (e.status !== 401 && !e.stale) signOut("Could not reach the API: " + e.message);
    return;
  }
  if (!location.hash || location.hash === "#") location.hash = "#/overview";
  route();
}

// ---- router ----
const pages = {
  overview: overviewPage, events: eventsPage, subscriptions: subscriptionsPage, sources: sourcesPage,
  types: typesPage, quarantine: quarantinePage, alerts: alertsPage, replays: replaysPage,
};
function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }
async function route() {
  navSeq++;
  stopPolling();
  if (!sessionStorage.getItem(TOKEN_KEY)) { signOut(); return; }
  document.getElementById("login").hidden = true;
  document.getElementById("nav").hidden = false;
  const parts = (location.hash.replace(/^#\/?/, "") || "overview").split("/").map(decodeURIComponent);
  const name = pages[parts[0]] ? parts[0] : "overview";
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === "#/" + name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  document.title = name[0].toUpperCase() + name.slice(1) + " · eventhub console";
  try {
    await pages[name](parts.slice(1));
  } catch (e) {
    if (e.status !== 401 && !e.stale) show(el("h1", {}, "Error"), el("p", { class: "error", role: "alert" }, e.message));
  }
}

function flash(parent, text, cls) {
  const p = el("p", { class: cls || "error", role: "alert" }, text);
  parent.append(p);
  return p;
}
function action(label, fn, attrs) {
  return el("button", Object.assign({ type: "button", class: "secondary", onclick: async (ev) => {
    const b = ev.currentTarget; b.disabled = true;
    try { await fn(b); } catch (e) { if (e.status !== 401 && !e.stale) flash(b.parentNode, label + ": " + e.message); }
    finally { b.disabled = false; }
  } }, attrs || {}), label);
}
function when(s) { if (!s) return ""; const d = new Date(s); return isNaN(d) ? s : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"); }
function table(headers, rows, caption) {
  return el("div", { class: "table-wrap" }, el("table", {},
    caption ? el("caption", { class: "muted" }, caption) : null,
    el("thead", {}, el("tr", {}, headers.map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows.map(r => el("tr", {}, r.map(c => el("td", {}, c))))
      : el("tr", {}, el("td", { colspan: headers.length, class: "muted" }, "Nothing here.")))));
}
function secretBox(label, value) {
  return el("div", { class: "secret", role: "status" }, el("strong", {}, label + " (shown once, copy it now): "), el("code", { "data-secret": "" }, value));
}

// ---- charts (SVG drawn from the data) ----
function barChart(title, series, opts) {
  // series: [{label, values:[{x, y, cls}]}] single or stacked; opts.width/height
  const W = 600, H = 180, pad = 28;
  const n = series.length;
  const max = Math.max(1, ...series.map(s => s.value));
  const bw = (W - pad * 2) / Math.max(n, 1);
  const g = sv("svg", { viewBox: `0 0 ${W} ${H + 40}`, role: "img", "aria-label": title + ": " + series.map(s => `${s.label} ${s.value}`).join(", ") });
  g.append(sv("title", {}, title));
  g.append(sv("line", { x1: pad, y1: H, x2: W - pad, y2: H, stroke: "#8c959f" }));
  g.append(sv("text", { x: 2, y: 22 }, String(max)));
  series.forEach((s, i) => {
    const h = (s.value / max) * (H - 36);
    const x = pad + i * bw + bw * 0.1;
    const r = sv("rect", { x, y: H - h, width: Math.max(bw * 0.8, 1), height: h, class: s.cls || "bar" });
    r.append(sv("title", {}, `${s.label}: ${s.value}`));
    g.append(r);
    if (opts && opts.labels !== false && (n <= 12 || i % Math.ceil(n / 12) === 0)) {
      g.append(sv("text", { x: x, y: H + 30 }, s.label));
    }
    if (opts && opts.values) g.append(sv("text", { x: x, y: H - h - 4 }, String(s.value)));
  });
  return g;
}
function chartCard(title, chart, legend, extra) {
  return el("section", { class: "card", "aria-label": title }, el("h2", {}, title), chart, legend || null, extra || null);
}

// ---- Overview ----
async function overviewPage() {
  const root = el("div", {}, el("h1", {}, "Overview"), el("p", { class: "muted" }, "The last hour, from the store and the functions' counters."));
  show(root);
  const stats = await api("GET", "/stats?since=60m");
  const cards = el("div", { class: "cards" });
  const perMin = stats.minutes || [];
  cards.append(chartCard("Events per minute", barChart("Events stored per minute", perMin.map(m => ({ label: m.minute.slice(11, 16), value: m.events })), {}),
    el("p", {}, el("span", { class: "big", id: "stat-events" }, String(stats.events)), " events in the window")));
  cards.append(chartCard("Accepted vs rejected", barChart("Accepted and rejected events", [
    { label: "accepted", value: stats.accepted, cls: "bar-ok" }, { label: "rejected", value: stats.rejected, cls: "bar-bad" }], { values: true }),
    el("p", { class: "legend" }, el("span", {}, "accepted ", el("strong", { id: "stat-accepted" }, String(stats.accepted))),
      el("span", {}, "rejected ", el("strong", { id: "stat-rejected" }, String(stats.rejected))))));
  const d = stats.deliveries || {};
  cards.append(chartCard("Deliveries", barChart("Deliveries by outcome", [
    { label: "delivered", value: d.delivered || 0, cls: "bar-ok" }, { label: "pending", value: d.pending || 0, cls: "bar-warn" },
    { label: "failed", value: d.failed || 0, cls: "bar-bad" }], { values: true }),
    el("p", { class: "legend" }, el("span", {}, "delivered ", el("strong", { id: "stat-delivered" }, String(d.delivered || 0))),
      el("span", {}, "failed ", el("strong", { id: "stat-failed" }, String(d.failed || 0))))));
  const l = stats.latency || {};
  cards.append(chartCard("Delivery latency (ms)", barChart("Delivery attempt latency in milliseconds", [
    { label: "p50", value: l.p50 || 0, cls: "bar" }, { label: "p99", value: l.p99 || 0, cls: "bar-warn" }], { values: true }),
    el("p", { class: "muted" }, `${l.attempts || 0} attempts`)));
  const q = stats.queues || {};
  cards.append(chartCard("Dead-letter depths", barChart("Messages in the dead-letter queues", Object.keys(q).sort().map(k => ({ label: k, value: q[k], cls: q[k] ? "bar-bad" : "bar-ok" })), { values: true })));
  const subs = stats.subscriptions || {};
  cards.append(chartCard("Subscriptions", barChart("Subscriptions by state", [
    { label: "healthy", value: subs.healthy || 0, cls: "bar-ok" }, { label: "failing", value: subs.failing || 0, cls: "bar-warn" },
    { label: "disabled", value: subs.disabled || 0, cls: "bar-bad" }], { values: true }),
    (subs.unhealthy || []).length ? el("ul", {}, subs.unhealthy.map(s => el("li", {}, el("a", { href: "#/subscriptions/" + enc(s.id) }, s.name || s.id), " ", s.disabledReason ? "disabled: " + s.disabledReason : "failing since " + when(s.failingSince)))) : null));
  root.append(cards);
}

// ---- Events ----
async function eventsPage(args) {
  if (args[0]) return eventDetail(args[0]);
  const f = { source: "", type: "", subject: "", since: "1h" };
  const form = el("form", { class: "filters", "aria-label": "Filter events" });
  for (const [k, lbl] of [["source", "Source"], ["type", "Type"], ["subject", "Subject"], ["since", "Since (RFC 3339 or 15m, 2h, 7d)"], ["until", "Until"]]) {
    form.append(el("div", {}, el("label", { for: "f-" + k }, lbl), el("input", { id: "f-" + k, name: k, value: f[k] || "" })));
  }
  const live = el("input", { type: "checkbox", id: "live", checked: true });
  form.append(el("div", {}, el("button", { type: "submit" }, "Apply"), el("label", { for: "live", class: "inline" }, live, " Live tail (every 2 s)")));
  const list = el("div", { id: "event-list" });
  const more = el("div");
  show(el("h1", {}, "Events"), form, list, more);
  let cursors = [];
  async function load(cursor) {
    const params = Object.fromEntries(new FormData(form).entries());
    params.limit = "25";
    params.cursor = cursor || "";
    const res = await api("GET", "/events" + qs(params));
    list.replaceChildren(table(["Received", "Type", "Source", "Subject", "Id"], (res.events || []).map(e => [
      when(e.receivedAt), e.event.type, e.event.source, e.event.subject || "",
      el("a", { href: "#/events/" + enc(e.id), "data-event-id": e.event.id }, e.event.id)]), "Newest first"));
    more.replaceChildren(
      cursors.length ? action("Newer", () => { cursors.pop(); return load(cursors[cursors.length - 1]); }) : "",
      res.cursor ? action("Older", () => { cursors.push(res.cursor); return load(res.cursor); }) : "");
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); cursors = []; load(); });
  await load();
  pollTimer = setInterval(() => { if (live.checked && cursors.length === 0) load().catch(() => {}); }, 2000);
}

async function eventDetail(id) {
  const ev = await api("GET", "/events/" + enc(id));
  const root = el("div", {}, el("p", {}, el("a", { href: "#/events" }, "← Events")), el("h1", {}, "Event ", el("code", {}, id)));
  root.append(el("p", {}, "Status: ", el("strong", { id: "event-status" }, ev.status || "stored"),
    ev.sourceId ? " · source " + ev.sourceId : "", ev.format ? " · format " + ev.format : ""));
  root.append(el("h2", {}, "Timeline"));
  root.append(el("ol", { class: "timeline", id: "timeline" }, (ev.timeline || []).map(t => {
    const bad = t.outcome === "failed" || t.stage === "quarantined" || (t.status && t.status >= 300);
    const ok = t.outcome === "delivered" || t.stage === "stored";
    return el("li", { class: bad ? "t-bad" : ok ? "t-ok" : "" },
      el("strong", {}, t.stage), " ", el("time", { datetime: t.at }, when(t.at)),
      t.subscriptionId ? el("div", {}, "subscription ", el("a", { href: "#/subscriptions/" + enc(t.subscriptionId) }, t.subscriptionId)) : null,
      t.attempt ? el("div", {}, `attempt ${t.attempt}`, t.status ? ` · HTTP ${t.status}` : "", t.latencyMs !== undefined ? ` · ${t.latencyMs} ms` : "", t.outcome ? ` · ${t.outcome}` : "") : null,
      t.message ? el("div", { class: "muted" }, t.message) : null,
      t.error ? el("div", { class: "bad" }, t.error) : null,
      t.response ? el("pre", {}, t.response) : null);
  })));
  root.append(el("h2", {}, "Deliveries"));
  root.append(table(["Subscription", "Status", "Attempts", "Last", ""], (ev.deliveries || []).map(d => [
    el("a", { href: "#/subscriptions/" + enc(d.subscriptionId) }, d.subscriptionId), d.status, String(d.attempts || 0),
    [d.lastStatus ? "HTTP " + d.lastStatus + " " : "", d.lastError || "", d.nextAt ? " next " + when(d.nextAt) : ""].join(""),
    el("span", {}, d.status === "failed" ? action("Retry", async (b) => { await api("POST", `/subscriptions/${enc(d.subscriptionId)}/deliveries/${enc(id)}/retry`); flash(b.parentNode, "Retry queued.", "ok"); }) : "",
      action("Replay to this subscription", async (b) => { const r = await api("POST", `/events/${enc(id)}/replay`, { subscription: d.subscriptionId }); flash(b.parentNode, "Replay " + (r.id || "queued"), "ok"); }))])));
  if (ev.status !== "quarantined") {
    root.append(action("Replay to every matching subscription", async (b) => { const r = await api("POST", `/events/${enc(id)}/replay`, {}); flash(b.parentNode, "Replay " + (r.id || "queued"), "ok"); }));
  }
  root.append(el("h2", {}, "CloudEvent"), el("pre", {}, JSON.stringify(ev.event, null, 2)));
  show(root);
}

// ---- Subscriptions ----
async function subscriptionsPage(args) {
  if (args[0] === "new") return subscriptionForm(null);
  if (args[0]) return subscriptionDetail(args[0]);
  const res = await api("GET", "/subscriptions");
  const subs = res.subscriptions || res || [];
  show(el("h1", {}, "Subscriptions"), el("p", {}, el("a", { href: "#/subscriptions/new", id: "new-subscription" }, "New subscription")),
    table(["Name", "URL", "State", "Id"], subs.map(s => [
      el("a", { href: "#/subscriptions/" + enc(s.id) }, s.name || s.id), s.url,
      s.enabled ? (s.failingSince ? "failing since " + when(s.failingSince) : "enabled") : "disabled (" + (s.disabledReason || "") + ")", s.id])));
}

function patternEditor(initial) {
  const ta = el("textarea", { id: "s-pattern", name: "pattern", "aria-describedby": "pattern-help" }, initial || "{}");
  const out = el("div", { id: "pattern-matches", "aria-live": "polite" });
  let timer = null, asked = 0;
  async function test() {
    const mine = ++asked; // an answer to an older text renders nothing
    try {
      const res = await api("POST", "/patterns/test", { pattern: ta.value });
      if (mine !== asked) return;
      out.replaceChildren(el("p", {}, `Matches ${res.matched} of the last ${res.tested} events.`),
        table(["", "Type", "Source", "Id"], (res.events || []).map(e => [
          e.match ? el("span", { class: "match" }, "✓ match") : el("span", { class: "nomatch" }, "no match"), e.type, e.source, e.id])));
    } catch (e) { if (e.status !== 401 && !e.stale && mine === asked) out.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
  }
  ta.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(test, 400); });
  setTimeout(test, 0);
  return el("div", {}, el("label", { for: "s-pattern" }, "Pattern (EventBridge syntax over the stored CloudEvent)"),
    el("p", { id: "pattern-help", class: "muted" }, '{} matches everything; e.g. {"type":["order.created"],"source":[{"prefix":"/shop"}]}'), ta, out);
}

async function subscriptionForm(sub) {
  const form = el("form", { id: "subscription-form", "aria-label": sub ? "Edit subscription" : "New subscription" },
    el("label", { for: "s-name" }, "Name"), el("input", { id: "s-name", name: "name", required: true, value: sub ? sub.name : "" }),
    el("label", { for: "s-url" }, "Endpoint URL"), el("input", { id: "s-url", name: "url", type: "url", required: true, value: sub ? sub.url : "" }),
    el("label", { for: "s-mode" }, "Mode"), el("select", { id: "s-mode", name: "mode" }, ["cloudevents", "iuap"].map(m => el("option", { value: m, selected: sub && sub.mode === m }, m))),
    el("label", { for: "s-retry" }, "Retry delays (comma separated, empty for the default)"), el("input", { id: "s-retry", name: "retry", value: sub && sub.retry ? sub.retry.join(",") : "" }),
    patternEditor(sub ? JSON.stringify(sub.pattern || {}, null, 1) : "{}"),
    el("button", { type: "submit" }, sub ? "Save" : "Create"));
  const status = el("div", { id: "form-status" });
  show(el("p", {}, el("a", { href: "#/subscriptions" }, "← Subscriptions")), el("h1", {}, sub ? "Edit " + (sub.name || sub.id) : "New subscription"), form, status);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = Object.fromEntries(new FormData(form).entries());
    let pattern;
    try { pattern = JSON.parse(fd.pattern || "{}"); } catch (e) { status.replaceChildren(el("p", { class: "error", role: "alert" }, "pattern: " + e.message)); return; }
    const body = { name: fd.name, url: fd.url, mode: fd.mode, pattern };
    if (fd.retry.trim()) body.retry = fd.retry.split(",").map(s => s.trim()).filter(Boolean);
    try {
      if (sub) {
        await api("PATCH", "/subscriptions/" + enc(sub.id), body);
        location.hash = "#/subscriptions/" + enc(sub.id);
      } else {
        const r = await api("POST", "/subscriptions", Object.assign(body, { enabled: true }));
        show(el("h1", {}, "Subscription created"), el("p", {}, "Id ", el("code", { id: "created-id" }, r.id)), secretBox("Signing secret", r.secret),
          el("p", {}, el("a", { href: "#/subscriptions/" + enc(r.id) }, "Open the subscription")));
      }
    } catch (e) { if (e.status !== 401) status.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
  });
}

async function subscriptionDetail(id, note) {
  if (id.endsWith(":edit")) return subscriptionForm(await api("GET", "/subscriptions/" + enc(id.slice(0, -5))));
  const sub = await api("GET", "/subscriptions/" + enc(id));
  const dl = await api("GET", `/subscriptions/${enc(id)}/deliveries?limit=50`);
  const msg = el("div", { id: "sub-status", "aria-live": "polite" }, note || "");
  const reload = (n) => subscriptionDetail(id, n);
  const since = el("input", { id: "recover-since", value: new Date(Date.now() - 3600e3).toISOString().replace(/\.\d+Z$/, "Z") });
  show(el("p", {}, el("a", { href: "#/subscriptions" }, "← Subscriptions")),
    el("h1", {}, sub.name || sub.id), msg,
    el("p", {}, el("code", {}, sub.id), " → ", sub.url, " · ", el("strong", { id: "sub-state" }, sub.enabled ? "enabled" : "disabled" + (sub.disabledReason ? " (" + sub.disabledReason + ")" : "")),
      sub.failingSince ? " · failing since " + when(sub.failingSince) : "", sub.secretGraceUntil ? " · previous secret valid until " + when(sub.secretGraceUntil) : ""),
    el("div", {},
      el("a", { href: `#/subscriptions/${enc(id)}:edit` }, "Edit"), " ",
      sub.enabled ? action("Disable", async () => { await api("POST", `/subscriptions/${enc(id)}/disable`); await reload(); })
        : action("Enable", async () => { await api("POST", `/subscriptions/${enc(id)}/enable`); await reload(); }),
      action("Rotate secret", async () => { const r = await api("POST", `/subscriptions/${enc(id)}/rotate-secret`, {}); await reload(secretBox("New signing secret", r.secret)); }, { id: "rotate-secret" }),
      action("Redrive its dead letters", async () => { const r = await api("POST", "/deliveries/redrive", { subscriptionId: id }); await reload(`Moved ${r.moved}, skipped ${r.skipped}.`); }),
      action("Delete", async () => { if (confirm("Delete this subscription?")) { await api("DELETE", "/subscriptions/" + enc(id)); location.hash = "#/subscriptions"; } })),
    el("h2", {}, "Pattern"), el("pre", {}, JSON.stringify(sub.pattern || {}, null, 2)),
    el("h2", {}, "Deliveries"),
    el("div", {}, el("label", { for: "recover-since" }, "Retry every failed delivery since"), since,
      action("Recover", async () => { const r = await api("POST", `/subscriptions/${enc(id)}/recover`, { since: since.value }); await reload(`Recovering ${r.count !== undefined ? r.count : ""} deliveries.`); })),
    table(["Event", "Status", "Attempts", "Last", ""], (dl.deliveries || []).map(d => [
      el("a", { href: "#/events/" + enc(d.key) }, d.key), el("span", { "data-delivery-status": d.status }, d.status), String(d.attempts || 0),
      [d.lastStatus ? "HTTP " + d.lastStatus + " " : "", d.lastError || ""].join(""),
      d.status === "failed" ? action("Retry", async () => { await api("POST", `/subscriptions/${enc(id)}/deliveries/${enc(d.key)}/retry`); await reload("Retry queued."); }, { "data-retry": d.key }) : ""])));
}

// ---- Sources ----
async function sourcesPage() {
  const res = await api("GET", "/sources");
  const srcs = res.sources || res || [];
  const out = el("div", { id: "source-status", "aria-live": "polite" });
  const form = el("form", { id: "source-form", "aria-label": "New source" },
    el("label", { for: "src-name" }, "Name"), el("input", { id: "src-name", name: "name", required: true }),
    el("label", { for: "src-format" }, "Format"), el("input", { id: "src-format", name: "format", value: "cloudevents" }),
    el("label", { for: "src-prefix" }, "Owned source prefix (optional)"), el("input", { id: "src-prefix", name: "prefix" }),
    el("button", { type: "submit" }, "Create source"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = Object.fromEntries(new FormData(form).entries());
    const body = { name: fd.name, format: fd.format };
    if (fd.prefix) body.owns = { prefixes: [fd.prefix] };
    try {
      const r = await api("POST", "/sources", body);
      out.replaceChildren(el("p", {}, "Source ", el("code", {}, r.id), " created."), secretBox("Producer token", r.token), r.signingKey ? secretBox("Signing key", r.signingKey) : "");
    } catch (e) { if (e.status !== 401) out.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
  });
  show(el("h1", {}, "Sources"), out,
    table(["Name", "Format", "State", "Id", ""], srcs.map(s => [s.name, s.format, s.enabled === false ? "disabled" : "enabled", s.id, el("span", {},
      action("Rotate token", async () => { const r = await api("POST", `/sources/${enc(s.id)}/rotate`, { credential: "token" }); out.replaceChildren(secretBox("New token for " + s.name, r.token)); }),
      action(s.enabled === false ? "Enable" : "Disable", async () => { await api("PATCH", "/sources/" + enc(s.id), { enabled: s.enabled === false }); await sourcesPage(); }))])),
    el("h2", {}, "New source"), form);
}

// ---- Types ----
async function typesPage(args) {
  const res = await api("GET", "/types");
  const types = res.types || res || [];
  show(el("h1", {}, "Event types"), table(["Type", "Owner", "Version", "Description", "Schema"], types.map(t => [
    t.type || t.name, t.owner || "", t.version || "", t.description || "", t.schema ? el("details", {}, el("summary", {}, "schema"), el("pre", {}, JSON.stringify(t.schema, null, 2))) : "none"])));
}

// ---- Quarantine ----
async function quarantinePage() {
  const res = await api("GET", "/quarantine");
  const items = res.items || [];
  const out = el("div", { id: "quarantine-status", "aria-live": "polite" });
  show(el("h1", {}, "Quarantine"), el("p", { class: "muted" }, "Events that could not be normalized, with the reason and the raw payload."), out,
    table(["Received", "Source", "Reason", "Payload", "Re-submit"], items.map(q => {
      const fmt = el("input", { id: "fmt-" + q.id, "aria-label": "Format to read " + q.id + " with", placeholder: q.format || "the source's" });
      return [when(q.receivedAt || q.at), q.sourceId || "", q.reason || "",
        el("details", {}, el("summary", {}, el("code", {}, q.id)), el("pre", {}, typeof q.raw === "string" ? q.raw : JSON.stringify(q.raw, null, 2))),
        el("span", {}, el("label", { for: "fmt-" + q.id }, "Format (empty: the source's)"), fmt,
          action("Re-submit", async () => {
            const body = fmt.value.trim() ? { format: fmt.value.trim() } : {};
            const r = await api("POST", `/quarantine/${enc(q.id)}/resubmit`, body);
            out.replaceChildren(el("p", { class: "ok", role: "status" }, `Re-submitted ${q.id} as ${r.format}` + (r.key ? `: event ${r.key}` : ".")));
          }, { "data-resubmit": q.id }))];
    })));
}

// ---- Alerts ----
async function alertsPage() {
  const res = await api("GET", "/alerts");
  const items = res.alerts || res.items || [];
  show(el("h1", {}, "Alerts"), table(["Status", "Name", "Source", "Count", "Last seen", "Id"], items.map(a => [
    a.status, a.name || "", a.source || "", String(a.count || 0), when(a.lastSeen), a.id])));
}

// ---- Replays ----
async function replaysPage(args) {
  const out = el("div", { id: "replay-status", "aria-live": "polite" });
  const form = el("form", { id: "replay-form", "aria-label": "New replay" },
    el("label", { for: "r-since" }, "Since (RFC 3339)"), el("input", { id: "r-since", name: "since", value: new Date(Date.now() - 3600e3).toISOString().replace(/\.\d+Z$/, "Z") }),
    el("label", { for: "r-until" }, "Until (RFC 3339)"), el("input", { id: "r-until", name: "until", value: new Date().toISOString().replace(/\.\d+Z$/, "Z") }),
    el("label", { for: "r-sub" }, "Subscription id (empty: every matching one)"), el("input", { id: "r-sub", name: "subscription" }),
    el("label", { for: "r-pattern" }, "Pattern"), el("textarea", { id: "r-pattern", name: "pattern" }, "{}"),
    el("button", { type: "submit" }, "Start replay"));
  async function progress(id) {
    const j = await api("GET", "/replays/" + enc(id));
    out.replaceChildren(el("p", {}, "Replay ", el("code", {}, id), ` ${j.status || ""}: ${j.done || 0} of ${j.total || 0} done, ${j.failed || 0} failed`),
      el("progress", { max: String(j.total || 1), value: String(j.done || 0), "aria-label": "Replay progress" }));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = Object.fromEntries(new FormData(form).entries());
    try {
      const body = { since: fd.since, until: fd.until, pattern: JSON.parse(fd.pattern || "{}") };
      if (fd.subscription) body.subscription = fd.subscription;
      const r = await api("POST", "/replays", body);
      location.hash = "#/replays/" + enc(r.id);
    } catch (e) { if (e.status !== 401) out.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
  });
  show(el("h1", {}, "Replays"), out, form);
  if (args[0]) { await progress(args[0]); pollTimer = setInterval(() => progress(args[0]).catch(() => {}), 2000); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login-form").addEventListener("submit", signIn);
  document.getElementById("logout").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", route);
  route();
});
