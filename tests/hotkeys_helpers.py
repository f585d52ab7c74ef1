"""A real X server for the global-key tests and the bench: Xvfb, a window holding the focus,
keys sent with xdotool (XTEST), and `deskalert hotkeys` run as a user would."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FOCUS_TITLE = "deskalert-focus-holder"


def missing_x_tools() -> str | None:
    """Why the X tests cannot run here, or None."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        return (
            f"{' and '.join(missing)} not installed (Debian: apt-get install -y xvfb xdotool;"
            " .ci/run installs them)"
        )
    return None


@dataclass
class XDisplay:
    name: str
    focus: str  # which window holds the focus: "xterm" or "root window"

    def env(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        return {**environ, "DISPLAY": self.name}

    def xdotool(self, *args: str) -> None:
        subprocess.run(
            ["xdotool", *args], env=self.env(), check=True, timeout=10, capture_output=True
        )

    def led_masks(self, seconds: float) -> list[int]:
        """The keyboard's LED mask, read every 20 ms for `seconds` (the Scroll Lock blink)."""
        from Xlib import display

        screen = display.Display(self.name)
        try:
            masks = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                masks.append(int(screen.get_keyboard_control().led_mask))
                time.sleep(0.02)
            return masks
        finally:
            screen.close()

    def press(self, keys: str, hold_s: float = 0.0) -> None:
        """Press a combination (xdotool's names: ctrl+shift+F2); held `hold_s` if given."""
        if hold_s <= 0:
            self.xdotool("key", keys)
            return
        self.xdotool("keydown", keys)
        time.sleep(hold_s)
        self.xdotool("keyup", keys)


@contextmanager
def x_display() -> Iterator[XDisplay]:
    """Xvfb on a free display number, with an xterm holding the focus when xterm is installed
    (the root window otherwise): the keys go to another application, never to deskalert."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=[write],
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        display = XDisplay(f":{number}", "root window")
        holder = None
        if shutil.which("xterm"):
            # allowTitleOps off: the shell's prompt would rename the window ("user@host: dir",
            # Debian's .bashrc for every user but root) and the title would no longer find it.
            holder = subprocess.Popen(
                ["xterm", "-title", FOCUS_TITLE, "-xrm", "XTerm*allowTitleOps: false"],
                env=display.env(),
                stderr=subprocess.DEVNULL,
            )
            focus_xterm(display)
            display.focus = "xterm"
        try:
            yield display
        finally:
            if holder is not None:
                holder.terminate()
                holder.wait(10)
    finally:
        server.terminate()
        server.wait(10)


def focus_xterm(display: XDisplay, attempts: int = 20) -> None:
    """Give the xterm the focus once it is mapped (found before it is, windowfocus fails)."""
    for attempt in range(attempts):
        try:
            display.xdotool(
                "search", "--sync", "--onlyvisible", "--name", FOCUS_TITLE, "windowfocus", "--sync"
            )
            return
        except subprocess.CalledProcessError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


def hotkeys_config(path: Path, url: str, hotkeys: str, desk: str = "g1") -> Path:
    path.write_text(
        f'[hub]\nurl = "{url}"\n[desk]\nid = "{desk}"\n[hotkeys]\n{hotkeys}\n', encoding="utf-8"
    )
    return path


def desk_env(base: dict[str, str], config: Path, home: Path, desk: str = "g1") -> dict[str, str]:
    return {
        **base,
        "DESKALERT_CONFIG": str(config),
        "DESKALERT_TOKEN": f"tok-{desk}",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


def listener_log(home: Path) -> Path:
    return home / "data" / "deskalert" / "hotkeys.log"


def start_listener(
    env: dict[str, str], home: Path, ready: str = "keys read from", timeout: float = 20
) -> subprocess.Popen[str]:
    """`deskalert hotkeys` as a process, once its log says it reads the keys."""
    process = subprocess.Popen(
        [sys.executable, "-m", "deskalert", "hotkeys"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    log = listener_log(home)
    while not (log.exists() and ready in log.read_text(encoding="utf-8")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"listener not ready (exit {process.returncode}): {err}{out}")
        time.sleep(0.05)
    return process


def stop_listener(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=15)
    return process.returncode, out, err


def missing_tkinter() -> str | None:
    """Why the listener's last-resort window cannot open here, or None (Debian's python3
    comes without tkinter: the package python3-tk adds it)."""
    if importlib.util.find_spec("tkinter") is None:
        return "no tkinter in this Python (python3-tk): no window for an alert not transmitted"
    return None


def quietly_stopped(result: tuple[int, str, str]) -> bool:
    """Exit 0, nothing on stdout, on stderr only the start line (which feedback it uses) and
    the bell of an alert not transmitted: nothing a visitor could read. Without tkinter there is
    no window, and the listener's terminal line is then its last resort (feedback.py)."""
    code, out, err = result
    lines = [line for line in err.split("\n") if line.strip("\a")]
    if missing_tkinter() is not None:
        lines = [line for line in lines if "ALERTE NON TRANSMISE" not in line]
    return (
        code == 0
        and out == ""
        and len(lines) == 1
        and lines[0].startswith(("deskalert hotkeys", "\adeskalert hotkeys"))
    )
