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

__all__ = ["Page", "inline_svg", "json_for_script", "fill", "FIT_SCRIPT", "BASE_CSS",
           "PLAYER_CSS", "player_controls", "player_script", "zoom_buttons", "zoom_script",
           "HALO", "halo_css"]

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

    def __repr__(self) -> str:
        """One line, in a plain Python prompt as in IPython: the page's title and
        size, not the whole document (``str(page)`` is the document)."""
        found = re.search(r"<title>(.*?)</title>", self, re.S)
        title = html.unescape(found.group(1)) if found else "untitled"
        return f"<chaingrad page {title!r}: {len(self.encode('utf-8')):,} bytes of HTML>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text form (a notebook keeps it beside the HTML, so it must
        not be the whole document again)."""
        printer.text(repr(self))


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


#: What every page's style shares: type, colours, the figure's frame, buttons, the
#: maths' font and the hints. A page adds its width and sizes after it.
BASE_CSS = """
  body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
         padding: 0 1rem; color: #0f172a; }
  h1 { font-weight: 600; }
  .figure { border: 1px solid #e2e8f0; border-radius: 8px; background: #fff; }
  button { font: inherit; padding: 0.25rem 0.8rem; border: 1px solid #94a3b8;
           border-radius: 6px; background: #f8fafc; cursor: pointer; }
  button:disabled { opacity: 0.4; cursor: default; }
  .maths { font-family: "Cambria Math", "STIX Two Math", Georgia, serif; }
  .hint { color: #64748b; font-size: 0.9rem; }
"""

#: The player's bar (:func:`player_controls`): buttons, a slider as wide as it can be,
#: the zoom apart on the right.
PLAYER_CSS = """
  .controls { display: flex; gap: 0.5rem; align-items: center; margin: 0.75rem 0; }
  .controls input[type=range] { flex: 1; }
  .zoom { margin-left: 0.75rem; }
"""


def zoom_buttons(keys: bool = True, fit: str = "fit the page") -> str:
    """The − fit + buttons :func:`zoom_script` works; their titles name the keys
    (− 0 +) when the page has them."""
    key = (lambda k: f" ({k})") if keys else (lambda k: "")
    return (f'<span class="zoom"><button id="zoom-out" title="smaller{key("−")}">−</button>\n'
            f'<button id="zoom-fit" title="{fit}{key("0")}">fit</button>\n'
            f'<button id="zoom-in" title="larger{key("+")}">+</button></span>')


def player_controls(unit: str, counter: str, fit: str = "fit the page") -> str:
    """The bar of a page that plays steps (:func:`player_script`): first, previous,
    play, next, last, a slider, the counter (element ``counter``: "frame 3 / 12")
    and the zoom. ``unit`` is what a step is called (``"frame"``, ``"step"``)."""
    return f"""<div class="controls">
  <button id="first" title="first {unit} (Home)">|◀</button>
  <button id="prev" title="previous {unit} (←)">◀ prev</button>
  <button id="play" title="play / pause (space)">▶ play</button>
  <button id="next" title="next {unit} (→)">next ▶</button>
  <button id="last" title="last {unit} (End)">▶|</button>
  <input id="slider" type="range" min="0" value="0" aria-label="{unit}">
  <span id="{counter}"></span>
  {zoom_buttons(True, fit)}
</div>"""


_PLAYER_SCRIPT = """
// The player (viz/page.py): steps 0 … __LAST__, each drawn by the page's draw(k); the
// buttons and the slider move, ← → Home End too, space plays and pauses.
const slider = document.getElementById("slider");
slider.max = __LAST__;
let current = 0, timer = null;
function show(k) {
  current = Math.max(0, Math.min(__LAST__, k));
  draw(current);
  slider.value = current;
  document.getElementById(__COUNTER__).textContent =
    __UNIT__ + " " + (current + 1) + " / " + (__LAST__ + 1);
  document.getElementById("first").disabled = document.getElementById("prev").disabled =
    current === 0;
  document.getElementById("last").disabled = document.getElementById("next").disabled =
    current === __LAST__;
}
function play(on) {
  if (timer) { clearInterval(timer); timer = null; }
  if (on) {
    if (current === __LAST__) show(0);
    timer = setInterval(() => {
      if (current >= __LAST__) play(false); else show(current + 1);
    }, __INTERVAL__);
  }
  document.getElementById("play").textContent = timer ? "⏸ pause" : "▶ play";
}
document.getElementById("first").onclick = () => { play(false); show(0); };
document.getElementById("prev").onclick = () => { play(false); show(current - 1); };
document.getElementById("next").onclick = () => { play(false); show(current + 1); };
document.getElementById("last").onclick = () => { play(false); show(__LAST__); };
document.getElementById("play").onclick = () => play(!timer);
slider.oninput = () => { play(false); show(Number(slider.value)); };
document.addEventListener("keydown", ev => {
  if (ev.target === slider && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) return;
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: __LAST__ };
  if (ev.key in moves) { play(false); show(moves[ev.key]); ev.preventDefault(); }
  else if (ev.key === " ") { play(!timer); ev.preventDefault(); }
});
"""


def player_script(count: int, unit: str, counter: str, interval_ms: int) -> str:
    """The script of :func:`player_controls` for ``count`` steps, one every
    ``interval_ms`` when playing. It defines ``show(k)`` and ``current``; the page
    defines ``draw(k)``, which puts step k on screen."""
    return fill(_PLAYER_SCRIPT, {"LAST": str(count - 1), "UNIT": json_for_script(unit),
                                 "COUNTER": json_for_script(counter),
                                 "INTERVAL": str(interval_ms)})


_ZOOM_SCRIPT = """
// The zoom (viz/page.py): 0 is the fit of FIT_SCRIPT (the figure as wide as the page,
// up to __GROW__ times its drawn size, no taller than the page's room(svg) in pixels);
// else a factor of the drawing's own size, __LEAST__ to 4.
let zoom = 0, scale = 1;
function setZoom(z) {
  zoom = z;
  const svg = document.querySelector("svg.graph");
  if (!svg || !svg.viewBox || !svg.viewBox.baseVal) return;
  scale = zoom || fitScale(svg, room(svg), __GROW__);
  setScale(svg, scale);
  if (!zoom) setScale(svg, scale = fitScale(svg, room(svg), __GROW__));
}
window.addEventListener("resize", () => { if (!zoom) setZoom(0); });
const zoomStep = dir => setZoom(Math.max(__LEAST__, Math.min(4, (zoom || scale) *
                                                             (dir > 0 ? 1.25 : 0.8))));
document.getElementById("zoom-in").onclick = () => zoomStep(1);
document.getElementById("zoom-out").onclick = () => zoomStep(-1);
document.getElementById("zoom-fit").onclick = () => setZoom(0);
"""

_ZOOM_KEYS = """document.addEventListener("keydown", ev => {
  if (ev.key === "+" || ev.key === "=") zoomStep(1);
  else if (ev.key === "-") zoomStep(-1);
  else if (ev.key === "0") setZoom(0);
});
"""


def zoom_script(grow: float, least: float, keys: bool = True) -> str:
    """The script of :func:`zoom_buttons` (with :data:`FIT_SCRIPT`): ``setZoom(0)``
    fits the figure ``svg.graph``, enlarging a small one at most ``grow`` times;
    + and − step by a quarter, down to ``least`` of the drawn size; with ``keys``
    the + − 0 keys work too. The page defines ``room(svg)``: how many pixels high
    the figure may be."""
    return FIT_SCRIPT + fill(_ZOOM_SCRIPT, {"GROW": f"{grow:g}", "LEAST": f"{least:g}"}) + (
        _ZOOM_KEYS if keys else "")


#: The mark of the node a page is at (being computed, receiving its gradient, clicked):
#: a yellow halo around its shape, its own border left as drawn. Yellow is no colour
#: of the diagrams' key (blue grad > 0, red grad < 0, grey 0), so it reads as "here".
HALO = "#facc15"


def halo_css(selector: str) -> str:
    """The CSS rule that puts :data:`HALO` around the shapes ``selector`` picks."""
    return (f"  {selector} {{ filter: drop-shadow(0 0 2px #eab308) "
            f"drop-shadow(0 0 4px {HALO}) drop-shadow(0 0 4px {HALO}); }}")


def json_for_script(data: Any) -> str:
    """JSON safe inside <script>: no "</script>" or "<!--" can close or confuse it."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with every ``__NAME__`` replaced by ``values[NAME]``, all in one
    pass: text already put in (a title, a node label, the SVG) is never searched
    again, so a title or label that reads ``__SVG__`` or ``__DATA__`` stays that text."""
    names = "|".join(re.escape(name) for name in sorted(values, key=len, reverse=True))
    return re.sub(f"__({names})__", lambda match: values[match.group(1)], template)
