"""TeX formulas to MathML at build time, so pages show math with no JavaScript.

Chromium (109+), Firefox and Safari render MathML Core natively. latex2mathml was chosen over
the alternatives: KaTeX and MathJax (`--mathml` output) need Node.js at build time, Pandoc is an
external binary, ziamath draws SVG (not selectable, not scalable with the text) and pylatexenc
only turns TeX into Unicode text; latex2mathml is pure Python, small and maintained.

latex2mathml raises on some broken input (`x^`, a missing `\\end`) but lets other mistakes
through silently: an unknown command comes out as the text `\\foo`, `\\frac{1}` as a fraction
with no denominator, an unmatched brace as a literal `}`. `to_mathml` checks its output for
those, because a formula that shows as source or as half a fraction is a silent failure. It
also adds the thin space TeX puts after `\\log`, `\\exp`, `\\sin`… (latex2mathml writes
`<mi>log</mi><mi>p</mi>`, which browsers set as "logp").
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET

MATHML = "{http://www.w3.org/1998/Math/MathML}"
ET.register_namespace("", MATHML[1:-1])
THIN_SPACE = "0.1667em"  # TeX's \, : between an operator name and its argument
# Elements whose children are positional arguments, and how many each must have.
ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "mroot": 2, "munder": 2, "mover": 2,
         "munderover": 3}


class MathError(ValueError):
    """A formula latex2mathml cannot turn into correct MathML; the message says why."""


@functools.lru_cache(maxsize=4096)
def to_mathml(tex: str, display: bool) -> str:
    """The MathML of one formula (`display` for `$$…$$`). Raises MathError saying what is wrong.

    Memoised: `--serve` re-renders the same formulas on every prose edit.
    """
    # Imported here: its symbol tables take 20 ms to load, and most posts have no math.
    from latex2mathml.converter import convert

    check_braces(tex)
    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception as error:  # latex2mathml's own errors share no base class
        reason = str(error) or type(error).__name__
        raise MathError(f"latex2mathml cannot convert it ({reason})") from None
    root = ET.fromstring(mathml)
    check_tree(root)
    space_function_names(root)
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


def check_braces(tex: str) -> None:
    """Every `{` closed by a `}` (escaped `\\{` and `\\}` aside)."""
    depth = 0
    escaped = False
    for char in tex:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "{}":
            depth += 1 if char == "{" else -1
            if depth < 0:
                raise MathError("a `}` closes no `{`")
    if depth:
        raise MathError(f"{depth} `{{` not closed by `}}`")


def check_tree(root: ET.Element) -> None:
    """Unknown commands (left as `\\name` text) and fractions, scripts or roots missing a part."""
    for element in root.iter():
        name = element.tag.removeprefix(MATHML)
        text = (element.text or "").strip()
        if name in ("mi", "mo") and text.startswith("\\") and len(text) > 1:
            raise MathError(f"unknown command `{text}`")
        if name in ARITY and len(element) != ARITY[name]:
            raise MathError(f"`<{name}>` needs {ARITY[name]} parts, got {len(element)} "
                            f"(a missing `{{…}}` argument?)")


def space_function_names(root: ET.Element) -> None:
    """A thin space around `log`, `log_2`, `sin^2`… where TeX puts one: between the name and a
    symbol beside it, not before `(` (TeX's spacing of an operator next to an ordinary atom)."""
    for parent in list(root.iter()):
        if parent.tag.removeprefix(MATHML) in ARITY:
            continue  # its children are positional parts: nothing may be inserted
        children = list(parent)
        for position in reversed(range(len(children))):
            if not is_function_name(children[position]):
                continue
            after = children[position + 1] if position + 1 < len(children) else None
            if after is not None and is_ordinary(after):
                parent.insert(position + 1, ET.Element(MATHML + "mspace", width=THIN_SPACE))
            if position and is_ordinary(children[position - 1]):
                parent.insert(position, ET.Element(MATHML + "mspace", width=THIN_SPACE))


def is_ordinary(element: ET.Element) -> bool:
    """A letter, a number or a scripted one (not an operator, bracket or space)."""
    return element.tag.removeprefix(MATHML) in ("mi", "mn", "msub", "msup", "msubsup", "mfrac",
                                                "msqrt", "mroot", "mover", "munder")


def is_function_name(element: ET.Element) -> bool:
    """`<mi>log</mi>` (a name of several letters), also with a sub- or superscript."""
    name = element.tag.removeprefix(MATHML)
    if name in ("msub", "msup", "msubsup") and len(element):
        return is_function_name(element[0])
    return name == "mi" and len((element.text or "").strip()) > 1 and not element.attrib
