"""Math in titles and abstracts: `$\\mathcal{O}(n)$` becomes MathML on the site and plain text in email.

Only `$...$` spans are math. The converter's MathML is parsed and rebuilt from a fixed list of
MathML elements and attributes before it is marked safe: the converter copies `\\text{...}` into
its output as it is, so unchecked output could carry markup from a paper's text. Anything that
does not convert cleanly is shown as the escaped original.
"""

import re
import xml.etree.ElementTree as ET
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from latex2mathml.converter import convert
from pylatexenc.latex2text import LatexNodes2Text

MATHML = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", MATHML)
# Inline math as TeX and pandoc read it: no space just inside the dollars, no digit right after
# the closing one (so "costs $5 and $10" stays text), and an escaped \$ is a dollar sign.
MATH = re.compile(r"(?<!\\)\$(?=\S)([^$]{1,300}?)(?<=[^\s\\])\$(?!\d)")
# Outside math, TeX escapes stand for the character itself: "+18.6\%" reads "+18.6%".
TEXT_ESCAPES = re.compile(r"\\([%&_#$])")
ELEMENTS = frozenset((
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
    "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded",
    "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts", "none",
))  # fmt: skip
ATTRIBUTES = frozenset((
    "display", "stretchy", "mathvariant", "fence", "separator", "lspace", "rspace", "accent",
    "accentunder", "columnalign", "rowspacing", "columnspacing", "linethickness", "displaystyle",
    "scriptlevel", "width", "height", "depth", "notation", "minsize", "maxsize", "movablelimits",
    "symmetric", "largeop", "form",
))  # fmt: skip


def segments(text: str) -> list[tuple[bool, str]]:
    """(is_math, content) pieces in order; math content without its dollars."""
    pieces, at = [], 0
    for found in MATH.finditer(text):
        pieces += [(False, text[at : found.start()]), (True, found.group(1))]
        at = found.end()
    return [(m, c) for m, c in [*pieces, (False, text[at:])] if c]


def plain(text: str) -> str:
    return TEXT_ESCAPES.sub(r"\1", text)


def clean_mathml(markup: str) -> str | None:
    """The MathML rebuilt from allowed elements and attributes, or None if anything else is in it."""
    try:
        root = ET.fromstring(markup)
    except ET.ParseError:
        return None
    for element in root.iter():
        namespace, _, name = element.tag.rpartition("}")
        if namespace != "{" + MATHML or name not in ELEMENTS or set(element.attrib) - ATTRIBUTES:
            return None
    return ET.tostring(root, encoding="unicode")


@lru_cache(maxsize=4096)
def mathml(latex: str) -> str | None:
    try:
        return clean_mathml(convert(latex))
    except Exception:  # noqa: BLE001 - the converter raises many kinds on malformed TeX; show it as text
        return None


def to_html(text: str) -> SafeString:
    parts = []
    for is_math, content in segments(text):
        rendered = mathml(content) if is_math else None
        parts.append(rendered or escape(f"${content}$" if is_math else plain(content)))
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped or rebuilt MathML


@lru_cache(maxsize=4096)
def latex_text(latex: str) -> str:
    return LatexNodes2Text().latex_to_text(latex).strip()


def to_text(text: str) -> str:
    """Readable plain text: "$\\mathcal{O}(n)$ at +18.6\\%" -> "𝒪(n) at +18.6%"."""
    return "".join(latex_text(c) if is_math else plain(c) for is_math, c in segments(text))
