"""The alarm sound of a critical notification: a short WAV made here (no file shipped), played
through PulseAudio's or ALSA's player when one is installed (`paplay`, `aplay`)."""

from __future__ import annotations

import asyncio
import io
import logging
import math
import os
import shutil
import struct
import tempfile
import wave
from pathlib import Path

log = logging.getLogger("deskalert.hotkeys")

PLAYERS = ("paplay", "aplay")
RATE = 16_000
TONES = ((880.0, 0.18), (0.0, 0.07), (880.0, 0.18), (0.0, 0.07), (660.0, 0.3))
PLAY_S = 5.0


def player() -> str | None:
    """The first sound player installed, or None (the caller rings the terminal bell)."""
    return next((path for name in PLAYERS if (path := shutil.which(name))), None)


def alarm_wav() -> bytes:
    """Two short beeps and a lower one, 16-bit mono, under a second."""
    frames = bytearray()
    for frequency, seconds in TONES:
        for n in range(int(RATE * seconds)):
            level = math.sin(2 * math.pi * frequency * n / RATE) if frequency else 0.0
            frames += struct.pack("<h", int(level * 12_000))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def alarm_path() -> Path:
    path = Path(tempfile.gettempdir()) / "deskalert-alarm.wav"
    if not path.exists():  # written aside, then renamed: a player never reads half a file
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".wav", delete=False) as part:
            part.write(alarm_wav())
        os.replace(part.name, path)
    return path


async def play_alarm(tool: str | None = None) -> bool:
    """Play the alarm; False when there is no player or it failed."""
    if (tool := tool or player()) is None:
        return False
    try:
        process = await asyncio.create_subprocess_exec(
            tool,
            str(alarm_path()),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(PLAY_S):
            return await process.wait() == 0
    except (OSError, TimeoutError) as exc:
        log.info("feedback: %s failed: %s", tool, exc or f"still playing after {PLAY_S:g} s")
        return False
