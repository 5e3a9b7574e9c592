"""Draws images/icon.png, the extension's 128×128 icon: a key whose bow holds a snowflake,
white on a dark ServiceNow-like green. Pure Python (zlib for PNG), no imaging library:

    python3 client-vscode/scripts/icon.py            # rewrites client-vscode/images/icon.png

Shapes are signed distance functions sampled 4×4 per pixel (anti-aliased edges)."""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

SIZE = 128
SAMPLES = 4  # per axis
BACKGROUND_TOP = (0x2B, 0x4A, 0x4C)
BACKGROUND_BOTTOM = (0x17, 0x2C, 0x2E)
ACCENT = (0x81, 0xD4, 0x8A)  # the key
WHITE = (0xFF, 0xFF, 0xFF)  # the snowflake


def _segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from (px, py) to the segment a-b."""
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _rounded_square(px: float, py: float, half: float, radius: float) -> float:
    """Signed distance to a square centred in the icon (negative inside)."""
    c = SIZE / 2
    qx, qy = abs(px - c) - (half - radius), abs(py - c) - (half - radius)
    return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - radius


# the key: a ring (the bow) at the upper left, a shaft down to the lower right, two teeth
BOW = (46.0, 46.0)
BOW_RADIUS, BOW_WIDTH = 27.0, 9.0
SHAFT = ((65.0, 65.0), (104.0, 104.0))
TEETH = (((88.0, 88.0), (77.0, 99.0)), ((100.0, 100.0), (89.0, 111.0)))
KEY_HALF_WIDTH = 4.5


def _key(px: float, py: float) -> float:
    ring = abs(math.hypot(px - BOW[0], py - BOW[1]) - BOW_RADIUS) - BOW_WIDTH / 2
    (ax, ay), (bx, by) = SHAFT
    parts = [ring, _segment(px, py, ax, ay, bx, by) - KEY_HALF_WIDTH]
    parts += [_segment(px, py, a[0], a[1], b[0], b[1]) - KEY_HALF_WIDTH for a, b in TEETH]
    return min(parts)


def _flake_segments() -> list[tuple[float, float, float, float]]:
    cx, cy = BOW
    arm, branch_at, branch = 15.0, 9.0, 5.5
    out = []
    for k in range(6):
        a = math.pi / 2 + k * math.pi / 3
        ex, ey = cx + arm * math.cos(a), cy - arm * math.sin(a)
        out.append((cx, cy, ex, ey))
        bx, by = cx + branch_at * math.cos(a), cy - branch_at * math.sin(a)
        for side in (-1, 1):
            b = a + side * math.pi / 4
            out.append((bx, by, bx + branch * math.cos(b), by - branch * math.sin(b)))
    return out


FLAKE = _flake_segments()
FLAKE_HALF_WIDTH = 1.9


def _flake(px: float, py: float) -> float:
    return min(_segment(px, py, *s) for s in FLAKE) - FLAKE_HALF_WIDTH


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    # far from every edge (the distances are 1-Lipschitz, the pixel's corners within 0.71
    # of its centre), every sample falls where the centre does: sample once
    cx, cy = x + 0.5, y + 0.5
    far = min(abs(_rounded_square(cx, cy, 62.0, 22.0)), abs(_flake(cx, cy)), abs(_key(cx, cy))) > 0.75
    samples = 1 if far else SAMPLES
    bg = key = flake = 0
    for i in range(samples):
        for j in range(samples):
            px, py = x + (i + 0.5) / samples, y + (j + 0.5) / samples
            if _rounded_square(px, py, 62.0, 22.0) <= 0:
                bg += 1
                if _flake(px, py) <= 0:
                    flake += 1
                elif _key(px, py) <= 0:
                    key += 1
    n = samples * samples
    if not bg:
        return (0, 0, 0, 0)
    t = y / (SIZE - 1)
    base = [a + (b - a) * t for a, b in zip(BACKGROUND_TOP, BACKGROUND_BOTTOM, strict=True)]
    rest = bg - key - flake
    rgb = tuple(round((base[c] * rest + ACCENT[c] * key + WHITE[c] * flake) / bg) for c in range(3))
    return (rgb[0], rgb[1], rgb[2], round(255 * bg / n))


def png(size: int = SIZE) -> bytes:
    """The icon as PNG bytes (RGBA, 8 bits)."""
    rows = b"".join(b"\x00" + bytes(v for x in range(size) for v in _pixel(x, y)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "images" / "icon.png"
    out.write_bytes(png())
    print(out)
