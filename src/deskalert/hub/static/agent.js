// deskalert agents' page: a desk's buttons on an agent's phone, away from the desk (home visits,
// the hall, an interview room). It uses the desks' API with the phone's session cookie:
// POST /v1/alerts (an id chosen here, so a retry never doubles an alert), cancel, ack, the
// event stream, on-call, interview sessions (agent-timer.js). Plain JavaScript, no build step,
// no external resource (the hub's CSP allows none); text from the hub goes in as textContent.
"use strict";

const ROOT = location.pathname.slice(0, location.pathname.indexOf("/page/"));
const OUTBOX_KEY = "deskalert.agent.outbox";
const REPRESS_SAME_MS = 10000;  // as the desk: a second press within 10 s of an unanswered alert
const CLOSED_VISIBLE_MS = 120000;  // a finished own alert stays shown this long
const $ = (id) => document.getElementById(id);
// Times are the site's (`[hub] timezone`, written into the page by the hub), not the phone's.
const SITE_ZONE = document.documentElement.dataset.tz || undefined;
const state = {
  lang: localStorage.getItem("deskalert.lang") || document.documentElement.lang || "fr",
  me: null, oncall: null, own: new Map(), current: null, colleagues: new Map(),
  lastId: 0, epoch: "", source: null, live: false, brokenSince: null, retryMs: 1000,
  retryTimer: null, sending: new Set(), beat: null, skewMs: 0,
};

function t(key, values = {}) {
  const text = (WORDS[state.lang] || WORDS.fr)[key] || WORDS.fr[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function translatePage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("lang").textContent = t("lang");
  if (state.me) drawCodes();  // the codes' labels in the new language
  render();
  timer.render();
  notices.render();
}

// -- talking to the hub ------------------------------------------------------------------

async function api(method, path, body) {
  const options = {method, credentials: "same-origin", headers: {Accept: "application/json"}};
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(ROOT + path, options);
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (response.status === 401 && path !== "/page/api/agent/session") sessionRefused();
  return {status: response.status, ok: response.ok, data, headers: response.headers};
}

async function start() {
  const code = new URLSearchParams(location.hash.slice(1)).get("code");
  if (code) {
    history.replaceState(null, "", location.pathname);  // the code leaves the address bar
    return enrol(code);
  }
  const me = await api("GET", "/page/api/agent/me").catch(() => null);
  if (me && me.ok) return open(me.data);
  const known = remembered("me");
  if (me === null && known) {  // no network: the buttons as last known; presses wait in the outbox
    state.oncall = remembered("oncall");
    state.brokenSince = new Date();
    return open(known);
  }
  if (me === null) { showStream(); state.retryTimer = setTimeout(start, 2000); return; }
  showEnrol();
}

// What the page shows without the hub: this desk, its codes, the on-call card, as last known.
function remember(key, value) { localStorage.setItem("deskalert.agent." + key, JSON.stringify(value)); }
function remembered(key) {
  try { return JSON.parse(localStorage.getItem("deskalert.agent." + key) || "null"); } catch (_) { return null; }
}

async function enrol(code) {
  $("enrol-error").textContent = "";
  const answer = await api("POST", "/page/api/agent/session", {code}).catch(() => null);
  if (!answer) { showEnrol(); $("enrol-error").textContent = t("enrol.failed"); return; }
  if (!answer.ok) {
    showEnrol();
    $("enrol-error").textContent = t("enrol.refused", {reason: (answer.data && answer.data.detail) || answer.status});
    return;
  }
  hide("banner-auth");
  localStorage.removeItem(OUTBOX_KEY);  // a new enrolment starts afresh: no press of another time
  const me = await api("GET", "/page/api/agent/me");
  if (me.ok) open(me.data);
}

function showEnrol() {
  $("main").hidden = true;
  $("enrol").hidden = false;
  $("who").textContent = "";
}

function open(me) {
  state.me = me;
  remember("me", me);
  $("who").textContent = me.label;
  $("enrol").hidden = true;
  $("main").hidden = false;
  const expires = me.expires ? new Date(me.expires) : null;
  $("expires").textContent = expires ? t("expires", {date: expires.toLocaleDateString(state.lang, {timeZone: SITE_ZONE})}) : "";
  for (const entry of loadOutbox()) track(entry);  // presses a closed page left unsent
  drawCodes();
  reloadThenFollow();
  for (const entry of loadOutbox()) deliver(entry);
  clearInterval(state.beat);
  beat();
  state.beat = setInterval(beat, me.heartbeat_s * 1000);
}

// hub.toml reloaded (`deskalert hub reload`): this desk's label, the codes and the on-call card
// read again, as the supervisors' page does; the stream, the outbox and the own alert stay.
async function rosterChanged() {
  const [me, oncall] = await Promise.all(
    [api("GET", "/page/api/agent/me"), api("GET", "/v1/oncall")].map((asked) => asked.catch(() => null)));
  if (!me || !me.ok || !state.me) return;  // a refused session is shown by api()
  const newCodes = JSON.stringify(me.data.codes) !== JSON.stringify(state.me.codes);
  state.me = me.data;
  remember("me", me.data);
  $("who").textContent = me.data.label;
  if (newCodes) drawCodes();  // only then: buttons rebuilt under a finger lose its tap
  if (oncall && oncall.ok) { state.oncall = oncall.data[0] || null; remember("oncall", state.oncall); }
  render();
}

// A heartbeat keeps this phone online on the supervisors' panes, and reads the hub's clock:
// times left (the interview, "tout va bien ?") are the hub's, whatever the phone's clock says.
async function beat() {
  const answer = await api("POST", "/v1/heartbeat").catch(() => null);
  if (answer && answer.ok) sawHubTime(answer.data.at);
}

function sawHubTime(iso) { state.skewMs = Date.parse(iso) - Date.now(); }
function hubNow() { return Date.now() + state.skewMs; }

async function logOut() {
  await api("POST", "/page/api/agent/logout").catch(() => null);
  for (const key of ["me", "oncall", "outbox"]) localStorage.removeItem("deskalert.agent." + key);
  stopStream();
  clearInterval(state.beat);
  state.me = null;
  showEnrol();
}

// -- the stream: a snapshot, then every change after it ------------------------------------

async function reloadThenFollow() {
  stopStream();
  try {
    if (!state.lastId) {
      const health = await api("GET", "/healthz");
      state.lastId = (health.data && health.data.last_event_id) || 0;
      state.epoch = (health.data && health.data.epoch) || "";
    }
    const [oncall, open] = await Promise.all([
      api("GET", "/v1/oncall"), api("GET", "/v1/alerts?state=open&limit=1000")]);
    if (oncall.status === 401 || open.status === 401) return;
    if (!oncall.ok || !open.ok) throw new Error("snapshot");
    state.oncall = oncall.data[0] || null;
    remember("oncall", state.oncall);
    state.colleagues.clear();
    for (const alert of open.data) apply(alert);
    await timer.load();
    await notices.load();
    render();
    follow();
  } catch (_) {
    streamBroken();
  }
}

function follow() {
  stopStream();
  const epoch = state.epoch ? "&epoch=" + encodeURIComponent(state.epoch) : "";
  const source = new EventSource(ROOT + "/v1/events?since=" + state.lastId + epoch);
  state.source = source;
  source.addEventListener("open", () => {
    state.live = true; state.retryMs = 1000; state.brokenSince = null;
    hide("banner-stream"); render();
  });
  source.addEventListener("stream.reset", (event) => {
    const reset = JSON.parse(event.data);
    state.lastId = reset.last_event_id;
    state.epoch = reset.epoch;
    reloadThenFollow();
    rosterChanged();  // a roster.changed in the new log is before its id
  });
  const take = (handler) => (event) => {
    state.lastId = Math.max(state.lastId, Number(event.lastEventId) || 0);
    handler(JSON.parse(event.data));
  };
  for (const type of ["alert.raised", "alert.acknowledged", "alert.resolved", "alert.cancelled", "alert.escalated"]) {
    source.addEventListener(type, take((alert) => { apply(alert); render(); }));
  }
  source.addEventListener("oncall.changed", take((card) => {
    if (state.me && card.site === state.me.site) { state.oncall = card; render(); }
  }));
  source.addEventListener("roster.changed", take(() => rosterChanged()));
  timer.listen(source, take);
  notices.listen(source, take);
  source.onerror = () => { if (state.source === source) streamBroken(); };
}

function stopStream() {
  if (state.source) state.source.close();
  state.source = null;
  clearTimeout(state.retryTimer);
}

async function streamBroken() {
  stopStream();
  state.live = false;
  state.brokenSince = state.brokenSince || new Date();
  const me = await api("GET", "/page/api/agent/me").catch(() => null);
  if (me && me.status === 401) return;
  showStream();
  render();
  state.retryTimer = setTimeout(reloadThenFollow, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, 10000);
}

function showStream() {
  const since = clock(state.brokenSince || new Date());
  const who = state.oncall && state.oncall.supervisor;
  const phone = who && who.phone ? who.phone.replace(/ /g, "\u00a0") : "";  // a number on one line
  const call = phone ? " " + t("stream.call", {name: who.name, phone}) : "";
  show("banner-stream", t("stream.broken", {time: since}) + call);
}

function sessionRefused() {
  stopStream();
  clearInterval(state.beat);
  state.live = false;
  hide("banner-stream");
  show("banner-auth", t("auth.refused"));
  localStorage.removeItem("deskalert.agent.me");
  showEnrol();
}

// -- the agent's own alerts: an outbox kept in localStorage until the hub has stored them ----

function uuid4() {
  // crypto.randomUUID needs a secure context; a hub on plain http in the office has none.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function loadOutbox() {
  try { return JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]"); } catch (_) { return []; }
}

function saveOutbox(entries) { localStorage.setItem(OUTBOX_KEY, JSON.stringify(entries)); }

function track(entry) {
  if (!state.own.has(entry.id)) {
    state.own.set(entry.id, {id: entry.id, code: entry.code, queuedAt: Date.parse(entry.created_at),
      alert: null, failing: false, error: null, storedAt: null, cancel: false});
  }
  state.current = entry.id;
}

function press(code) {
  const now = Date.now();
  const current = state.own.get(state.current);
  if (current && current.code === code && fresh(current, now)) return toast(t("same"));
  const entry = {id: uuid4(), code, created_at: new Date(now).toISOString()};
  saveOutbox([...loadOutbox(), entry]);  // kept before anything else: a reload still sends it
  track(entry);
  render();
  deliver(entry);
  if (navigator.vibrate) navigator.vibrate(80);
}

function fresh(own, now) {
  if (own.cancel || own.error) return false;
  if (!own.alert) return true;
  return own.alert.state === "open" && own.alert.responders.length === 0
    && own.storedAt !== null && now - own.storedAt < REPRESS_SAME_MS;
}

async function deliver(entry, delayMs = 0) {
  if (state.sending.has(entry.id)) return;
  state.sending.add(entry.id);
  const own = state.own.get(entry.id);
  let retryMs = 1000;
  try {
    for (;;) {
      if (delayMs) await new Promise((done) => setTimeout(done, delayMs));
      if (!queued(entry)) return;  // withdrawn meanwhile
      const answer = await api("POST", "/v1/alerts", {id: entry.id, code: entry.code, created_at: entry.created_at})
        .catch(() => null);
      if (answer && (answer.ok || answer.status === 409) && answer.data) {
        saveOutbox(loadOutbox().filter((e) => e.id !== entry.id));
        own.failing = false;
        apply(answer.ok ? answer.data : answer.data.alert);
        if (own.cancel) cancelOnHub(own);
        return render();
      }
      if (answer && [400, 401, 403, 422].includes(answer.status)) {
        saveOutbox(loadOutbox().filter((e) => e.id !== entry.id));
        own.failing = false;
        own.error = (answer.data && answer.data.detail) || String(answer.status);
        return render();
      }
      if (!queued(entry)) return;  // withdrawn while it was tried: never stored
      own.failing = true;  // no answer, 429, 5xx: said at once, tried again until stored
      render();
      const after = answer && answer.headers.get("Retry-After");
      delayMs = after ? Number(after) * 1000 : retryMs;
      retryMs = Math.min(retryMs * 2, 5000);
    }
  } finally {
    state.sending.delete(entry.id);
  }
}

function queued(entry) { return loadOutbox().some((e) => e.id === entry.id); }

// The cancel button: an alert not stored yet leaves the outbox (one on its way is cancelled on
// the hub as soon as its copy comes back: `deliver`); a stored one is cancelled on the hub.
function withdraw() {
  const own = state.own.get(state.current);
  if (!own || own.cancel) return;
  own.cancel = true;
  if (!own.alert) {
    saveOutbox(loadOutbox().filter((e) => e.id !== own.id));
    own.withdrawn = true;
    own.failing = false;
    own.closedAt = Date.now();
  } else {
    cancelOnHub(own);
  }
  render();
}

async function cancelOnHub(own) {
  const answer = await api("POST", `/v1/alerts/${own.id}/cancel`, {}).catch(() => null);
  if (answer && answer.ok) { apply(answer.data); return render(); }
  own.cancel = false;
  toast((answer && answer.data && answer.data.detail) || t("unsent.banner"));
  render();
}

function apply(alert) {
  if (!state.me) return;
  if (alert.desk === state.me.desk) {
    let own = state.own.get(alert.id);
    if (!own) {
      // Raised before a reload, or by the hub (a check): its cancel window runs from the hub's
      // receipt, not from now.
      const stored = Date.parse(alert.received_at) - state.skewMs;
      own = {id: alert.id, code: alert.code, queuedAt: stored, alert: null,
        failing: false, error: null, storedAt: stored, cancel: false};
      state.own.set(alert.id, own);
      if (!alert.state.match(/resolved|cancelled/)) state.current = alert.id;
    }
    if (!own.alert || own.alert.updated_at <= alert.updated_at) own.alert = alert;
    if (own.storedAt === null) own.storedAt = Date.now();
    if (alert.state.match(/resolved|cancelled/) && !own.closedAt) own.closedAt = Date.now();
  } else if (alert.state === "resolved" || alert.state === "cancelled") {
    state.colleagues.delete(alert.id);
  } else {
    const held = state.colleagues.get(alert.id);
    if (!held || held.updated_at <= alert.updated_at) state.colleagues.set(alert.id, alert);
  }
}

async function answerColleague(alert) {
  const result = await api("POST", `/v1/alerts/${alert.id}/ack`).catch(() => null);
  if (result && result.ok) { apply(result.data); return render(); }
  if (!result || result.status !== 401) toast((result && result.data && result.data.detail) || t("ack.failed"));
}
