"""Keeping one cell's output from swamping its page: long text is cut to its first and last
lines, a heavy PNG is re-encoded in the lightest form that keeps it sharp, and an image's pixel
size is read so its <img> reserves its box before it loads.

The cache keeps every output whole; only the page shows less. What is cut is published in
full beside the page (see sitegen.render), as Jupyter front ends offer "show the rest".
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass

# nbconvert.filters.strip_ansi's pattern, inlined: importing nbconvert.filters (mistune,
# bleach, bs4) cost 0.1-0.5 s of every build's start-up for this one regex.
ANSI_CODE = re.compile("\x1b\\[(.*?)([@-~])")


def strip_ansi(source: str) -> str:
    """Removes ANSI escape codes (colours, cursor moves) from text."""
    return ANSI_CODE.sub("", source)


@dataclass(frozen=True)
class Cut:
    """The part of a long text a page shows (`head`, then `tail`) and what is hidden between."""

    head: str
    tail: str
    hidden: str  # the text between head and tail, exactly

    def describe(self) -> str:
        """What the marker says is not shown, in the unit that was cut: `1,234 more lines`,
        `48.9 MB of this line` (one huge line), or `3.2 MB in 4 lines` (lines cut short)."""
        size = human_size(len(self.hidden.encode()))
        starts_a_line = not self.head or self.hidden.startswith("\n")
        ends_a_line = not self.tail or self.hidden.endswith("\n")
        inner = self.hidden[1 if self.head and starts_a_line else 0:
                            len(self.hidden) - (1 if self.tail and ends_a_line else 0)]
        lines = inner.count("\n") + 1
        if starts_a_line and ends_a_line:
            return f"{lines:,} more lines"
        return f"{size} of this line" if lines == 1 else f"{size} in {lines:,} lines"


def cut_text(text: str, head_lines: int, tail_lines: int, max_chars: int) -> Cut | None:
    """The first `head_lines` and last `tail_lines` lines of `text`, or None when it is short
    enough to show whole.

    A text with few but huge lines (a 10 MB line of numbers) is cut too, to `max_chars` in all:
    its first and last `max_chars // 2` characters.
    """
    lines = text.split("\n")
    if len(lines) <= head_lines + tail_lines and len(text) <= max_chars:
        return None
    half = max_chars // 2
    if len(lines) > head_lines + tail_lines:
        head = "\n".join(lines[:head_lines])[:half]
        tail = "\n".join(lines[len(lines) - tail_lines:]) if tail_lines else ""
    else:
        head, tail = text[:half], text[len(text) - half:]
    tail = tail[len(tail) - half:] if len(tail) > half else tail
    return Cut(head=head, tail=tail, hidden=text[len(head): len(text) - len(tail)])


def human_size(count: int) -> str:
    """1536 -> "1.5 kB", 13_200_000 -> "13.2 MB" (decimal units, as browsers show downloads)."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


SVG_SIZE = re.compile(rb"<svg\b[^>]*?\swidth=\"([\d.]+)(pt|px)?\"[^>]*?\sheight=\"([\d.]+)(pt|px)?\"",
                      re.DOTALL)


def image_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """(width, height) in CSS pixels, or None when unreadable (the <img> then has no size).

    PNG and JPEG through Pillow, which reads the header only; SVG from its root element's
    width and height (matplotlib writes them in pt: 1 pt = 4/3 px).
    """
    if mime == "image/svg+xml":
        match = SVG_SIZE.search(data[:4096])
        if not match:
            return None
        scale = 4 / 3 if match.group(2) == b"pt" else 1
        return round(float(match.group(1)) * scale), round(float(match.group(3)) * scale)
    from PIL import Image, UnidentifiedImageError  # only pages with figures pay for the import

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None


SMALL_PNG = 20_000  # bytes: below this, re-encoding saves less than one request costs
DRAWING_COLOURS = 4096  # a plot is a few hundred flat colours and their anti-aliasing; a photo, many more
WEBP_QUALITY = 85


@functools.lru_cache(maxsize=256)
def lighter_png(data: bytes) -> tuple[bytes, str]:
    """A PNG as the lightest of: itself, a 256-colour palette PNG (a drawing: plots, matrices)
    or a WebP at quality 85 (a photo-like image: photo grids); returns the bytes and their file
    extension. Matplotlib writes RGBA PNGs that weigh 0.4-1.5 MB for a grid of photos, and
    pages show figures on white, so the image is first flattened onto white.

    Memoised: `--serve` renders the same figures again after every edit.
    """
    if len(data) < SMALL_PNG:
        return data, "png"
    flat = flatten_on_white(data)
    if flat is None:
        return data, "png"
    if flat.getcolors(DRAWING_COLOURS) is not None:
        from PIL import Image

        candidate, extension = encode(flat.quantize(256, method=Image.Quantize.FASTOCTREE),
                                      "PNG", optimize=True), "png"
    else:
        candidate, extension = encode(flat, "WEBP", quality=WEBP_QUALITY, method=4), "webp"
    return (candidate, extension) if len(candidate) < len(data) else (data, "png")


def flatten_on_white(data: bytes) -> "Image.Image | None":  # noqa: F821: PIL imported lazily
    """The image as RGB over white, or None when Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError):
        return None
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def encode(image: "Image.Image", kind: str, **options) -> bytes:  # noqa: F821
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()
