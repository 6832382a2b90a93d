"""Terminal colours a reader can read: the colours `rich` writes into HTML outputs (Keras's
`model.summary()` is bright cyan, blue and green, drawn for a black terminal) are given a
light-theme and a dark-theme variant with at least WCAG AA contrast (4.5:1) against the code
boxes of both colour schemes, as CSS `light-dark()`, so one inline style follows the reader.
"""

from __future__ import annotations

import colorsys
import functools
import re

AA = 4.5
# The backgrounds an output's text can sit on in each scheme (style.css's --bg and --code-bg).
LIGHT_BACKGROUNDS = ("#ffffff", "#f6f8fa")
DARK_BACKGROUNDS = ("#0d1117", "#151b23")
INLINE_COLOUR = re.compile(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})\b")


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of `#rrggbb`."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@functools.lru_cache(maxsize=512)
def readable(colour: str, backgrounds: tuple[str, ...]) -> str:
    """`colour` with its hue kept, made darker or lighter (whichever the backgrounds need) just
    enough to reach AA against every one of them."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*(int(colour[i:i + 2], 16) / 255
                                                       for i in (1, 3, 5)))
    darken = luminance(backgrounds[0]) > 0.5
    for step in range(101):
        shifted = max(0.0, lightness - step / 100) if darken else min(1.0, lightness + step / 100)
        candidate = hex_colour(colorsys.hls_to_rgb(hue, shifted, saturation))
        if all(contrast(candidate, b) >= AA for b in backgrounds):
            return candidate
    return "#000000" if darken else "#ffffff"


def hex_colour(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def both_schemes(match: re.Match) -> str:
    colour = match.group(1).lower()
    light, dark = readable(colour, LIGHT_BACKGROUNDS), readable(colour, DARK_BACKGROUNDS)
    return f"color: {light}; color: light-dark({light}, {dark})"  # older browsers keep the first


def readable_colours(html: str) -> str:
    """Every inline `color: #rrggbb` in `html` replaced by AA-contrast variants for both schemes."""
    return INLINE_COLOUR.sub(both_schemes, html)
