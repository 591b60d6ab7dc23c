"""The agency's one tool: ``render_logo``, a local, deterministic logo renderer.

It stands in for the image-generation tool of the original sample: it draws a small SVG
badge (initials on a shape, in the palette's first two colours) and returns the file name
it would be saved under, its size and a content hash. Same arguments, same result.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["render_logo", "PALETTES", "STYLES"]

STYLES = ("badge", "wordmark", "monogram", "emblem")
"""Styles the renderer knows (anything else is drawn as a badge)."""

PALETTES = {
    "warm": ("#C2562E", "#F4E3C1"),
    "ocean": ("#1B4965", "#BEE9E8"),
    "forest": ("#2D6A4F", "#D8F3DC"),
    "mono": ("#222222", "#F5F5F5"),
    "copper": ("#B87333", "#2B2B2B"),
}
"""Palette name -> (foreground, background)."""

_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def _initials(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name or "")
    return ("".join(w[0] for w in words[:2]) or "?").upper()


def render_logo(business: str, style: str = "badge", palette: str = "warm") -> dict:
    """Render a logo for a business as an SVG badge and return where it was saved.

    Args:
        business: the business name written on the logo.
        style: one of badge, wordmark, monogram, emblem.
        palette: a palette name (warm, ocean, forest, mono, copper) or two hex colours.

    Returns:
        A dict with the file name, style, colours, SVG size in bytes and a content hash.
    """
    colours = PALETTES.get(str(palette).lower().strip())
    if colours is None:
        found = _HEX.findall(str(palette))
        colours = (found[0], found[1]) if len(found) >= 2 else PALETTES["warm"]
    style = str(style).lower().strip()
    shape = {"emblem": '<polygon points="60,4 116,60 60,116 4,60"', "monogram": '<rect x="8" y="8" width="104" height="104" rx="18"',
             "wordmark": '<rect x="4" y="34" width="112" height="52" rx="8"'}.get(style, '<circle cx="60" cy="60" r="56"')
    text = _initials(business) if style != "wordmark" else (business or "?")[:10]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120">{shape} fill="{colours[1]}" '
           f'stroke="{colours[0]}" stroke-width="4"/><text x="60" y="70" font-size="28" text-anchor="middle" '
           f'fill="{colours[0]}">{text}</text></svg>')
    digest = hashlib.sha256(svg.encode()).hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "-", (business or "logo").lower()).strip("-") or "logo"
    return {"file": f"logo-{slug}-{digest}.svg", "style": style if style in STYLES else "badge",
            "colours": list(colours), "svg_bytes": len(svg.encode()), "sha256_12": digest}
