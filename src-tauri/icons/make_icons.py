#!/usr/bin/env python3
"""Draws the app icon (a white database drum on a blue rounded square): the one 1024x1024 source
image every icon comes from. `scripts/icons.sh` runs this, then the Tauri CLI's `icon` command
turns the source into each OS's sizes and formats (PNGs, icon.ico, icon.icns).

Standard library only, so the source can be redrawn on any machine:
    python3 src-tauri/icons/make_icons.py [output.png]
"""
import math
import pathlib
import struct
import sys
import zlib

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE / "app-icon.png"
SIZE = 1024
TOP, BOTTOM = (59, 130, 246), (29, 78, 216)
LID = (219, 234, 254)
RX, RY = 0.21, 0.075
Y_TOP, Y_BOTTOM = 0.30, 0.70
BANDS = (0.435, 0.57)
LINE = 0.022


def rounded_square(x, y, r=0.22, m=0.04):
    """Signed distance (negative inside) to a rounded square with margin m."""
    cx, cy = abs(x - 0.5), abs(y - 0.5)
    h = 0.5 - m - r
    qx, qy = max(cx - h, 0.0), max(cy - h, 0.0)
    return math.hypot(qx, qy) + min(max(cx - h, cy - h), 0.0) - r


def ellipse(x, y, y0):
    return ((x - 0.5) / RX) ** 2 + ((y - y0) / RY) ** 2


def drum(x, y):
    """Colour of the drum at (x, y), or None outside it."""
    in_body = abs(x - 0.5) <= RX and Y_TOP <= y <= Y_BOTTOM
    top, bottom = ellipse(x, y, Y_TOP), ellipse(x, y, Y_BOTTOM)
    if not (in_body or top <= 1 or bottom <= 1):
        return None
    if top <= 1:
        # The lid: a tinted ellipse with a thin rim.
        return LID if top <= (1 - LINE * 4) else None
    for y0 in BANDS:
        e = ellipse(x, y, y0)
        if y > y0 and abs(math.sqrt(e) - 1) < LINE * 2.2 and abs(x - 0.5) < RX * 0.97:
            return None
    return (255, 255, 255)


def pixel(x, y):
    if rounded_square(x, y) > 0:
        return (0, 0, 0, 0)
    t = y
    bg = tuple(round(a + (b - a) * t) for a, b in zip(TOP, BOTTOM))
    fg = drum(x, y)
    return (*(fg or bg), 255)


def render(size, ss=2):
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    r, g, b, a = pixel((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            n = ss * ss
            alpha = acc[3] / n
            if acc[3]:
                row += bytes(round(c / acc[3]) for c in acc[:3])
            else:
                row += b"\0\0\0"
            row.append(round(alpha))
        rows.append(bytes(row))
    return b"".join(rows)


def png(size, raw):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    out.write_bytes(png(SIZE, render(SIZE)))
    print(f"wrote {out} ({SIZE}x{SIZE} RGBA)")
