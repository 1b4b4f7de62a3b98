"""Draw the console's alert sounds as small WAV files (resources/sounds), with the standard library.

    .venv/bin/python scripts/make_sounds.py

Three short, distinct sounds, 16-bit mono at 22.05 kHz, each under half a second, so an agent can
tell them apart without looking:

- ``new_buyer.wav``: two rising notes (a buyer was given to me);
- ``new_message.wav``: one soft, short note (a waiting buyer wrote again);
- ``reminder.wav``: three quick even beeps (a buyer has waited long).

The tones are sines with a short fade in and out (no clicks). The output is deterministic, so
running the script again changes no committed byte.
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050
OUT = Path(__file__).resolve().parent.parent / "resources" / "sounds"

Note = tuple[float, float, float]  # frequency (Hz, 0 for silence), seconds, loudness 0..1


SOUNDS: dict[str, tuple[Note, ...]] = {
    "new_buyer": ((659.25, 0.12, 0.55), (0.0, 0.03, 0.0), (987.77, 0.20, 0.55)),  # E5 then B5
    "new_message": ((880.0, 0.09, 0.35),),  # A5, short and soft
    "reminder": ((1046.5, 0.07, 0.5), (0.0, 0.06, 0.0), (1046.5, 0.07, 0.5), (0.0, 0.06, 0.0),
                 (1046.5, 0.07, 0.5)),  # C6 three times
}
FADE = 0.012  # seconds of fade at each end of a note


def samples(notes: tuple[Note, ...]) -> bytes:
    frames = bytearray()
    for frequency, seconds, loudness in notes:
        count = int(seconds * RATE)
        fade = max(1, int(FADE * RATE))
        for i in range(count):
            envelope = min(1.0, i / fade, (count - 1 - i) / fade)
            value = loudness * envelope * math.sin(2 * math.pi * frequency * i / RATE) if frequency else 0.0
            frames += struct.pack("<h", round(value * 32767))
    return bytes(frames)


def write(name: str, notes: tuple[Note, ...], folder: Path = OUT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples(notes))
    return path


def main() -> int:
    for name, notes in SOUNDS.items():
        print(write(name, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
