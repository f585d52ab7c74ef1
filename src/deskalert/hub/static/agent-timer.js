// deskalert agents' page: the interview timer from the phone (/v1/sessions, hub/interview.py).
// Started before a home visit or an interview; at its end the hub asks "Tout va bien ?" (a
// check) and raises the alert itself if nobody answers, even if this phone is off. A
// supervisor's "Tout va bien ?" is answered here too ("Oui", or "Venez": the discreet alert).
//
// The duress answer: holding "Oui" (or "Oui, encore 15 min") for 2 s answers "duress" instead
// of "ok". Nothing on the screen differs, before or after ("Merci" either way): whoever watches
// the agent's phone sees a "oui"; the hub raises its discreet alert (`duress_code`).
"use strict";

const HOLD_FOR_DURESS_MS = 2000;
const THANKS_MS = 3000;

const timer = {
  session: null, check: null, thanksUntil: 0, held: false, holdTimer: null, answering: false,

  mine(item) { return state.me && item.desk === state.me.desk; },

  async load() {
    const [sessions, checks] = await Promise.all([api("GET", "/v1/sessions"), api("GET", "/v1/checks")]);
    if (sessions.ok) this.session = sessions.data.find((s) => this.mine(s) && s.state !== "closed") || null;
    if (checks.ok) this.check = checks.data.find((c) => this.mine(c) && c.state === "pending") || this.check;
    this.render();
  },

  listen(source, take) {
    for (const type of ["session.started", "session.extended", "session.closed"]) {
      source.addEventListener(type, take((session) => {
        if (!this.mine(session)) return;
        sawHubTime(session.updated_at);
        this.session = session.state === "closed" ? null : session;
        this.render();
      }));
    }
    source.addEventListener("check.asked", take((check) => {
      if (!this.mine(check)) return;
      sawHubTime(check.updated_at);
      this.check = check;
      if (navigator.vibrate) navigator.vibrate([400, 200, 400]);
      this.render();
    }));
    for (const type of ["check.answered", "check.unanswered", "check.withdrawn"]) {
      source.addEventListener(type, take((check) => {
        if (this.check && this.check.id === check.id) { this.check = null; this.render(); }
      }));
    }
  },

  async start(event) {
    event.preventDefault();
    const minutes = Number((document.querySelector("input[name=minutes]:checked") || {}).value || 30);
    const room = $("interview-room").value.trim();
    const answer = await api("POST", "/v1/sessions", {room, minutes}).catch(() => null);
    if (answer && answer.ok) { this.session = answer.data; return this.render(); }
    toast(t("interview.failed", {reason: reason(answer)}));
  },

  async act(verb, body) {
    if (!this.session) return;
    const answer = await api("POST", `/v1/sessions/${this.session.id}/${verb}`, body).catch(() => null);
    if (answer && answer.ok) {
      this.session = answer.data.state === "closed" ? null : answer.data;
      return this.render();
    }
    toast(t("interview.action_failed", {reason: reason(answer)}));
  },

  // -- "Tout va bien ?" ------------------------------------------------------------------

  pressed() {
    this.held = false;
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => { this.held = true; }, HOLD_FOR_DURESS_MS);
  },

  // `how`: "ok", "more" (ok, 15 min more) or "venez" (a supervisor's check: come).
  released(how) {
    clearTimeout(this.holdTimer);
    const duress = this.held && how !== "venez";
    this.held = false;
    if (!this.check || this.answering) return;
    const body = duress ? {answer: "duress"} : how === "venez" ? {answer: "venez"}
      : {answer: "ok", ...(how === "more" ? {extend_min: 15} : {})};
    this.thanksUntil = Date.now() + THANKS_MS;  // the same "Merci" for both: nothing tells them apart
    this.send(this.check, body);
    this.render();
  },

  async send(check, body) {
    this.answering = true;
    try {
      for (let attempt = 0; ; attempt++) {
        const answer = await api("POST", `/v1/checks/${check.id}/answer`, body).catch(() => null);
        if (answer && (answer.ok || answer.status === 409 || answer.status === 401)) break;
        if (answer && answer.status >= 400 && answer.status < 500 && answer.status !== 429) break;
        if (Date.parse(check.deadline) + 60000 < hubNow() && attempt > 3) break;
        toast(t("check.unsent"));
        await new Promise((done) => setTimeout(done, 1000));
      }
    } finally {
      this.answering = false;
      if (this.check && this.check.id === check.id) this.check = null;
      this.render();
    }
  },

  // -- drawing ---------------------------------------------------------------------------

  render() {
    if (!state.me) return;
    const session = this.session;
    $("interview-running").hidden = !session;
    $("interview-form").hidden = Boolean(session);
    if (session) {
      const room = session.room || t("interview.noroom");
      $("interview-line").textContent = session.state === "checking"
        ? t("interview.checking", {room})
        : t("interview.line", {room, due: clock(session.due_at),
          left: duration(Date.parse(session.due_at) - hubNow())});
    }
    const thanks = Date.now() < this.thanksUntil;
    const asking = Boolean(this.check) && !this.answering && !thanks;
    $("check").hidden = !asking && !thanks;
    $("check-thanks").hidden = !thanks;
    for (const id of ["check-question", "check-left", "check-ok"]) $(id).hidden = !asking;
    $("check-more").hidden = !asking || this.check.kind !== "session";
    $("check-venez").hidden = !asking || this.check.kind !== "supervisor";
    if (asking) {
      const left = Math.max(0, Math.ceil((Date.parse(this.check.deadline) - hubNow()) / 1000));
      $("check-left").textContent = t("check.left", {seconds: left});
    }
  },
};

function reason(answer) {
  if (!answer) return t("enrol.failed");
  return (answer.data && answer.data.detail) || String(answer.status);
}

document.addEventListener("DOMContentLoaded", () => {
  $("interview-form").addEventListener("submit", (event) => timer.start(event));
  $("interview-extend").addEventListener("click", () => timer.act("extend", {minutes: 15}));
  $("interview-close").addEventListener("click", () => timer.act("close", {}));
  for (const [id, how] of [["check-ok", "ok"], ["check-more", "more"], ["check-venez", "venez"]]) {
    const button = $(id);
    button.addEventListener("pointerdown", () => timer.pressed());
    button.addEventListener("pointerup", () => timer.released(how));
    button.addEventListener("pointercancel", () => clearTimeout(timer.holdTimer));
    button.addEventListener("click", (event) => { if (event.detail === 0) timer.released(how); });
  }
  $("check").addEventListener("contextmenu", (event) => event.preventDefault());  // a long press
});
