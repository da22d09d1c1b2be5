"""Draws the app's icons (static/icons/*.png) with the standard library only; run it again if
the design changes: python tools/make_icons.py

Three steps rising to a tick, white on the header's near-black: it reads as "step by step,
done" in any language. "any" icons have rounded corners; the maskable one is full-bleed with
the drawing inside the central 80% circle that launchers may crop to.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

BACKGROUND = (11, 12, 12)  # --text in app.css, the header colour
FOREGROUND = (255, 255, 255)
ACCENT = (255, 221, 0)  # --focus


def _png(size: int, pixel) -> bytes:
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # no filter
        for x in range(size):
            rows.extend(pixel(x + 0.5, y + 0.5))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def _drawing(u: float, v: float):
    """The picture in a unit square (0..1), or None for background."""
    # Three steps, bottom-left to the middle.
    for i in range(3):
        left, top = 0.18 + i * 0.16, 0.70 - i * 0.14
        if left <= u <= left + 0.16 and top <= v <= 0.80:
            return FOREGROUND
    # A tick, top right: two thick strokes.
    def near(ax, ay, bx, by, width=0.055):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
        return (u - ax - t * dx) ** 2 + (v - ay - t * dy) ** 2 <= width * width
    if near(0.56, 0.32, 0.65, 0.42) or near(0.65, 0.42, 0.84, 0.20):
        return ACCENT
    return None


def icon(size: int, maskable: bool) -> bytes:
    radius = 0 if maskable else size * 0.18
    scale = 0.8 if maskable else 1.0  # keep the drawing in the maskable safe zone

    def pixel(x: float, y: float):
        # Rounded corners: outside them the "any" icon is transparent.
        cx = min(max(x, radius), size - radius)
        cy = min(max(y, radius), size - radius)
        if radius and (x - cx) ** 2 + (y - cy) ** 2 > radius * radius:
            return (0, 0, 0, 0)
        u = (x / size - 0.5) / scale + 0.5
        v = (y / size - 0.5) / scale + 0.5
        colour = _drawing(u, v) or BACKGROUND
        return (*colour, 255)

    return _png(size, pixel)


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "static" / "icons"
    out.mkdir(exist_ok=True)
    for size in (192, 512):
        (out / f"icon-{size}.png").write_bytes(icon(size, maskable=False))
    (out / "icon-maskable-512.png").write_bytes(icon(512, maskable=True))
    print("wrote", ", ".join(sorted(p.name for p in out.glob("*.png"))))
