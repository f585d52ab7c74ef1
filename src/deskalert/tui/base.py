"""`HubApp`: the plumbing the desk app and the supervisor pane share.

A screen that follows a hub needs the same five things, whoever sits in front of it:

- **the stream**: load the screen's picture (`load_snapshot`, the subclass's), then follow every
  event after it (`client.follower`); each event arrives as a `HubEvent` message whose `event`
  is the typed union of models.py (`match message.event: case AlertEvent(data=alert): ...`);
- **presence**: a heartbeat at the hub's interval (a 401 there also marks the token refused);
- **one link state**, `self.link` (a reactive `LinkState`): connecting, up, or down since a time
  for a reason that is named as what it is (hub unreachable, timeout, refused token, an answer
  that is not the hub's, a hub error 5xx, a desk outside its site's networks, another refusal).
  A refused token or a desk refused for its address sticks until the hub accepts it again (the
  stream reopens): it never turns back into "unreachable" by itself;
- **the clock**, `self.now()`: local, aware; tests pass a fake one; `self.hub_time.now()`: the
  hub's, estimated from the heartbeats (client/hubtime.py), for what counts down to a deadline
  the hub set;
- **keys**: `BINDINGS` carry an `id=` and a catalogue message id as description (translated by
  `HubFooter`, tui/footer.py, when drawn, so the footer speaks the process's language); `[keys]`
  of config.toml remaps them through `set_keymap` (`keymap()`, which subclasses extend with
  run-time ids);
- **worker failures land in one place**, `_worker_changed` (`Worker.StateChanged`): an ERROR is
  logged, shown to the person, and a long-lived worker (`keep_running`) is restarted with a
  backoff (1, 2, 4 ... 30 s). Workers are started with `exit_on_error=False`, so none takes the
  app down; the app exits only when the person quits.

API for a subclass (the desk app, the supervisor pane):

    class DeskApp(HubApp):
        BINDINGS = [Binding("f8,ctrl+o", "respond", N_("binding.respond"), id="respond"), ...]

        def compose(self):
            yield LinkBadge(id="link").data_bind(HubApp.link)   # or watch_link()
            ...
            yield HubFooter()

        async def load_snapshot(self) -> MySnapshot:   # a Message with heartbeat_s, last_event_id
            ...                                      # raise DeskAlertError if the hub cannot

        @on(MySnapshot)  / @on(HubEvent)             # set state on widgets, nothing else
        def watch_link(self, link: LinkState): ...   # optional: react to link changes

        def keymap(self) -> dict[str, str]:         # optional: add run-time binding ids
            return {**super().keymap(), "code.1": "f2,ctrl+r"}

    Constructor: `HubApp(config, token, *, clock=local_now)`; sets the language once and builds
    `self.client` (HubClient). `on_mount` of the base runs after the subclass's (Textual calls each
    class's handler, most derived first): it applies the keymap and starts the two long-lived
    workers, "follow" and "presence". Other long-lived work: `self.keep_running(name, factory)`.
    Short-lived work: `@work(exit_on_error=False)`; its failure is shown, not restarted.
    A worker that got a DeskAlertError from the hub may call `self.hub_failed(error)`: a 401
    then marks the token refused. `on_unmount` closes the client.

    A feature that is a widget (the interview timer, the desk's global keys) runs its requests
    with `run_on_app(self, coroutine, group=...)`, so their failures land here too, and posts
    `refusal(error)` (tui/messages.py), which bubbles up to the app as a `LinkChanged`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.reactive import reactive
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from deskalert import sitetime
from deskalert.client.api import HubClient
from deskalert.client.follower import Snapshot, snapshot_then_events
from deskalert.client.hubs import Hubs
from deskalert.client.hubtime import HubTime
from deskalert.client.settings import ClientConfig
from deskalert.errors import DeskAlertError, Unauthorized
from deskalert.i18n import N_, set_language, t
from deskalert.models import HeartbeatOut
from deskalert.sitetime import local
from deskalert.tui.link import LinkKind, LinkState, link_reason, one_line
from deskalert.tui.messages import LinkChanged, refusal, relay
from deskalert.tui.parts import Part

log = logging.getLogger("deskalert.tui")

Clock = Callable[[], datetime]
RESTART_MAX_S = 30.0
RESTART_RESET_AFTER_S = 60.0  # a worker that ran this long before failing starts over at 1 s

# Some terminals and tmux setups eat F-keys: an F-key gets a ctrl alternative (STYLE.md).
CTRL_ALTERNATIVES = {
    "f1": "ctrl+f",
    "f2": "ctrl+r",
    "f3": "ctrl+t",
    "f4": "ctrl+y",
    "f5": "ctrl+u",
    "f6": "ctrl+g",
    "f7": "ctrl+l",
    "f11": "ctrl+n",
    "f12": "ctrl+k",
}


def local_now() -> datetime:
    return datetime.now().astimezone()


def normal_keys(keys: str) -> str:
    """'F2, ctrl+R' -> 'f2,ctrl+r'."""
    return keys.lower().replace(" ", "")


def with_ctrl_alternative(keys: str) -> str:
    """A lone F-key gets its ctrl alternative: 'f2' -> 'f2,ctrl+r'."""
    keys = normal_keys(keys)
    return f"{keys},{CTRL_ALTERNATIVES[keys]}" if keys in CTRL_ALTERNATIVES else keys


def key_label(keys: str, between: str = " · ") -> str:
    """'f2,ctrl+r' -> 'F2 · ctrl+r' (or 'F2/ctrl+r' with `between` "/")."""
    return between.join(
        k.upper() if k.startswith("f") and k[1:].isdigit() else k for k in keys.split(",")
    )


# -- the link ------------------------------------------------------------------------------------


class LinkBadge(Static):
    """The link in a few words, top right: green when up, red with the time and reason when not.

    `UP_TEXT` is the message id of the healthy state; the pane may subclass with its own words.
    `VIA_TEXT` replaces it when the stream is on another hub than the first listed (the one
    place the hub shows: on the first, nothing says there are several).
    """

    UP_TEXT: ClassVar[str] = N_("link.ok")
    VIA_TEXT: ClassVar[str] = N_("link.via")
    link: reactive[LinkState] = reactive(LinkState, always_update=False)

    def render_link(self, link: LinkState) -> Text:
        if link.kind is LinkKind.CONNECTING:
            return Text(f"○ {t('link.connecting')}", style="dim")
        if link.kind is LinkKind.UP and link.hub > 1:
            return Text(f"● {t(self.VIA_TEXT, number=link.hub)}", style="green")
        if link.kind is LinkKind.UP:
            return Text(f"● {t(self.UP_TEXT)}", style="green")
        if link.kind is LinkKind.TOKEN_REFUSED:
            return Text(f"● {t('link.token_refused')}", style="bold white on red")
        if link.kind is LinkKind.OUTSIDE_NETWORK:
            return Text(f"● {t('link.outside_network')}", style="bold white on red")
        since = local(link.since).strftime("%H:%M:%S") if link.since else "?"
        return Text(f"● {t('link.lost', time=since)}", style="bold red")

    def watch_link(self, link: LinkState) -> None:
        self.update(self.render_link(link))
        self.set_class(link.kind.is_down, "-down")


# -- the app -------------------------------------------------------------------------------------


@dataclass
class LongLived:
    factory: Callable[[], Awaitable[None]]
    description: str
    until_done: bool = False
    failures: int = 0
    started: float = 0.0


class HubApp(App[None]):
    """The base of the desk app and the supervisor pane; see the module's docstring."""

    ENABLE_COMMAND_PALETTE = False
    # Under this width or height (a corner of the screen beside the main application) the app
    # is `compact`, and has the CSS class "-compact": each wing says what gives way first.
    COMPACT_BELOW: ClassVar[tuple[int, int]] = (80, 30)
    link: reactive[LinkState] = reactive(LinkState, init=False)
    compact: reactive[bool] = reactive(False)

    def __init__(self, config: ClientConfig, token: str, *, clock: Clock = local_now) -> None:
        super().__init__()
        set_language(config.language)
        self.config = config
        self.token = token
        self.now = clock
        self.hub_time = HubTime(clock)  # what a hub's deadline counts down with
        self.hubs = Hubs(config.hub_urls)  # shared by the client and the stream: one choice
        self.client = HubClient(self.hubs, token)
        self._long_lived: dict[str, LongLived] = {}
        self._clash_reported: set[str] = set()

    # -- hooks ------------------------------------------------------------------------------

    async def load_snapshot(self) -> Snapshot:
        """The screen's picture from the hub: a Message with `heartbeat_s` and `last_event_id`
        (posted to the app before the events after it); raise DeskAlertError if the hub cannot."""
        raise NotImplementedError

    def keymap(self) -> dict[str, str]:
        """Binding id -> keys: `[keys]` entries naming an id of this app's BINDINGS."""
        ids = set(binding_ids(type(self)))
        return {name: normal_keys(keys) for name, keys in self.config.keys.items() if name in ids}

    # -- life -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.apply_keymap()
        self.keep_running("follow", self._follow, t("worker.follow"))
        self.keep_running("presence", self._keep_presence, t("worker.presence"))

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        self.compact = width < self.COMPACT_BELOW[0] or height < self.COMPACT_BELOW[1]

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")

    async def on_unmount(self) -> None:
        await self.client.aclose()

    def apply_keymap(self) -> None:
        """(Re)apply `keymap()`: at start, and when run-time bindings change (the desk's codes)."""
        self.set_keymap(self.keymap())

    def action_help_quit(self) -> None:
        """ctrl+c does not quit: say how to, in the person's language (Textual's says it in
        English)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(t("quit.help", key=key), title=t("quit.help_title"), markup=False)
                return

    def get_key_display(self, binding: Binding) -> str:
        """F-keys in capitals ('F8'), the others as written ('ctrl+o', 'j')."""
        return key_label(binding.key)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """Two bindings on one key (a [keys] line): said once, the remapped one wins."""
        for binding in clashed_bindings:
            name = binding.id or binding.action
            if name not in self._clash_reported:
                self._clash_reported.add(name)
                self.notify(
                    t("notify.key_clash", key=binding.key, name=name),
                    severity="warning",
                    timeout=15,
                )

    # -- long-lived workers -----------------------------------------------------------------

    def keep_running(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        description: str = "",
        *,
        until_done: bool = False,
    ) -> Worker[None]:
        """Run `factory()` as a worker named `name`, restarted with backoff if it fails.

        `until_done`: work that ends (an alert's delivery) is forgotten once it returns or is
        cancelled; otherwise returning is a failure too (a stream follower never ends).
        """
        entry = self._long_lived.get(name)
        if entry is None:
            entry = self._long_lived[name] = LongLived(factory, description or name, until_done)
        entry.started = time.monotonic()
        return self.run_worker(
            factory(),
            name=name,
            group=name,
            description=entry.description,
            exclusive=True,
            exit_on_error=False,
        )

    async def _follow(self) -> None:
        """The screen's picture, then every event after it, for as long as the app runs."""
        await relay(
            snapshot_then_events(self.load_snapshot, self.hubs, self.token, availability=True), self
        )

    async def beat_hub(self) -> HeartbeatOut:
        """A heartbeat; what it says of the hub's time is kept (`self.hub_time`). The
        snapshot's loader beats with it too: a check loaded with the snapshot counts down
        with the hub's time from the start."""
        sent = self.now()
        beat = await self.client.heartbeat()
        self.hub_time.heard(beat.at, sent, self.now())
        return beat

    async def _keep_presence(self) -> None:
        """A heartbeat at the hub's interval; a refused token is reported at once."""
        interval = 5.0
        while True:
            try:
                beat = await self.beat_hub()
                interval = beat.heartbeat_s
                if sitetime.set_zone(beat.timezone):  # every time drawn again in the site's
                    self.refresh(layout=True, recompose=False)
                    for part in self.query(Part):
                        part.refresh(layout=True)
            except Unauthorized as exc:
                self.post_message(LinkChanged(up=False, reason=str(exc), error=exc))
            except DeskAlertError:
                pass  # the follower reports the link; the next beat retries
            await asyncio.sleep(interval)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure lands: logged, shown, restarted if long-lived."""
        worker = event.worker
        entry = self._long_lived.get(worker.name)
        if event.state is WorkerState.ERROR:
            error = worker.error
            log.error("worker %s failed", worker.name, exc_info=error)
            self.log.error(f"worker {worker.name} failed: {error!r}")
            what = f"{error.__class__.__name__}: {one_line(str(error), 100)}"
            if entry is None:
                self.notify(
                    t("worker.failed", what=worker.description or worker.name, error=what),
                    severity="error",
                    timeout=20,
                )
                return
            delay = self._restart_delay(entry)
            self.notify(
                t("worker.restarting", what=entry.description, error=what, seconds=f"{delay:g}"),
                severity="error",
                timeout=max(20, delay + 5),
            )
            self.set_timer(delay, partial(self._restart, worker.name))
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED) and entry is not None:
            if entry.until_done or event.state is WorkerState.CANCELLED:
                del self._long_lived[worker.name]
            else:
                log.warning("worker %s returned; restarted", worker.name)
                self.set_timer(self._restart_delay(entry), partial(self._restart, worker.name))

    def _restart_delay(self, entry: LongLived) -> float:
        if time.monotonic() - entry.started > RESTART_RESET_AFTER_S:
            entry.failures = 0
        entry.failures += 1
        return min(RESTART_MAX_S, 2.0 ** (entry.failures - 1))

    def _restart(self, name: str) -> None:
        entry = self._long_lived.get(name)
        if entry is not None and self.is_running and not self._exit_requested():
            self.keep_running(name, entry.factory)

    def _exit_requested(self) -> bool:
        return self.return_code is not None

    # -- the link ---------------------------------------------------------------------------

    @on(LinkChanged)
    def _link_changed(self, message: LinkChanged) -> None:
        self.link = self.link.after(message, self.now())

    def hub_failed(self, error: DeskAlertError) -> None:
        """A request failed with `error`: a refusal (a token, the site's networks) shows at once,
        whatever asked."""
        if (change := refusal(error)) is not None:
            self.post_message(change)


def run_on_app(
    node: DOMNode, work: Coroutine[Any, Any, None], *, group: str, exclusive: bool = False
) -> Worker[None]:
    """Short-lived work of a widget or a screen (a feature's request to the hub), run by the
    app: `Worker.StateChanged` does not bubble, and the app is the one place a failure lands."""
    return node.app.run_worker(work, group=group, exclusive=exclusive, exit_on_error=False)


def binding_ids(cls: type[DOMNode]) -> Iterable[str]:
    """The ids of the bindings a class declares in `BINDINGS`, its bases' included."""
    for klass in cls.__mro__:
        for binding in klass.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                yield binding.id


__all__ = [
    "CTRL_ALTERNATIVES",
    "Clock",
    "HubApp",
    "LinkBadge",
    "LinkKind",
    "LinkState",
    "binding_ids",
    "key_label",
    "link_reason",
    "local_now",
    "normal_keys",
    "run_on_app",
    "with_ctrl_alternative",
]
