"""The desk's keys: the fixed actions, the code slots, and what `[keys]` / `[hotkeys]` give them.

Code keys come from the hub at run time, and Textual binds keys per class. So the app's
`BINDINGS` hold `MAX_CODES` code slots (`code.0` ... ) on keys no terminal sends, and the keymap
(`set_keymap`) gives slot i the keys of the i-th code: the hub's key with its ctrl alternative,
or the `[keys]` line naming the code. No private Textual API is touched.
"""

from __future__ import annotations

from textual.binding import Binding

from deskalert.client.settings import ClientConfig
from deskalert.i18n import t
from deskalert.models import AlertCode
from deskalert.tui.base import normal_keys
from deskalert.tui.base import with_ctrl_alternative as with_ctrl

MAX_CODES = 12
FIXED_KEYS = {
    "respond": "f8,ctrl+o",
    "drill": "f9,ctrl+e",
    "cancel": "f10,ctrl+x",
    "dismiss": "escape",
    "note": "n",
    "later": "p",
    "journal": "j",
    "interview": "i",
}


def slot(index: int) -> Binding:
    """The binding of code slot `index`, on a key no terminal sends until the keymap gives one."""
    return Binding(
        f"deskalert-code-slot-{index}",
        f"send_slot({index})",
        "",
        show=False,
        priority=True,
        id=f"code.{index}",
    )


class DeskKeys:
    """The keys of one desk's config, for the codes the hub gave."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._warned: set[str] = set()  # the warnings already given: each is given once

    def codes(self, codes: list[AlertCode]) -> list[tuple[AlertCode, str]]:
        """Each code with its keys: `[keys]` naming the code, or the hub's key + a ctrl one."""
        return [
            (code, with_ctrl(self.config.keys.get(code.code, code.key)))
            for code in codes[:MAX_CODES]
        ]

    def action(self, name: str) -> str:
        """A fixed action's keys ('f8,ctrl+o'), as `[keys]` remaps them."""
        return normal_keys(self.config.keys.get(name, FIXED_KEYS[name]))

    def slots(self, codes: list[AlertCode]) -> dict[str, str]:
        """The keymap's entries for the code slots."""
        return {f"code.{index}": keys for index, (_code, keys) in enumerate(self.codes(codes))}

    def unknown(self, codes: list[AlertCode]) -> set[str]:
        """`[keys]` names that are neither a code of the hub's nor a fixed action."""
        return set(self.config.keys) - {c.code for c in codes} - set(FIXED_KEYS)

    def unknown_global(self, codes: list[AlertCode]) -> set[str]:
        """`[hotkeys]` combinations naming no code of the hub's."""
        hotkeys = self.config.hotkeys
        return set(hotkeys.combinations if hotkeys else ()) - {c.code for c in codes}

    def warnings(self, codes: list[AlertCode]) -> list[tuple[str, bool]]:
        """The warnings about `[keys]` / `[hotkeys]` names the hub's codes do not know, each
        with whether it may be read as markup; each given once per app."""
        found = []
        if (unknown := self.unknown(codes)) and "keys" not in self._warned:
            self._warned.add("keys")
            found.append((t("notify.unknown_keys", names=", ".join(sorted(unknown))), True))
        if (unknown_global := self.unknown_global(codes)) and "hotkeys" not in self._warned:
            self._warned.add("hotkeys")  # "[hotkeys]" is text, not markup
            names = ", ".join(sorted(unknown_global))
            found.append((t("notify.unknown_hotkeys", names=names), False))
        return found
