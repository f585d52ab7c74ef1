// deskalert agents' page: drawing what agent.js knows (the on-call card, the code buttons, the
// agent's own alert and its steps, colleagues' alerts), and the page's start.
"use strict";

// The roster's words in the page's language: the English where hub.toml gives it (`label_en`...).
const inLang = (french, english) => (state.lang === "en" && english ? english : french);

function drawCodes() {
  const buttons = state.me.codes.map((code) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "code-button" + (code.priority === 1 ? " urgent" : "");
    button.dataset.code = code.code;
    button.textContent = inLang(code.label, code.label_en);
    button.addEventListener("click", () => press(code.code));
    return button;
  });
  $("code-buttons").replaceChildren(...buttons);
}

function render() {
  if (!state.me) return;
  tick();
  drawOncall();
  drawColleagues();
}

// Every second: what depends on time or on the link, never the colleagues' buttons (a list
// rebuilt under a finger loses its tap).
function tick() {
  if (!state.me) return;
  const live = $("live");
  live.textContent = state.live ? t("live.on") : state.brokenSince ? t("live.lost") : t("live.wait");
  live.classList.toggle("on", state.live);
  if (state.brokenSince) showStream();
  drawOwn();
  for (const node of document.querySelectorAll(".colleague")) {
    const alert = state.colleagues.get(node.dataset.id);
    if (alert) node.querySelector(".elapsed").textContent = elapsedOf(alert);
  }
  const failing = [...state.own.values()].some((own) => own.failing && !own.alert);
  if (failing) show("banner-unsent", t("unsent.banner")); else hide("banner-unsent");
}

function drawOncall() {
  const card = state.oncall;
  const who = card && card.supervisor;
  $("oncall-name").textContent = who ? who.name : t("oncall.none");
  $("oncall-name").classList.toggle("none", !who);
  const call = $("oncall-call");
  call.hidden = !(who && who.phone);
  if (who && who.phone) {
    call.textContent = t("oncall.call", {phone: who.phone});
    call.href = "tel:" + who.phone.replace(/[^0-9+]/g, "");
  }
  const more = [];
  if (who && who.location) more.push(who.location);
  if (card && card.until) more.push(t("oncall.until", {time: clock(card.until)}));
  if (card && card.chain.length) more.push(t("oncall.next", {names: card.chain.map((p) => p.name).join(", ")}));
  $("oncall-more").textContent = more.join(" · ");
}

function currentOwn() {
  const own = state.own.get(state.current);
  if (!own) return null;
  const over = own.withdrawn || own.error || (own.alert && own.alert.state.match(/resolved|cancelled/));
  if (over && Date.now() - (own.closedAt || own.queuedAt) > CLOSED_VISIBLE_MS) return null;
  return own;
}

function stepOf(own) {
  if (own.error) return t("step.refused", {reason: own.error});
  if (own.withdrawn) return t("step.cancelled");
  const alert = own.alert;
  if (!alert) return own.failing ? t("step.unsent") : t("step.queued");
  if (alert.state === "cancelled") return t("step.cancelled");
  if (alert.state === "resolved") return t("step.resolved");
  if (alert.responders.length) return t("step.acknowledged");
  if (alert.escalation_level > 0) return t("step.escalated", {who: personName(alert.escalated_to)});
  return t("step.transmitted");
}

function personName(id) {
  if (id === "everyone") return t("everyone");
  const card = state.oncall;
  const people = card ? [card.supervisor, ...card.chain].filter(Boolean) : [];
  const found = people.find((p) => p.id === id);
  return found ? found.name : id;
}

function comingOf(own) {
  const alert = own.alert;
  if (!alert || alert.state.match(/resolved|cancelled/)) return "";
  const names = alert.responders.map((r) => `${r.name} (${clock(r.at)})`).join(", ");
  return names ? t("coming", {names}) : t("coming.none");
}

function drawOwn() {
  const own = currentOwn();
  const code = own && state.me.codes.find((c) => c.code === own.code);
  const discreet = own && ((own.alert && own.alert.discreet) || (code && code.discreet));
  $("own").hidden = !own || discreet;
  $("own-discreet").hidden = !own || !discreet;
  drawCancel(own, discreet);
  if (!own) return;
  const step = stepOf(own);
  const coming = comingOf(own);
  if (discreet) {  // as on the desk: a small sign only, the person in front may see the screen
    $("own-discreet").textContent = (own.alert && own.alert.responders.length ? "✓ " : "· ") + step.toLowerCase()
      + (coming && own.alert.responders.length ? " · " + own.alert.responders.map((r) => r.name).join(", ") : "");
    $("own-discreet").classList.toggle("failing", own.failing && !own.alert);
  } else {
    const panel = $("own");
    panel.className = "own " + ownClass(own);
    $("own-code").textContent = (own.alert && inLang(own.alert.code_label, own.alert.code_label_en))
      || (code && inLang(code.label, code.label_en)) || own.code;
    $("own-step").textContent = step;
    $("own-coming").textContent = coming;
  }
}

function ownClass(own) {
  if (own.error) return "refused";
  if (own.withdrawn || (own.alert && own.alert.state.match(/resolved|cancelled/))) return "over";
  if (!own.alert) return own.failing ? "failing" : "queued";
  return own.alert.responders.length ? "coming" : "sent";
}

function cancelLeft(own) {
  if (own.cancel || own.error || own.withdrawn) return 0;
  if (own.alert && own.alert.state !== "open" && own.alert.state !== "acknowledged") return 0;
  const since = own.storedAt === null ? 0 : Date.now() - own.storedAt;
  return Math.ceil((state.me.cancel_window_s * 1000 - since) / 1000);
}

function drawCancel(own, discreet) {
  const button = $("own-cancel");
  const left = own ? cancelLeft(own) : 0;
  button.hidden = left <= 0;
  button.textContent = own && !own.alert ? t("cancel.unsent") : t("cancel", {seconds: left});
  button.classList.toggle("quiet", Boolean(discreet));  // discreet: as small as its sign
}

function drawColleagues() {
  const alerts = [...state.colleagues.values()].sort((a, b) =>
    a.priority - b.priority || Date.parse(a.received_at) - Date.parse(b.received_at));
  $("colleagues").hidden = alerts.length === 0;
  $("colleague-list").replaceChildren(...alerts.map(colleagueCard));
}

function colleagueCard(alert) {
  const node = $("colleague").content.firstElementChild.cloneNode(true);
  const code = state.me.codes.find((c) => c.code === alert.code);
  const mine = alert.responders.some((r) => r.id === state.me.desk);
  node.dataset.id = alert.id;
  node.classList.add(alert.state);
  node.querySelector(".code").textContent = inLang(alert.code_label, alert.code_label_en) + (alert.test ? " · " + t("drill") : "");
  node.querySelector(".elapsed").textContent = elapsedOf(alert);
  node.querySelector(".where").textContent = [alert.desk_label, alert.location].filter(Boolean).join(" · ");
  const protocol = code ? inLang(code.protocol, code.protocol_en) : "";
  node.querySelector(".protocol").textContent = protocol;
  node.querySelector(".protocol").hidden = !protocol;
  const names = alert.responders.map((r) => r.name).join(", ");
  node.querySelector(".coming").textContent = names ? t("coming", {names}) : t("coming.none");
  const ack = node.querySelector(".ack");
  ack.textContent = mine ? t("ack.done") : t("ack");
  ack.disabled = mine;
  ack.classList.toggle("done", mine);
  ack.addEventListener("click", () => answerColleague(alert));
  return node;
}

function elapsedOf(alert) {
  return t("elapsed", {elapsed: duration(hubNow() - Date.parse(alert.received_at))});
}

function duration(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m ? `${m} min ${String(s).padStart(2, "0")} s` : `${s} s`;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString(state.lang, {hour: "2-digit", minute: "2-digit"});
}

function show(id, text) { $(id).textContent = text; $(id).hidden = false; }
function hide(id) { $(id).hidden = true; }
let toastTimer = null;
function toast(text) {
  show("toast", text);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => hide("toast"), 4000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("enrol-form").addEventListener("submit", (event) => {
    event.preventDefault();
    enrol($("code").value.trim());
  });
  $("logout").addEventListener("click", logOut);
  $("own-cancel").addEventListener("click", withdraw);
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "fr" ? "en" : "fr";
    localStorage.setItem("deskalert.lang", state.lang);
    translatePage();
  });
  if (navigator.serviceWorker) navigator.serviceWorker.register(ROOT + "/page/agent/sw.js").catch(() => {});
  translatePage();
  setInterval(() => { tick(); timer.render(); }, 1000);
  start();
});
