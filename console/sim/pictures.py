"""Pictures the simulated buyers send (issue 13): drawn with Pillow at run time, small, and the
same for the same seed: a product photo with a flaw circled, or a size chart, as buyers send them."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

SIZE = (480, 360)


def picture(seed: str) -> bytes:
    """A small JPEG (a few tens of kilobytes) drawn from ``seed``."""
    rng = random.Random(seed)
    image = Image.new("RGB", SIZE, _pale(rng))
    draw = ImageDraw.Draw(image)
    if rng.random() < 0.7:
        _garment(draw, rng)
    else:
        _chart(draw, rng)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _pale(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(215, 250), rng.randrange(215, 250), rng.randrange(215, 250))


def _garment(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """A T-shirt on a table, a stain on it and a red circle around the stain."""
    colour = (rng.randrange(30, 220), rng.randrange(30, 220), rng.randrange(30, 220))
    cx, top = SIZE[0] // 2 + rng.randrange(-40, 40), 50 + rng.randrange(0, 30)
    shirt = [(cx - 70, top), (cx - 150, top + 60), (cx - 115, top + 110), (cx - 80, top + 85), (cx - 80, top + 260),
             (cx + 80, top + 260), (cx + 80, top + 85), (cx + 115, top + 110), (cx + 150, top + 60), (cx + 70, top)]
    draw.polygon(shirt, fill=colour, outline=(40, 40, 40))
    draw.arc((cx - 30, top - 20, cx + 30, top + 25), 0, 180, fill=(40, 40, 40), width=3)
    sx, sy = cx + rng.randrange(-50, 50), top + rng.randrange(120, 220)
    draw.ellipse((sx - 9, sy - 6, sx + 9, sy + 6), fill=(90, 70, 40))
    draw.ellipse((sx - 28, sy - 24, sx + 28, sy + 24), outline=(220, 20, 20), width=4)


def _chart(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """A size chart: a grid with a highlighted row."""
    rows, cols = 6, 5
    left, top, width, height = 40, 40, SIZE[0] - 80, SIZE[1] - 80
    mark = rng.randrange(1, rows)
    for r in range(rows):
        y = top + r * height // rows
        fill = (255, 240, 160) if r == mark else ((225, 225, 235) if r == 0 else (255, 255, 255))
        draw.rectangle((left, y, left + width, y + height // rows), fill=fill, outline=(120, 120, 120))
        for c in range(1, cols):
            x = left + c * width // cols
            draw.line((x, y, x, y + height // rows), fill=(120, 120, 120))
            if r:
                w = rng.randrange(10, 30)
                draw.rectangle((x - w - 8, y + 12, x - 8, y + height // rows - 12), fill=(80, 80, 80))
