"""How the desk's state reads on screen: pure functions from `DeskState` to Rich text.

Every word comes from the catalogue (`deskalert.i18n`); names and free text from the hub are
appended as plain text, never parsed as markup.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from deskalert.i18n import Language, t
from deskalert.labels import label
from deskalert.models import Alert, AlertCode, Person
from deskalert.tui.state import DeskState, OwnAlert, Step


def clock_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S") if moment.tzinfo else moment.strftime("%H:%M:%S")


def key_label(keys: str) -> str:
    """'f2,ctrl+r' -> 'F2 · ctrl+r'."""
    return " · ".join(k.upper() if k.startswith("f") and k[1:].isdigit() else k
                      for k in keys.split(","))


def desk_name(state: DeskState) -> Text:
    if state.desk is None:
        return Text(state.desk_id, style="bold")
    text = Text(state.desk.label, style="bold")
    if state.desk.location:
        text.append(f" · {state.desk.location}", style="dim")
    return text


def link(state: DeskState, lang: Language) -> Text:
    if state.link_up is None:
        return Text(f"○ {t('link.connecting')}", style="dim")
    if state.link_up:
        return Text(f"● {t('link.ok')}", style="green")
    since = clock_time(state.link_since) if state.link_since else "?"
    return Text(f"● {t('link.lost', time=since)}", style="bold red")


def link_advice(state: DeskState, lang: Language) -> Text:
    person = state.call_target()
    if person is None or not person.phone:
        return Text(t("link.lost_nocall"))
    return Text(t("link.lost_call", name=person.name, phone=person.phone))


def reason(error: str, lang: Language) -> str:
    """A failure in the agent's words; the hub's own refusals are shown as the hub worded them."""
    if "unreachable" in error:
        return t("reason.unreachable")
    if "silent" in error:
        return t("reason.silent")
    if "store_unavailable" in error or "cannot write" in error:
        return t("reason.store")
    return error


def step_text(own: OwnAlert, state: DeskState, lang: Language) -> str:
    step = own.step
    if step is Step.ACKNOWLEDGED:
        assert own.alert is not None
        return t("step.acknowledged", names=", ".join(r.name for r in own.alert.responders))
    if step is Step.REFUSED:
        return t("step.refused", reason=own.error or "?")
    if step is Step.TRANSMITTED and own.alert is not None and own.alert.escalation_level > 0:
        who = own.alert.escalated_to or ""
        person = state.person(who)
        name = person.name if person else (t("everyone") if who == "everyone" else who)
        return t("step.escalated", who=name)
    return label("step", step.value)


def corner(own: OwnAlert | None, state: DeskState, lang: Language) -> Text:
    """The small sign in the corner: enough for the agent, nothing for the person in front."""
    if own is None:
        return Text("")
    marks = {Step.QUEUED: "…", Step.TRANSMITTED: "·", Step.ACKNOWLEDGED: "✓",
             Step.RESOLVED: "○", Step.CANCELLED: "○", Step.REFUSED: "!"}
    drill = f"{t('drill.word')} " if own.test else ""
    return Text(f"{marks[own.step]} {drill}{step_text(own, state, lang)}", style="dim")


def oncall_card(state: DeskState, lang: Language, live: bool) -> Text:
    card = state.oncall
    if card is None:
        return Text(t("oncall.unknown"), style="italic")
    text = Text()
    if card.supervisor is None:
        text.append(t("oncall.none"), style="bold")
    else:
        _person(text, card.supervisor, main=True)
        if card.until is not None:
            until = card.until.astimezone().strftime("%H:%M")
            text.append(f"  ({t('oncall.until', time=until)})")
    if card.chain:
        names = ", ".join(f"{p.name} ({p.phone})" if p.phone else p.name for p in card.chain)
        text.append("\n" + t("oncall.next", names=names), style="dim")
    if not live and state.oncall_saved_at is not None:
        saved = state.oncall_saved_at.astimezone().strftime("%d/%m %H:%M")
        text.append(f"\n{t('oncall.stale', time=saved)}", style="italic yellow")
    return text


def _person(text: Text, person: Person, *, main: bool) -> None:
    text.append(person.name, style="bold" if main else "")
    if person.phone:
        text.append(f"   ☎ {person.phone}", style="bold")
    if person.location:
        text.append(f"\n{person.location}")


def status_panel(own: OwnAlert, code: AlertCode | None, state: DeskState, lang: Language) -> Text:
    label = code.label if code else own.code
    text = Text(t("status.title", label=label), style="bold")
    if own.test:
        text.append(f"  [{t('drill.word')}]", style="bold magenta")
    text.append(f"\n{step_text(own, state, lang)}", style="bold green"
                if own.step is Step.ACKNOWLEDGED else "")
    if code and code.protocol:
        text.append(f"\n{code.protocol}", style="dim")
    return text


def warning(unsent: list[OwnAlert], state: DeskState, lang: Language) -> Text:
    refused = any(o.step is Step.REFUSED for o in unsent)
    title = t("warning.refused_title" if refused else "warning.title")
    text = Text(f"⚠  {title}  ⚠", style="bold")
    for own in unsent:
        code = state.code(own.code)
        label = code.label if code else own.code
        if own.test:
            label = f"{label} [{t('drill.word')}]"
        if own.step is Step.REFUSED:
            text.append("\n" + t("warning.refused", label=label, reason=own.error or "?"))
        else:
            why = reason(own.error or state.link_reason or "unreachable", lang)
            text.append("\n" + t("warning.retrying", label=label, reason=why))
    person = state.call_target()
    call = (t("warning.call", name=person.name, phone=person.phone)
            if person and person.phone else t("warning.call_anyone"))
    text.append(f"\n{call}", style="bold")
    return text


def colleagues(state: DeskState, lang: Language, now: datetime, respond_key: str) -> Text:
    text = Text()
    for index, alert in enumerate(state.colleague_alerts()):
        if index:
            text.append("\n\n")
        _colleague(text, alert, state, lang, now, respond_key)
    return text


def _colleague(text: Text, alert: Alert, state: DeskState, lang: Language, now: datetime,
               respond_key: str) -> None:
    code = state.code(alert.code)
    text.append(t("colleague.title", desk=alert.desk_label, label=alert.code_label),
                style="bold")
    if alert.test:
        text.append(f"  [{t('drill.word')}]", style="bold magenta")
    minutes = int((now - alert.received_at).total_seconds() // 60)
    since = (t("colleague.since_now") if minutes < 1
             else t("colleague.since_min", minutes=minutes))
    text.append(f"  {since}", style="dim")
    if alert.location:
        text.append(f"\n{alert.location}")
    if code and code.protocol:
        text.append(f"\n{code.protocol}", style="italic")
    names = ", ".join(r.name for r in alert.responders)
    text.append("\n" + (t("colleague.responders", names=names) if names
                        else t("colleague.nobody")))
    if alert.id in state.answered:
        text.append(f"  · {t('colleague.answered')}", style="green")
    elif alert.id == getattr(state.next_to_answer(), "id", None):
        text.append(f"  · {t('colleague.answer', key=key_label(respond_key))}", style="bold")


def repertoire(codes: list[tuple[AlertCode, str]], lang: Language, known: bool) -> Text:
    text = Text()
    for index, (code, keys) in enumerate(codes):
        if index:
            text.append("\n")
        text.append(f"{key_label(keys):<14}", style="bold")
        text.append(code.label)
        if code.discreet:
            text.append(f"  ({t('codes.discreet')})", style="dim")
    if not known:
        text.append(f"\n{t('codes.stale')}", style="italic yellow")
    return text
