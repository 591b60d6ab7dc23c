"""Reading a PNG's pixels: the background colour and the coloured shapes on it.

Used by the ``score_image`` tool (the scorer agent's eyes) and by the run's judge, never by
the simulated service. Every pixel is named by its nearest reference colour (``PALETTE``,
standard RGB values of the colour words; far from all of them: unnamed); the most common
name is the background; every other name's 4-connected regions of at least
``MIN_REGION`` pixels are elements, classified by how much of their bounding box they fill
(a square fills it, a circle about 79%, a triangle about half).
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

from .prompts import Requirement

__all__ = ["PALETTE", "MIN_REGION", "Scene", "inspect_png", "check_requirements"]

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (230, 30, 30), "orange": (250, 140, 0), "yellow": (250, 215, 0), "green": (30, 160, 60),
    "blue": (30, 80, 230), "purple": (140, 50, 190), "pink": (245, 130, 190), "brown": (125, 75, 35),
    "black": (15, 15, 15), "white": (250, 250, 250), "grey": (128, 128, 128),
}
"""Reference RGB of each colour word."""
MIN_REGION = 40
"""Smaller regions (edges, noise) are not elements."""
_MAX_DIST2 = 60 ** 2 * 3


@dataclass(frozen=True)
class Scene:
    """What an image shows."""

    width: int
    height: int
    background: str | None
    """Name of the most common colour (None when it is unnamed)."""
    elements: tuple[tuple[str, str], ...]
    """(colour, shape) of every element, top-left first."""

    def count(self, colour: str, shape: str) -> int:
        return sum(1 for e in self.elements if e == (colour, shape))


def _shape(fill: float) -> str:
    if fill >= 0.9:
        return "square"
    return "circle" if fill >= 0.65 else "triangle"


def inspect_png(data: bytes) -> Scene:
    """The scene in PNG ``data`` (ValueError when it is not an image)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data)).convert("RGB")
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"not a PNG image: {e}") from None
    pixels = np.asarray(image, dtype=np.int32)
    h, w, _ = pixels.shape
    names = list(PALETTE)
    ref = np.array([PALETTE[n] for n in names], dtype=np.int32)
    dist = ((pixels[:, :, None, :] - ref[None, None, :, :]) ** 2).sum(axis=3)
    label = dist.argmin(axis=2)
    label[dist.min(axis=2) > _MAX_DIST2] = -1
    counts = Counter(label.ravel().tolist())
    bg_index, _ = counts.most_common(1)[0]
    background = names[bg_index] if bg_index >= 0 else None
    seen = np.zeros((h, w), dtype=bool)
    seen[label == bg_index] = True
    seen[label < 0] = True
    elements: list[tuple[int, int, str, str]] = []
    lab = label.tolist()
    for y0 in range(h):
        for x0 in range(w):
            if seen[y0, x0]:
                continue
            colour = lab[y0][x0]
            stack, region = [(y0, x0)], []
            seen[y0, x0] = True
            while stack:
                y, x = stack.pop()
                region.append((y, x))
                for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                    if 0 <= ny < h and 0 <= nx < w and not seen[ny, nx] and lab[ny][nx] == colour:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
            if len(region) < MIN_REGION:
                continue
            ys, xs = [p[0] for p in region], [p[1] for p in region]
            box = (max(ys) - min(ys) + 1) * (max(xs) - min(xs) + 1)
            elements.append((min(ys), min(xs), names[colour], _shape(len(region) / box)))
    elements.sort()
    return Scene(w, h, background, tuple((c, s) for _, _, c, s in elements))


def check_requirements(scene: Scene, requirements: list[Requirement]) -> list[dict]:
    """One row per requirement: its text, what the image shows (``found``: the element count,
    or the background's colour) and whether it is met (an element count must match exactly)."""
    rows = []
    for r in requirements:
        if r.is_background:
            rows.append({"requirement": r.text(), "found": scene.background or "unnamed", "ok": scene.background == r.colour})
        else:
            n = scene.count(r.colour, r.shape)
            rows.append({"requirement": r.text(), "found": n, "ok": n == r.count})
    return rows
