// deskalert agents' page: the messages supervisors send to every desk of the site (broadcasts,
// hub/broadcasts.py), shown at the top of the page with their protocol, and "Lu" in one tap
// (POST /v1/broadcasts/{id}/read), as on the desk: the phone is one of the site's desks, and the
// sender sees it read or named among the unread.
"use strict";

const notices = {
  current: new Map(),

  async load() {
    const answer = await api("GET", "/v1/broadcasts");
    if (answer.ok) this.current = new Map(answer.data.map((b) => [b.id, b]));
    this.render();
  },

  listen(source, take) {
    for (const type of ["broadcast.sent", "broadcast.read", "broadcast.unread", "broadcast.ended"]) {
      source.addEventListener(type, take((broadcast) => this.take(type, broadcast)));
    }
  },

  take(type, broadcast) {
    if (!state.me || !broadcast.desks.some((d) => d.id === state.me.desk)) return;
    const known = this.current.get(broadcast.id);
    if (broadcast.state !== "current") {
      if (known) toast(t("notice.ended", {label: this.words(broadcast).label}));
      this.current.delete(broadcast.id);
    } else if (!known || known.updated_at <= broadcast.updated_at) {
      this.current.set(broadcast.id, broadcast);
      if (!known && navigator.vibrate) navigator.vibrate([200, 100, 200, 100, 200]);
    }
    this.render();
  },

  async read(broadcast) {
    const answer = await api("POST", `/v1/broadcasts/${broadcast.id}/read`).catch(() => null);
    if (answer && answer.ok) return this.take("broadcast.read", answer.data);
    if (!answer || answer.status !== 401) toast(t("notice.failed"));
  },

  words(broadcast) {
    const english = state.lang === "en";
    const pick = (french, other) => (english && other ? other : french);
    return {label: pick(broadcast.label, broadcast.label_en), text: pick(broadcast.text, broadcast.text_en),
      protocol: pick(broadcast.protocol, broadcast.protocol_en)};
  },

  render() {
    if (!state.me) return;
    const list = [...this.current.values()].sort((a, b) => Date.parse(b.sent_at) - Date.parse(a.sent_at));
    $("notices").hidden = list.length === 0;
    $("notice-list").replaceChildren(...list.map((broadcast) => this.card(broadcast)));
  },

  card(broadcast) {
    const node = $("notice").content.firstElementChild.cloneNode(true);
    const words = this.words(broadcast);
    const read = broadcast.reads.find((r) => r.desk === state.me.desk);
    node.dataset.id = broadcast.id;
    node.classList.add("look-" + broadcast.look);
    node.querySelector(".label").textContent = words.label;
    node.querySelector(".text").textContent = words.text;
    node.querySelector(".protocol").textContent = words.protocol;
    node.querySelector(".protocol").hidden = !words.protocol;
    node.querySelector(".from").textContent = t("notice.from", {name: broadcast.sender_name, time: clock(broadcast.sent_at)});
    const button = node.querySelector(".read");
    button.textContent = read ? t("notice.read.done", {time: clock(read.at)}) : t("notice.read");
    button.disabled = Boolean(read);
    button.addEventListener("click", () => this.read(broadcast));
    return node;
  },
};
