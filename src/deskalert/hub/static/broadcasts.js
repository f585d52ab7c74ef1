// deskalert page: messages to every desk of some sites (broadcasts). Loaded after app.js, whose
// state, api(), t-like helpers and stream it uses: app.js calls broadcasts.load() with each
// snapshot, broadcasts.listen(source) on each stream, broadcasts.rosterChanged() on a reload. Text from the hub goes in with
// textContent only.
"use strict";

const BROADCAST_WORDS = {
  fr: {
    "title": "Messages aux postes",
    "new": "Envoyer un message aux postes",
    "template": "Modèle",
    "other": "Autre texte…",
    "text": "Texte",
    "kind": "Type",
    "sites": "Sites",
    "send": "Envoyer",
    "end": "Terminer",
    "confirm.end": "Confirmer : terminer",
    "reads": "Lu {count}/{total} : {names}",
    "unread": "Pas encore lu : {names}",
    "unread.named": "PAS LU après {seconds} s : {names}",
    "offline": "{name} (hors ligne)",
    "ended": "Message terminé par {name} : {text}",
    "sent": "Message envoyé à {count} poste(s)",
    "failed": "Non envoyé : {reason}",
    "no.sites": "Choisissez au moins un site",
  },
  en: {
    "title": "Messages to desks",
    "new": "Send a message to the desks",
    "template": "Template",
    "other": "Other text…",
    "text": "Text",
    "kind": "Kind",
    "sites": "Sites",
    "send": "Send",
    "end": "End",
    "confirm.end": "Confirm: end",
    "reads": "Read {count}/{total}: {names}",
    "unread": "Not read yet: {names}",
    "unread.named": "NOT READ after {seconds} s: {names}",
    "offline": "{name} (offline)",
    "ended": "Message ended by {name}: {text}",
    "sent": "Message sent to {count} desk(s)",
    "failed": "Not sent: {reason}",
    "no.sites": "Choose at least one site",
  },
};
const BROADCAST_TYPES = ["broadcast.sent", "broadcast.read", "broadcast.unread", "broadcast.ended"];
// A desk that has not read a message and is offline is said so: it gets the message when back.
const PRESENCE_TYPES = ["desk.online", "desk.offline"];

const broadcasts = {
  current: new Map(), catalog: null, confirming: null,
  loading: [], // the events that came during each load under way
  offline: new Set(), // desk ids, from /v1/desks and the desk.online|offline events

  w(key, values = {}) {
    const text = (BROADCAST_WORDS[state.lang] || BROADCAST_WORDS.fr)[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  },

  english() { return state.lang === "en"; },

  // The list read replaces what was kept, then the events that came while it was read are
  // applied again: the list may be older than they are (sent, read or ended meanwhile).
  async load() {
    const arrived = [];
    this.loading.push(arrived);
    let current, catalog;
    try {
      let desks;
      [current, catalog, desks] = await Promise.all([
        api("GET", "/v1/broadcasts"), this.catalog ? null : api("GET", "/v1/broadcasts/catalog"),
        api("GET", "/v1/desks")]);
      if (desks.ok) this.offline = new Set(desks.data.filter((d) => !d.online).map((d) => d.id));
    } finally {
      this.loading.splice(this.loading.indexOf(arrived), 1);
    }
    if (current.ok) {
      this.current = new Map(current.data.map((b) => [b.id, b]));
      for (const broadcast of arrived) this.keep(broadcast);
    }
    if (catalog && catalog.ok) this.catalog = catalog.data;
    this.render();
  },

  rosterChanged() {  // app.js, after a reload of the roster: its kinds and templates again
    this.catalog = null;
    $("broadcast-form").dataset.lang = "";
    return this.load();
  },

  listen(source) {
    for (const type of PRESENCE_TYPES) {
      source.addEventListener(type, (event) => {
        state.lastId = Math.max(state.lastId, Number(event.lastEventId) || 0);
        const desk = JSON.parse(event.data);
        if (desk.online) this.offline.delete(desk.id); else this.offline.add(desk.id);
        this.render();
      });
    }
    for (const type of BROADCAST_TYPES) {
      source.addEventListener(type, (event) => {
        state.lastId = Math.max(state.lastId, Number(event.lastEventId) || 0);
        this.take(JSON.parse(event.data));
      });
    }
  },

  // A message that ends leaves the list: a line says so and by whom (it was not lost).
  take(broadcast) {
    for (const arrived of this.loading) arrived.push(broadcast);
    const shown = this.current.has(broadcast.id);
    this.keep(broadcast);
    if (shown && !this.current.has(broadcast.id)) {
      const text = this.english() && broadcast.text_en ? broadcast.text_en : broadcast.text;
      toast(this.w("ended", {name: broadcast.ended_by_name || broadcast.ended_by || "-", text}));
    }
    this.render();
  },

  keep(broadcast) {
    const before = this.current.get(broadcast.id);
    if (broadcast.state !== "current") this.current.delete(broadcast.id);
    else if (!before || Date.parse(broadcast.updated_at) >= Date.parse(before.updated_at)) {
      this.current.set(broadcast.id, broadcast);
    }
  },

  render() {
    const list = $("broadcast-list");
    if (!list || !state.me) return;
    $("broadcasts-title").textContent = this.w("title");
    const current = [...this.current.values()].sort((a, b) => Date.parse(a.sent_at) - Date.parse(b.sent_at));
    list.replaceChildren(...current.map((b) => this.card(b)));
    $("broadcasts").hidden = state.me.alert != null;
    this.renderForm();
  },

  card(broadcast) {
    const node = document.createElement("li");
    node.className = "broadcast look-" + broadcast.look;
    node.dataset.id = broadcast.id;
    const label = this.english() && broadcast.label_en ? broadcast.label_en : broadcast.label;
    const text = this.english() && broadcast.text_en ? broadcast.text_en : broadcast.text;
    const head = document.createElement("div");
    head.className = "head";
    head.textContent = `${label} · ${clock(broadcast.sent_at)}`;
    const body = document.createElement("p");
    body.className = "text";
    body.textContent = text;
    const labels = new Map(broadcast.desks.map((d) => [d.id, d.label]));
    const reads = document.createElement("div");
    reads.className = "reads";
    reads.textContent = this.w("reads", {count: broadcast.reads.length, total: broadcast.desks.length,
      names: broadcast.reads.map((r) => `${labels.get(r.desk) || r.desk} ${clock(r.at)}`).join(", ") || "-"});
    const read = new Set(broadcast.reads.map((r) => r.desk));
    const unreadNames = broadcast.desks.filter((d) => !read.has(d.id))
      .map((d) => this.offline.has(d.id) ? this.w("offline", {name: d.label}) : d.label).join(", ");
    const unread = document.createElement("div");
    unread.className = "unread" + (broadcast.unread_named_at ? " named" : "");
    unread.textContent = broadcast.unread_named_at
      ? this.w("unread.named", {seconds: broadcast.unread_after_s, names: unreadNames})
      : this.w("unread", {names: unreadNames});
    unread.hidden = !unreadNames;
    const end = document.createElement("button");
    end.type = "button";
    end.className = "end";
    const confirming = this.confirming === broadcast.id;
    end.textContent = confirming ? this.w("confirm.end") : this.w("end");
    end.classList.toggle("confirm", confirming);
    end.addEventListener("click", () => this.end(broadcast));
    node.append(head, body, reads, unread, end);
    return node;
  },

  async end(broadcast) {
    if (this.confirming !== broadcast.id) { this.confirming = broadcast.id; this.render(); return; }
    this.confirming = null;
    const answer = await api("POST", `/v1/broadcasts/${broadcast.id}/end`).catch(() => null);
    if (!answer || !answer.ok) toast(this.w("failed", {reason: answer && answer.data ? answer.data.detail : "-"}));
    else this.take(answer.data);
  },

  renderForm() {
    const form = $("broadcast-form");
    if (!this.catalog || form.dataset.lang === state.lang) return;
    form.dataset.lang = state.lang;
    $("broadcast-new").textContent = this.w("new");
    for (const key of ["template", "text", "kind", "sites"]) $(`broadcast-${key}-label`).textContent = this.w(key);
    $("broadcast-send").textContent = this.w("send");
    const templates = this.catalog.templates.map((tpl) =>
      new Option(this.english() && tpl.text_en ? tpl.text_en : tpl.text, tpl.id));
    $("broadcast-template").replaceChildren(...templates, new Option(this.w("other"), ""));
    $("broadcast-kind").replaceChildren(...this.catalog.kinds.map((k) =>
      new Option(this.english() && k.label_en ? k.label_en : k.label, k.id)));
    $("broadcast-site-list").replaceChildren(...Object.entries(state.me.sites).map(([id, label]) => {
      const box = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox"; input.value = id; input.checked = true;
      box.append(input, " " + label);
      return box;
    }));
    this.templateChanged();
  },

  // The select cuts a template's text at the phone's width: what desks will get, kind and
  // whole text, is written under it before it is sent.
  templateChanged() {
    const other = $("broadcast-template").value === "";
    $("broadcast-custom").hidden = !other;
    const preview = $("broadcast-preview");
    const template = this.catalog.templates.find((tpl) => tpl.id === $("broadcast-template").value);
    const kind = template && this.catalog.kinds.find((k) => k.id === template.kind);
    preview.hidden = !kind;
    if (!kind) return;
    const label = this.english() && kind.label_en ? kind.label_en : kind.label;
    const text = this.english() && template.text_en ? template.text_en : template.text;
    preview.textContent = `${label} · ${text}`;
    preview.className = "broadcast-preview look-" + kind.look;
  },

  async send(event) {
    event.preventDefault();
    const sites = [...document.querySelectorAll("#broadcast-site-list input:checked")].map((i) => i.value);
    if (!sites.length) { toast(this.w("no.sites")); return; }
    const template = $("broadcast-template").value;
    const body = {id: crypto.randomUUID(), sites};
    if (template) body.template = template;
    else { body.kind = $("broadcast-kind").value; body.text = $("broadcast-text").value; }
    const answer = await api("POST", "/v1/broadcasts", body).catch(() => null);
    if (!answer || !answer.ok) {
      toast(this.w("failed", {reason: answer && answer.data ? answer.data.detail : "-"}));
      return;
    }
    toast(this.w("sent", {count: answer.data.desks.length}));
    $("broadcast-text").value = "";
    $("broadcast-details").open = false;
    this.take(answer.data);
  },
};

document.addEventListener("DOMContentLoaded", () => {
  $("broadcast-template").addEventListener("change", () => broadcasts.templateChanged());
  $("broadcast-form").addEventListener("submit", (event) => broadcasts.send(event));
  $("lang").addEventListener("click", () => { $("broadcast-form").dataset.lang = ""; broadcasts.render(); });
});
