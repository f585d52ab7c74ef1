"""`python -m deskalert.client.hotkeys.window SUMMARY BODY`: a small always-on-top window, the
feedback of last resort on a desktop without a notification service. Closes on a click, on
Escape, or after a minute."""

from __future__ import annotations

import sys

SHOWN_MS = 60_000


def show(summary: str, body: str) -> None:
    import tkinter

    root = tkinter.Tk()
    root.title(summary)
    root.attributes("-topmost", True)
    root.configure(background="#b00020", padx=18, pady=12)
    for text, size in ((summary, 16), (body, 13)):
        if text:
            tkinter.Label(
                root,
                text=text,
                font=("TkDefaultFont", size, "bold"),
                fg="white",
                bg="#b00020",
                wraplength=420,
                justify="left",
            ).pack(anchor="w")
    for event in ("<Button-1>", "<Escape>"):
        root.bind(event, lambda _event: root.destroy())
    root.after(SHOWN_MS, root.destroy)
    root.mainloop()


if __name__ == "__main__":
    show(sys.argv[1] if len(sys.argv) > 1 else "deskalert", " ".join(sys.argv[2:]))
