"""Notifications to the supervisors' phones and mailboxes, through Apprise, from a durable outbox.

Who: the escalation chain. When an alert is raised, the on-call supervisor's channels and the
site's team rooms (`notify` of `[[sites]]`); at each escalation, the next person of the chain;
at the last level, every supervisor not yet told. Until someone answers "j'arrive", every
supervisor told so far is told again every `renotify_s`; once someone answers, what is still
queued is dropped and whoever was told gets "pris en charge par X", then "terminée".

How: the rows are written by the store's event hook (`Planner.on_event`), in the transaction of the
event that causes them, so an alert is never stored without its notifications nor the reverse.
The worker (hub/notify_outbox.py) claims due rows (marked 'sending' under a fresh attempt id,
committed), sends each with Apprise in a thread of its own pool (never on the event loop), and
records the outcome and its `notify.sent` / `notify.failed` / `notify.gave_up` event in one
commit. Failures are retried with
backoff, MAX_ATTEMPTS times in all.

What is guaranteed: at least once, not exactly once. A hub killed between a channel accepting a
message and the commit of 'sent' finds the row 'sending' at its next start: it records a
`notify.failed` ("interrupted") and sends it again, so that message may arrive twice. Nothing
else is sent twice: a row is sent only by the attempt that claimed it.

Secrets: a `notify` entry is an Apprise URL, or `env:NAME` / `file:/path` naming where to read
one; the hub reads it at each send (a rotated secret needs no restart), stores only a key of the
entry, and shows a channel as scheme and host only (`mask`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

from deskalert.hub.links import SENDER_ADDRESS, answer_url
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import Connection, Notification, Store
from deskalert.i18n import N_, Language, catalogue_ids, translations
from deskalert.models import Alert, AlertState, Event, EventType

log = logging.getLogger("deskalert.hub")
EVERYONE = "everyone"
SITE_PREFIX = "site:"
SEND_TIMEOUT_S = 30.0  # Apprise's deadline for one send

# Apprise logs each send; its own lines mask secrets, but the hub records the reason of a
# failure itself (scrubbed), so Apprise's logger does not reach the hub's log.
logging.getLogger("apprise").propagate = False


class ChannelError(Exception):
    """A channel that cannot be used: its secret is missing, or Apprise does not know its URL."""


# -- channels ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """One `notify` entry of a supervisor or a site, as written in hub.toml."""

    owner: str  # supervisor id, or "site:<id>"
    entry: str  # an Apprise URL, env:NAME or file:/path

    @property
    def key(self) -> str:
        """What the outbox stores instead of the entry (which may hold a token)."""
        return hashlib.sha256(f"{self.owner}\n{self.entry}".encode()).hexdigest()[:16]

    def url(self) -> str:
        return resolve(self.entry)

    def service(self) -> str:
        """Where its messages go, scheme and host (one SMTP relay, one SMS gateway): what the
        outbox's caps count (hub/notify_queue.py)."""
        try:
            return mask(self.url())
        except ChannelError:
            return self.entry.split(":", 1)[0] + ":"

    def shown(self) -> str:
        """The channel as logs, events and --check show it: never a secret."""
        if self.entry.startswith(("env:", "file:")):
            try:
                return f"{mask(self.url())} ({self.entry})"
            except ChannelError:
                return self.entry
        return mask(self.entry)


def all_channels(config: HubConfig) -> dict[str, Channel]:
    """Every channel of the roster, by key."""
    channels = [Channel(s.id, entry) for s in config.supervisors for entry in s.notify]
    channels += [Channel(SITE_PREFIX + s.id, entry) for s in config.sites for entry in s.notify]
    return {c.key: c for c in channels}


def channels_of(config: HubConfig, owner: str) -> list[Channel]:
    return [c for c in all_channels(config).values() if c.owner == owner]


def resolve(entry: str) -> str:
    """The Apprise URL of an entry: itself, or read from the environment or a file."""
    if entry.startswith("env:"):
        value = os.environ.get(entry[4:], "").strip()
        if not value:
            raise ChannelError(f"{entry}: the environment variable is not set")
        return value
    if entry.startswith("file:"):
        try:
            value = Path(entry[5:]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ChannelError(f"{entry}: cannot read it ({exc.strerror})") from None
        if not value:
            raise ChannelError(f"{entry}: the file is empty")
        return value
    return entry


HOST_SHOWN = re.compile(r"^(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+|\[[0-9A-Fa-f:.]+\])$")


def mask(url: str) -> str:
    """Scheme and host only; a "host" that is not a host name (Telegram's bot token, Pushover's
    user key) is hidden too."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    host = re.sub(r":\d+$", "", host)
    return f"{scheme}://{host if HOST_SHOWN.match(host) else '…'}"


def scrub(text: str, url: str) -> str:
    """`text` without the URL or any of its parts but the scheme and host."""
    parts = urlsplit(url) if "://" in url else None
    secrets_in_url = [url]
    if parts is not None:
        secrets_in_url += [
            parts.path,
            parts.query,
            parts.fragment,
            parts.username or "",
            parts.password or "",
            *parts.path.split("/"),
            *re.split(r"[&=]", parts.query),
        ]
        if not HOST_SHOWN.match(parts.hostname or ""):
            secrets_in_url.append(url.partition("://")[2].split("/", 1)[0])
    for secret in sorted((s for s in secrets_in_url if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


def check_channel(channel: Channel) -> None:
    """Raises ChannelError if the channel cannot be used (secret missing, URL unknown)."""
    import apprise

    url = channel.url()
    if apprise.Apprise.instantiate(url) is None:
        raise ChannelError(
            f"{channel.shown()}: Apprise does not understand this URL (check its scheme and fields)"
        )


def send_now(url: str, title: str, body: str, notify_type: str = "info") -> str | None:
    """Send one message with Apprise, in the calling thread: None if sent, else why not."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        return "Apprise does not understand this URL (check its scheme and fields)"
    result = sender.notify(body, title=title, notify_type=notify_type, timeout=SEND_TIMEOUT_S)
    if result:
        return None
    lines = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    reason = lines[-1] if lines else f"failed ({result.status.name.lower()})"
    return scrub(reason, url)


# -- what the messages say -----------------------------------------------------------------------


def answer_link(config: HubConfig, supervisor_id: str, alert_id: str) -> str | None:
    """The link that lets `supervisor_id` answer this alert from a phone (hub/links.py: signed,
    scoped to them and this alert, expiring), its address left for the hub that sends it
    (links.SENDER_ADDRESS); None without `[hub] public_url`. A link that
    cannot be made (a config the running hub was not given) leaves the message without one:
    a notification without its link still calls for help, one not sent does not."""
    try:
        return answer_url(
            config, supervisor_id, UUID(alert_id), datetime.now(UTC), base=SENDER_ADDRESS
        )
    except (ValueError, RuntimeError) as exc:
        log.warning("notification for alert %s goes without its answer link: %s", alert_id, exc)
        return None


def _t(lang: Language, msgid: str, **values: object) -> str:
    """A message in the hub's notification language (not the process's interface language); a
    missing id (tests/test_i18n.py prevents it) shows as itself rather than lose a message."""
    if msgid not in catalogue_ids(lang):
        return msgid
    return translations(lang).gettext(msgid).format(**values)


TITLES = {
    "raised": N_("notify.raised"),
    "escalated": N_("notify.escalated"),
    "renotify": N_("notify.renotify"),
    "acknowledged": N_("notify.acknowledged"),
    "closed": N_("notify.closed"),
}


def render(
    kind: str,
    alert: Alert,
    lang: Language,
    *,
    link: str | None = None,
    responder: str = "",
    now: datetime | None = None,
) -> tuple[str, str]:
    """(title, body) of a notification. A discreet alert says only the code's label, the desk
    and its location: never the desk's message, which may be read over a shoulder."""
    minutes = int(((now or alert.received_at) - alert.received_at).total_seconds() // 60)
    drill = _t(lang, N_("notify.drill")) if alert.test else ""
    # "depuis 0 min" reads as "just now": a reminder under a minute says "moins d'une minute"
    title_id = (
        N_("notify.renotify_under_min") if kind == "renotify" and minutes < 1 else TITLES[kind]
    )
    title = drill + _t(
        lang,
        title_id,
        code=alert.code_words(lang == "en"),
        desk=alert.desk_label,
        name=responder,
        minutes=minutes,
    )
    lines = [
        _t(lang, N_("notify.where"), desk=alert.desk_label, location=alert.location or alert.site)
    ]
    if alert.message and not alert.discreet:
        lines.append(_t(lang, N_("notify.message"), message=alert.message))
    if link and kind in ("raised", "escalated", "renotify"):
        lines.append(_t(lang, N_("notify.link"), link=link))
    if alert.test:
        lines.append(_t(lang, N_("notify.drill_line")))
    return title, "\n".join(lines)


def render_reminders(lang: Language, reminders: list[tuple[str, str]]) -> tuple[str, str]:
    """(title, body) of one message carrying a person's reminders ((title, body) each)."""
    if len(reminders) == 1:
        return reminders[0]
    title = (
        translations(lang)
        .ngettext(N_("notify.renotify_many"), "notify.renotify_many", len(reminders))
        .format(count=len(reminders))
    )
    drill = _t(lang, N_("notify.drill"))
    if all(one_title.startswith(drill) for one_title, _ in reminders):
        title = drill + title  # only drills: the phone says so first
    return title, "\n\n".join(f"{one_title}\n{body}" for one_title, body in reminders)


def render_test(lang: Language, name: str) -> tuple[str, str]:
    return _t(lang, N_("notify.test.title")), _t(lang, N_("notify.test.body"), name=name)


NOTIFY_TYPES = {
    "raised": "failure",
    "escalated": "failure",
    "renotify": "failure",
    "acknowledged": "success",
    "closed": "success",
}


# -- who is told what: planned inside the event's transaction -------------------------------------


class Planner:
    """Turns each committed alert event into outbox rows, in the same transaction."""

    def __init__(self, config: HubConfig, store: Store, wake: Callable[[], None]) -> None:
        self.config = config
        self.store = store
        self.wake = wake
        self.lang: Language = config.hub.language
        self.channels = all_channels(config)
        self.supervisors = [s.id for s in config.supervisors]

    def reindex(self, config: HubConfig) -> None:
        """A reloaded roster: its channels and supervisors from now on (rows already queued
        for a channel that is gone are skipped by the worker, as an unknown channel is)."""
        self.channels = all_channels(config)
        self.supervisors = [s.id for s in config.supervisors]

    def on_event(self, db: Connection, event: Event) -> None:
        """The store's event hook: a failure here is logged, never a lost alert."""
        if not event.type.value.startswith("alert.") or not self.channels:
            return
        try:
            self._plan(db, Alert.model_validate(event.data), event)
        except self.store.fatal_errors:
            raise  # the event's own commit fails too: the caller gets a 503 and retries
        except Exception:
            log.exception("notifications for event %d could not be planned", event.id)

    def _plan(self, db: Connection, alert: Alert, event: Event) -> None:
        alert_id = str(alert.id)
        rows: list[Notification] = []
        if event.type is EventType.ALERT_RAISED:
            owners = [*self._level_owners(alert), SITE_PREFIX + alert.site]
            rows = self._rows(alert, "raised", self._owned(owners))
        elif event.type is EventType.ALERT_ESCALATED:
            told = {key for _, key in self.store.notified_channels(db, alert_id, attempted=False)}
            targets = [c for c in self._owned(self._level_owners(alert)) if c.key not in told]
            rows = self._rows(alert, "escalated", targets)
        elif event.type is EventType.ALERT_ACKNOWLEDGED and len(alert.responders) == 1:
            rows = self._closing(db, alert, "acknowledged", alert.responders[0].name)
        elif event.type in (EventType.ALERT_RESOLVED, EventType.ALERT_CANCELLED):
            rows = self._closing(db, alert, "closed", "")
        if rows:
            self.store.add_notifications(db, rows, event.at)
            self.wake()

    def _closing(
        self, db: Connection, alert: Alert, kind: str, responder: str
    ) -> list[Notification]:
        """Stop the alerting messages; tell whoever may have received one."""
        alert_id = str(alert.id)
        self.store.cancel_notifications(db, alert_id)
        told = self.store.notified_channels(db, alert_id, attempted=True)
        targets = [self.channels[key] for _, key in told if key in self.channels]
        return self._rows(alert, kind, targets, responder=responder)

    def renotify(self, db: Connection, alert: Alert, now: datetime) -> int:
        """Tell again every supervisor told so far (not the team rooms); how many rows."""
        if self.store.alert_state(db, str(alert.id)) != AlertState.OPEN.value:
            return 0  # answered or closed since it was found unanswered: no reminder after that
        told = self.store.notified_channels(db, str(alert.id), attempted=False)
        unsent = self.store.unsent_channels(db, str(alert.id))  # a reminder would add nothing
        targets = [
            self.channels[key]
            for owner, key in told
            if key in self.channels and not owner.startswith(SITE_PREFIX) and key not in unsent
        ]
        rows = self._rows(alert, "renotify", targets, now=now)
        self.store.add_notifications(db, rows, now)
        return len(rows)

    def _level_owners(self, alert: Alert) -> list[str]:
        """Who the alert's current level reaches: one person of the chain, or everyone."""
        if alert.escalated_to == EVERYONE or not alert.escalated_to:
            return list(self.supervisors)
        return [alert.escalated_to]

    def _owned(self, owners: list[str]) -> list[Channel]:
        return [c for c in self.channels.values() if c.owner in owners]

    def _rows(
        self,
        alert: Alert,
        kind: str,
        targets: list[Channel],
        *,
        responder: str = "",
        now: datetime | None = None,
    ) -> list[Notification]:
        rows = []
        for channel in targets:
            link = None
            if not channel.owner.startswith(SITE_PREFIX):
                link = answer_link(self.config, channel.owner, str(alert.id))
            title, body = render(kind, alert, self.lang, link=link, responder=responder, now=now)
            rows.append(
                Notification(
                    alert_id=str(alert.id),
                    site=alert.site,
                    kind=kind,
                    owner=channel.owner,
                    channel=channel.key,
                    title=title,
                    body=body,
                )
            )
        return rows


# -- deskalert hub --check --notify-test ---------------------------------------------------------


def send_test(config: HubConfig, supervisor_id: str) -> list[tuple[str, str | None]]:
    """A test message to every channel of a supervisor: (channel shown, None or why it failed)."""
    supervisor = next((s for s in config.supervisors if s.id == supervisor_id), None)
    if supervisor is None:
        known = ", ".join(s.id for s in config.supervisors)
        raise ChannelError(f"unknown supervisor {supervisor_id!r} (known: {known})")
    title, body = render_test(config.hub.language, supervisor.name)
    results: list[tuple[str, str | None]] = []
    for channel in channels_of(config, supervisor.id):
        try:
            reason = send_now(channel.url(), title, body)
        except ChannelError as exc:
            reason = str(exc)
        results.append((channel.shown(), reason))
    return results
