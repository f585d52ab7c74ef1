// deskalert page: the open alerts live over the hub's event stream, and the supervisor's
// answers. Plain JavaScript, no build step, no external resource (the hub's CSP allows none).
// Text from the hub (codes, names, places) goes into the DOM with textContent only.
"use strict";

const WORDS = {
  fr: {
    "login.label": "Votre jeton d'encadrant",
    "login.submit": "Se connecter",
    "login.hint": "Une seule fois sur ce téléphone : la session dure ensuite plusieurs heures.",
    "login.refused": "Jeton refusé : vérifiez le jeton reçu pour vous.",
    "login.failed": "Le hub ne répond pas : réessayez.",
    "logout": "Sortir",
    "enable": "Activer son et notifications",
    "enabled": "Son et notifications actifs",
    "empty": "Aucune alerte en cours.",
    "live.on": "En direct",
    "live.wait": "Connexion…",
    "stream.broken": "Flux interrompu depuis {time} : la liste n'est plus à jour. Reconnexion en cours…",
    "frozen": "figé à {time}",
    "auth.refused": "Session refusée ou expirée : reconnectez-vous avec votre jeton ou un nouveau lien d'accès.",
    "link.refused": "Ce lien de réponse a expiré ou n'est plus valable. Connectez-vous avec votre jeton.",
    "link.scope": "Ouvert par un lien de réponse : cette alerte seulement. Connectez-vous avec votre jeton pour voir toutes les alertes.",
    "link.closed": "Cette alerte est close : {state} par {who}, le {date} à {time}. Il n'y a plus rien à répondre.",
    "link.closed.unknown": "inconnu",
    "enrol.used": "Ce lien d'accès a déjà servi : il n'ouvre la page qu'une fois. Demandez-en un nouveau à l'administrateur du hub.",
    "enrol.expired": "Ce lien d'accès a expiré : demandez-en un nouveau à l'administrateur du hub.",
    "enrol.unknown": "Ce lien d'accès est inconnu du hub : vérifiez-le, ou demandez-en un nouveau à l'administrateur du hub.",
    "enrol.gone": "Ce lien d'accès est pour un encadrant qui n'est plus dans la liste du hub.",
    "enrol.failed": "Le hub ne répond pas : rouvrez le lien.",
    "state.open": "OUVERTE",
    "state.acknowledged": "PRISE EN CHARGE",
    "state.resolved": "RÉSOLUE",
    "state.cancelled": "FAUSSE ALERTE",
    "drill": "EXERCICE",
    "escalated": "escaladée (niveau {level})",
    "pressed": "Appui il y a {elapsed}",
    "no_answer": "Levée par le hub il y a {elapsed} (pas de réponse)",
    "received": "reçue par le hub il y a {elapsed}",
    "coming": "Arrive : {names}",
    "coming.none": "Personne n'a encore répondu",
    "ack": "J'arrive",
    "ack.done": "Vous arrivez",
    "resolve": "Résoudre",
    "cancel": "Fausse alerte",
    "confirm.resolve": "Confirmer : résolue",
    "confirm.cancel": "Confirmer : fausse alerte",
    "sent.failed": "Non transmis : le hub ne répond pas. Réessayez.",
    "notify.title": "Alerte : {code}",
    "lang": "EN",
  },
  en: {
    "login.label": "Your supervisor token",
    "login.submit": "Log in",
    "login.hint": "Once on this phone: the session then lasts several hours.",
    "login.refused": "Token refused: check the token you were given.",
    "login.failed": "The hub does not answer: try again.",
    "logout": "Log out",
    "enable": "Turn on sound and notifications",
    "enabled": "Sound and notifications on",
    "empty": "No open alert.",
    "live.on": "Live",
    "live.wait": "Connecting…",
    "stream.broken": "Stream down since {time}: this list is out of date. Reconnecting…",
    "frozen": "frozen at {time}",
    "auth.refused": "Session refused or expired: log in again with your token or a new access link.",
    "link.refused": "This answer link has expired or is no longer valid. Log in with your token.",
    "link.scope": "Opened from an answer link: this alert only. Log in with your token to see every alert.",
    "link.closed": "This alert is closed: {state} by {who}, on {date} at {time}. There is nothing left to answer.",
    "link.closed.unknown": "unknown",
    "enrol.used": "This access link was already used: it opens the page once only. Ask the hub's administrator for a new one.",
    "enrol.expired": "This access link has expired: ask the hub's administrator for a new one.",
    "enrol.unknown": "This access link is unknown to the hub: check it, or ask the hub's administrator for a new one.",
    "enrol.gone": "This access link is for a supervisor no longer on the hub's list.",
    "enrol.failed": "The hub does not answer: open the link again.",
    "state.open": "OPEN",
    "state.acknowledged": "ANSWERED",
    "state.resolved": "RESOLVED",
    "state.cancelled": "FALSE ALARM",
    "drill": "DRILL",
    "escalated": "escalated (level {level})",
    "pressed": "Pressed {elapsed} ago",
    "no_answer": "Raised by the hub {elapsed} ago (no answer)",
    "received": "received by the hub {elapsed} ago",
    "coming": "Coming: {names}",
    "coming.none": "Nobody has answered yet",
    "ack": "I'm coming",
    "ack.done": "You are coming",
    "resolve": "Resolve",
    "cancel": "False alarm",
    "confirm.resolve": "Confirm: resolved",
    "confirm.cancel": "Confirm: false alarm",
    "sent.failed": "Not sent: the hub does not answer. Try again.",
    "notify.title": "Alert: {code}",
    "lang": "FR",
  },
};

const ROOT = location.pathname.slice(0, location.pathname.indexOf("/page/"));
const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem("deskalert.lang") || document.documentElement.lang || "fr",
  me: null, alerts: new Map(), lastId: 0, epoch: "", source: null, live: false, brokenSince: null,
  retryMs: 1000, retryTimer: null, focus: null, audio: null, confirming: null, closed: null,
  refusedLink: null,
};

// Times show in the site's zone (the hub's [hub] timezone, in the HTML), as on the desks and the
// panes, not in the phone's: a supervisor travelling, or a phone on another zone, reads the
// same 10:42 as the desk. No zone given: the phone's.
const SITE_ZONE = document.documentElement.dataset.tz || undefined;
const siteTime = (date, options = {}) => date.toLocaleTimeString(state.lang, {...options, timeZone: SITE_ZONE});
const siteDay = (date) => date.toLocaleDateString(state.lang, {timeZone: SITE_ZONE});

// The roster's words in the page's language: the English where hub.toml gives it (`label_en`...).
const inLang = (french, english) => (state.lang === "en" && english ? english : french);

function t(key, values = {}) {
  const text = (WORDS[state.lang] || WORDS.fr)[key] || WORDS.fr[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function translatePage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("lang").textContent = t("lang");
  if (state.audio) $("enable").textContent = t("enabled");
  showLive();
  if (state.brokenSince) showStreamBroken();
  if (state.me && state.me.alert) $("scope").textContent = t("link.scope");
  if (state.closed) showClosed(state.closed);
  if (state.refusedLink) show("banner-link", t("enrol." + state.refusedLink));
  render();
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
  if (response.status === 401 && path !== "/page/api/session") sessionRefused();
  return {status: response.status, ok: response.ok, data};
}

async function start() {
  const link = document.documentElement.dataset.link;
  if (link === "ok" || link === "closed") return logInWithLink(link);
  if (link === "enrol") return openWithPageLink();
  if (link.startsWith("enrol-")) return pageLinkRefused(link.slice("enrol-".length));
  if (link === "refused") show("banner-link", t("link.refused"));
  const me = await api("GET", "/page/api/me").catch(() => null);
  if (me && me.ok) return open(me.data);
  hide("banner-auth");  // a first visit without a session is not a refusal
  if (me && me.data && me.data.error === "session_refused") show("banner-auth", t("auth.refused"));
  showLogin();
}

async function logInWithLink(kind) {
  const alertId = location.pathname.split("/").pop();
  const query = new URLSearchParams(location.search);
  const link = {alert: alertId, s: query.get("s") || "", e: query.get("e") || "", k: query.get("k") || ""};
  // Already logged in on this phone as that supervisor: keep the whole page, open on the alert.
  const current = await fetch(ROOT + "/page/api/me", {credentials: "same-origin"})
    .then((response) => (response.ok ? response.json() : null)).catch(() => null);
  const whole = current && !current.alert && current.supervisor === link.s;
  if (whole && kind !== "closed") {
    history.replaceState(null, "", ROOT + "/page/#alert=" + alertId);
    return open(current);
  }
  // A closed alert's link opens no session: the hub answers 409 with who closed it and when.
  const answer = await api("POST", "/page/api/session", {link}).catch(() => null);
  history.replaceState(null, "", ROOT + "/page/#alert=" + alertId);  // the link leaves the address bar
  if (answer && answer.status === 409 && answer.data && answer.data.error === "alert_closed") {
    showClosed(answer.data);
    return whole ? open(current) : showLogin();
  }
  if (!answer || !answer.ok) {
    show("banner-link", t("link.refused"));
    return showLogin();
  }
  const me = await api("GET", "/page/api/me");
  if (me.ok) open(me.data);
}

// A one-time page link (`deskalert hub enrol ID --page`): spent by this POST, which sets the
// cookie; refused (used, expired, unknown), the page says so in one line and nothing else.
async function openWithPageLink() {
  const code = decodeURIComponent(location.pathname.split("/").pop());
  const answer = await api("POST", "/page/api/session", {enrol: code}).catch(() => null);
  if (!answer) return pageLinkRefused("failed");
  history.replaceState(null, "", ROOT + "/page/");  // the spent link leaves the address bar
  if (!answer.ok) {
    const error = (answer.data && answer.data.error) || "";
    return pageLinkRefused(error.startsWith("page_link_") ? error.slice(10) : "unknown");
  }
  const me = await api("GET", "/page/api/me");
  if (me.ok) open(me.data);
}

function pageLinkRefused(why) {
  state.refusedLink = why;
  show("banner-link", t("enrol." + why));
}

function showClosed(closed) {
  state.closed = closed;
  const at = closed.closed_at ? new Date(closed.closed_at) : null;
  show("banner-closed", t("link.closed", {
    state: t("state." + closed.state),
    who: closed.closed_by_name || closed.closed_by || t("link.closed.unknown"),
    date: at ? siteDay(at) : "?",
    time: at ? siteTime(at, {hour: "2-digit", minute: "2-digit"}) : "?",
  }));
}

function showLogin() {
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("who").textContent = "";
}

async function logIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const answer = await api("POST", "/page/api/session", {token: $("token").value.trim()})
    .catch(() => null);
  if (!answer) { $("login-error").textContent = t("login.failed"); return; }
  if (!answer.ok) { $("login-error").textContent = t("login.refused"); return; }
  $("token").value = "";
  hide("banner-auth"); hide("banner-link"); hide("banner-closed");
  state.closed = null;
  unlockSound();
  const me = await api("GET", "/page/api/me");
  if (me.ok) open(me.data);
}

async function logOut() {
  await api("POST", "/page/api/logout").catch(() => null);
  stopStream();
  state.me = null;
  state.alerts.clear();
  showLogin();
}

function takeRoster(me) {
  state.me = me;
  state.codes = new Map(me.codes.map((code) => [code.code, code]));
  $("who").textContent = me.name;
}

// hub.toml reloaded (`deskalert hub reload`): the roster's words (codes' protocols, sites,
// broadcast kinds and templates) read again while the stream stays open.
async function rosterChanged(event) {
  state.lastId = Math.max(state.lastId, Number(event.lastEventId) || 0);
  const me = await api("GET", "/page/api/me").catch(() => null);
  if (!me || !me.ok || !state.me) return;  // a refused session is shown by api()
  takeRoster(me.data);
  render();
  broadcasts.rosterChanged();  // broadcasts.js
}

function open(me) {
  takeRoster(me);
  const match = location.hash.match(/alert=([0-9a-f-]+)/);
  state.focus = me.alert || (match ? match[1] : null);
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  $("scope").hidden = !me.alert;
  $("scope").textContent = t("link.scope");
  if (me.alert) return followOneAlert(me.alert);
  reloadThenFollow();
}

// -- the stream: snapshot, then every change after it -----------------------------------

async function reloadThenFollow() {
  stopStream();
  try {
    if (!state.lastId) {
      // The epoch is read with the id, before the list: if the hub is restored in between,
      // the stream finds the page on the old event log and resets it, never the other way.
      const health = await api("GET", "/healthz");
      state.lastId = (health.data && health.data.last_event_id) || 0;
      state.epoch = (health.data && health.data.epoch) || "";
    }
    const open = await api("GET", "/v1/alerts?state=open&limit=1000");
    if (open.status === 401) return;
    if (!open.ok) throw new Error("list " + open.status);
    state.alerts = new Map(open.data.map((alert) => [alert.id, alert]));
    render();
    await broadcasts.load();  // broadcasts.js: the messages to the desks, current ones
    follow();
  } catch (_) {
    streamBroken();
  }
}

function follow() {
  stopStream();
  // `epoch`: which event log lastId is from. A hub restored from a copy gives ids out again
  // from the copy's last; without it the page would skip them, showing "live".
  const epoch = state.epoch ? "&epoch=" + encodeURIComponent(state.epoch) : "";
  const source = new EventSource(ROOT + "/v1/events?since=" + state.lastId + epoch);
  state.source = source;
  // The hub's `stream.open` has no data, and browsers do not dispatch an event without data
  // (WHATWG SSE): the connection's own `open` (a 200 text/event-stream) stands for it.
  source.addEventListener("open", () => {
    state.live = true; state.retryMs = 1000; state.brokenSince = null;
    hide("banner-stream"); showLive();
  });
  source.addEventListener("stream.reset", (event) => {
    const reset = JSON.parse(event.data);
    state.lastId = reset.last_event_id;  // another event log: start over from a snapshot
    state.epoch = reset.epoch;
    reloadThenFollow();
    rosterChanged({lastEventId: 0});  // a roster.changed in the new log is before its id
  });
  for (const type of ["alert.raised", "alert.acknowledged", "alert.resolved", "alert.cancelled", "alert.escalated"]) {
    source.addEventListener(type, (event) => onAlertEvent(type, event));
  }
  source.addEventListener("roster.changed", rosterChanged);
  broadcasts.listen(source);  // broadcasts.js
  source.onerror = () => { if (state.source === source) streamBroken(); };
}

function onAlertEvent(type, event) {
  state.lastId = Math.max(state.lastId, Number(event.lastEventId) || 0);
  const alert = JSON.parse(event.data);
  const known = state.alerts.has(alert.id);
  upsert(alert);
  if (type === "alert.raised" && !known) announce(alert);
  if (type === "alert.escalated" && alert.escalated_to === state.me.supervisor) announce(alert);
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
  showLive();
  // Which failure: a refused session (401) is told apart from a broken stream.
  const me = await api("GET", "/page/api/me").catch(() => null);
  if (me && me.status === 401) return;
  showStreamBroken();
  state.retryTimer = setTimeout(follow, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, 10000);
}

function showStreamBroken() {
  show("banner-stream", t("stream.broken", {time: siteTime(state.brokenSince)}));
}

function sessionRefused() {
  stopStream();
  state.live = false;
  hide("banner-stream");
  show("banner-auth", t("auth.refused"));
  showLogin();
}

async function followOneAlert(alertId) {
  // A link's session reaches one alert and not the stream: the alert is read every 3 s.
  const answer = await api("GET", "/v1/alerts/" + alertId).catch(() => null);
  if (answer && answer.ok) {
    state.alerts = new Map([[alertId, answer.data]]);
    state.live = true; hide("banner-stream"); state.brokenSince = null;
    render();
  } else if (answer && answer.status === 401) {
    return;
  } else {
    state.live = false; state.brokenSince = state.brokenSince || new Date(); showStreamBroken();
  }
  showLive();
  state.retryTimer = setTimeout(() => followOneAlert(alertId), 3000);
}

// -- answers -----------------------------------------------------------------------------

async function answer(alert, verb) {
  unlockSound();
  if ((verb === "resolve" || verb === "cancel") && state.confirming !== alert.id + verb) {
    state.confirming = alert.id + verb;  // a second tap confirms: closing is not undone
    setTimeout(() => { if (state.confirming === alert.id + verb) { state.confirming = null; render(); } }, 4000);
    return render();
  }
  state.confirming = null;
  const result = await api("POST", `/v1/alerts/${alert.id}/${verb}`, verb === "ack" ? undefined : {})
    .catch(() => null);
  if (!result) return toast(t("sent.failed"));
  if (result.ok) return upsert(result.data);
  if (result.status !== 401) toast((result.data && result.data.detail) || String(result.status));
}

function upsert(alert) {
  if (alert.state === "resolved" || alert.state === "cancelled") {
    if (!(state.me && state.me.alert)) state.alerts.delete(alert.id);
    else state.alerts.set(alert.id, alert);
  } else {
    state.alerts.set(alert.id, alert);
  }
  render();
}

// -- sound and notifications -------------------------------------------------------------

function unlockSound() {
  if (!state.audio && window.AudioContext) state.audio = new AudioContext();
  if (state.audio && state.audio.state === "suspended") state.audio.resume();
}

async function enableAlerts() {
  unlockSound();
  if (window.Notification && Notification.permission === "default") {
    try { await Notification.requestPermission(); } catch (_) { /* refused */ }
  }
  $("enable").textContent = t("enabled");
  beep();
}

function beep() {
  if (!state.audio) return;
  const now = state.audio.currentTime;
  for (let i = 0; i < 3; i++) {
    const tone = state.audio.createOscillator();
    const gain = state.audio.createGain();
    tone.frequency.value = i % 2 ? 660 : 880;
    gain.gain.setValueAtTime(0.4, now + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.25 + 0.22);
    tone.connect(gain).connect(state.audio.destination);
    tone.start(now + i * 0.25);
    tone.stop(now + i * 0.25 + 0.23);
  }
}

function announce(alert) {
  beep();
  if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  if (!window.Notification || Notification.permission !== "granted") return;
  const title = t("notify.title", {code: inLang(alert.code_label, alert.code_label_en)}) + (alert.test ? " — " + t("drill") : "");
  const options = {body: `${alert.desk_label} · ${alert.location}`, tag: alert.id,
    requireInteraction: true, data: {url: "./#alert=" + alert.id}};
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.ready.then((registration) => registration.showNotification(title, options));
  } else {
    try { new Notification(title, options); } catch (_) { /* phones need the service worker */ }
  }
}

// -- drawing -----------------------------------------------------------------------------

function render() {
  const list = $("alerts");
  if (!state.me) { list.replaceChildren(); return; }
  const alerts = [...state.alerts.values()].sort((a, b) =>
    a.priority - b.priority || Date.parse(a.received_at) - Date.parse(b.received_at));
  list.replaceChildren(...alerts.map(card));
  $("empty").hidden = alerts.length > 0;
  const focused = state.focus && list.querySelector(`[data-id="${state.focus}"]`);
  if (focused && !state.scrolled) { state.scrolled = true; focused.scrollIntoView({block: "start"}); }
}

function card(alert) {
  const node = $("card").content.firstElementChild.cloneNode(true);
  const code = state.codes.get(alert.code);
  const mine = alert.responders.some((r) => r.id === state.me.supervisor);
  const closed = alert.state === "resolved" || alert.state === "cancelled";
  node.classList.add(alert.state);
  node.classList.toggle("stale", stale());
  if (alert.id === state.focus) node.classList.add("focus");
  node.dataset.id = alert.id;
  node.querySelector(".code").textContent = inLang(alert.code_label, alert.code_label_en);
  node.querySelector(".drill").hidden = !alert.test;
  node.querySelector(".drill").textContent = t("drill");
  let stateText = t("state." + alert.state);
  if (alert.escalation_level > 0 && !closed) stateText += " · " + t("escalated", {level: alert.escalation_level});
  node.querySelector(".state").textContent = stateText;
  node.querySelector(".where").textContent = [alert.desk_label, alert.location,
    state.me.sites[alert.site]].filter(Boolean).join(" · ");
  node.querySelector(".times").replaceChildren(...times(alert));
  const protocol = code ? inLang(code.protocol, code.protocol_en) : "";
  node.querySelector(".protocol").textContent = protocol;
  node.querySelector(".protocol").hidden = !protocol;
  node.querySelector(".message").hidden = !alert.message;
  node.querySelector(".message").textContent = alert.message || "";
  const coming = node.querySelector(".coming");
  const names = alert.responders.map((r) => `${r.name} (${clock(r.at)})`).join(", ");
  coming.textContent = names ? t("coming", {names}) : t("coming.none");
  coming.classList.add(names ? "some" : "none");
  const ack = node.querySelector(".ack");
  ack.textContent = mine ? t("ack.done") : t("ack");
  ack.classList.toggle("done", mine);
  ack.disabled = mine || closed;
  ack.addEventListener("click", () => answer(alert, "ack"));
  for (const verb of ["resolve", "cancel"]) {
    const button = node.querySelector("." + verb);
    const confirming = state.confirming === alert.id + verb;
    button.textContent = confirming ? t("confirm." + verb) : t(verb);
    button.classList.toggle("confirm", confirming);
    button.disabled = closed;
    button.addEventListener("click", () => answer(alert, verb));
  }
  return node;
}

// A stale list (the stream broke) stops its timers at the break and says so: a timer that
// goes on ticking on a list nobody updates looks live.
function stale() { return !state.live && state.brokenSince !== null; }

function times(alert) {
  const pressed = Date.parse(alert.created_at || alert.received_at);
  const received = Date.parse(alert.received_at);
  const now = stale() ? state.brokenSince.getTime() : Date.now();
  const strong = document.createElement("strong");
  strong.className = "elapsed";
  const said = alert.no_answer ? "no_answer" : "pressed";  // nobody pressed: the hub raised it
  strong.textContent = t(said, {elapsed: duration(now - pressed)});
  const parts = [strong];
  if (Math.abs(received - pressed) >= 2000) {
    parts.push(document.createTextNode(" · " + t("received", {elapsed: duration(now - received)})));
  }
  if (stale()) {
    const frozen = document.createElement("span");
    frozen.className = "frozen";
    frozen.textContent = " · " + t("frozen", {time: siteTime(state.brokenSince)});
    parts.push(frozen);
  }
  return parts;
}

function duration(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h} h ${pad(m)} min` : m ? `${m} min ${pad(s)} s` : `${s} s`;
}

function clock(iso) {
  return siteTime(new Date(iso), {hour: "2-digit", minute: "2-digit"});
}

function showLive() {
  const live = $("live");
  live.textContent = state.live ? t("live.on") : t("live.wait");
  live.classList.toggle("on", state.live);
  document.body.classList.toggle("stale", stale());
  for (const node of document.querySelectorAll(".card")) node.classList.toggle("stale", stale());
  tick();
}

function show(id, text) { $(id).textContent = text; $(id).hidden = false; }
function hide(id) { $(id).hidden = true; }
let toastTimer = null;
function toast(text) {
  show("toast", text);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => hide("toast"), 5000);
}

function tick() {
  if (stale() && document.querySelector(".card .frozen")) return;  // stopped at the break
  for (const node of document.querySelectorAll(".card")) {
    const alert = state.alerts.get(node.dataset.id);
    if (alert) node.querySelector(".times").replaceChildren(...times(alert));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("enable").addEventListener("click", enableAlerts);
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "fr" ? "en" : "fr";
    localStorage.setItem("deskalert.lang", state.lang);
    translatePage();
  });
  document.addEventListener("click", unlockSound, {once: true});
  if (navigator.serviceWorker) navigator.serviceWorker.register(ROOT + "/page/sw.js").catch(() => {});
  translatePage();
  setInterval(tick, 1000);
  start();
});
