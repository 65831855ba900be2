"""A self-contained HTML page that is also a ``str``: written to a file, returned to
code that expects text, and shown inline by Jupyter.

Jupyter (JupyterLab, Notebook 7, VS Code) runs the scripts of an output only inside
an iframe, so ``_repr_html_`` puts the page in one, as its ``srcdoc``: the page
stays one offline document, its script and styles apart from the notebook's.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from os import PathLike
from typing import Any

from .arguments import check_path

__all__ = ["Page", "inline_svg", "json_for_script", "fill", "FIT_SCRIPT"]

_SVG_NS = "{http://www.w3.org/2000/svg}"


class Page(str):
    """The HTML of one page. ``str(page)`` is the document itself; in Jupyter it shows
    inline in an iframe ``height`` pixels high."""

    height: int = 760

    def __new__(cls, document: str, height: int | None = None) -> Page:
        page = super().__new__(cls, document)
        if height is not None:
            page.height = height
        return page

    def write(self, path: str | PathLike[str] | None) -> Page:
        """Write the page to ``path`` (UTF-8) when a path is given; return the page.
        A path of another type than str, ``os.PathLike`` or None is a TypeError."""
        check_path("Page.write", path)
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(self)
        return self

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(str(self), quote=True)}" '
                f'style="width: 100%; height: {self.height}px; border: 0" '
                f'sandbox="allow-scripts" title="chaingrad page"></iframe>')

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text form, one line (a notebook keeps it beside the HTML,
        so it must not be the whole document again)."""
        found = re.search(r"<title>(.*?)</title>", self, re.S)
        title = html.unescape(found.group(1)) if found else "untitled"
        printer.text(f"<chaingrad page {title!r}: {len(self.encode('utf-8')):,} bytes of HTML>")


def inline_svg(svg_bytes: bytes) -> ET.Element:
    """graphviz's SVG made fit to sit inside an HTML page: no XML prolog, no DOCTYPE,
    no namespace URLs (an HTML parser puts <svg> in the SVG namespace by itself), no
    tooltips of graphviz's own ids, and a width that shrinks to the page (the
    drawing's own width kept in ``data-width`` for zooming)."""
    root = ET.fromstring(svg_bytes)
    for element in root.iter():
        if element.tag.startswith(_SVG_NS):
            element.tag = element.tag[len(_SVG_NS):]
        for key in [k for k in element.attrib if k.startswith("{")]:
            del element.attrib[key]                         # xlink:* (unused here)
    for title in list(root.iter("title")):
        title.text = ""                                    # no "n3" tooltips
    root.set("class", "graph")
    root.set("data-width", root.get("width", ""))
    root.set("style", f"max-width: 100%; width: {root.get('width')}; height: auto")
    root.attrib.pop("height", None)
    root.attrib.pop("width", None)
    return root


#: The pages' "fit" (their zoom's 0): the figure ``svg.graph`` as wide as its box, no
#: taller than ``room`` pixels (what the page leaves it above what must stay in view),
#: at most ``grow`` times its drawn size (a small graph is enlarged for a projector,
#: not blown up), but never under ``LEGIBLE`` of it where only the height is short
#: (its text stays readable and the page scrolls). ``setScale`` applies a scale; a page
#: fits twice, as the first may add or take away the window's scroll bar.
FIT_SCRIPT = """
const LEGIBLE = 0.8;
function fitScale(svg, room, grow) {
  const box = svg.viewBox.baseVal;
  const frame = svg.parentElement, pad = getComputedStyle(frame);
  const inside = frame.clientWidth - parseFloat(pad.paddingLeft) - parseFloat(pad.paddingRight);
  const wide = (inside - 2) / (box.width * 4 / 3);
  return Math.min(wide, grow, Math.max(LEGIBLE, room / (box.height * 4 / 3)));
}
function setScale(svg, scale) {
  svg.style.maxWidth = "none";
  svg.style.width = (svg.viewBox.baseVal.width * scale) + "pt";
}
"""


def json_for_script(data: Any) -> str:
    """JSON safe inside <script>: no "</script>" or "<!--" can close or confuse it."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with every ``__NAME__`` replaced by ``values[NAME]``, all in one
    pass: text already put in (a title, a node label, the SVG) is never searched
    again, so a title or label that reads ``__SVG__`` or ``__DATA__`` stays that text."""
    names = "|".join(re.escape(name) for name in sorted(values, key=len, reverse=True))
    return re.sub(f"__({names})__", lambda match: values[match.group(1)], template)
