"""``explore``: a computation graph you can touch, in one self-contained HTML page.

``explore(loss, "page.html")`` draws the graph once (graphviz, as inline SVG, in
``draw_dot``'s look) and runs it in the page with the op table rendered to
JavaScript (viz/javascript.py): move an input's or a parameter's slider, or type a
number, and every value and every gradient is recomputed at once — the forward
replay and the backward sweep of the engine, row by row — and the boxes' numbers,
border colours and widths follow. Click a node (or Tab to it and press Enter) to
read its chain rule with the numbers filled in: its op, the gradient arriving at
it, and what it passes to each input through its local rules, written in the
lessons' notation by viz/notation.py; the edges that carry it light up. "step"
moves every parameter one step of gradient descent, so a learner can push a loss
down by hand.

Where an op is undefined at the new numbers (log of a negative, x / 0, overflow),
the page shows the engine's own message for it and keeps the last good numbers;
typed text that is no finite number (``abc``, ``1e400``, ``nan``, nothing) is
refused the same way, the message saying why.
``window.chaingrad`` lets scripts and tests drive the page: ``set(name, value)``,
``values()``, ``grads()``, ``select(name)``, ``step()``, ``message()``, keyed by
each node's label where it has one, else by the name the diagram shows.
"""

from __future__ import annotations

import html
import math
import re
import xml.etree.ElementTree as ET
from os import PathLike
from typing import Any, Callable, Iterable

from engine import Value, grad
from engine.autograd import check_recorded

from .animate import forward_order, output_name, output_symbol
from .arguments import check_count, check_path, check_precision, check_rankdir, check_values
from .dot import (
    FADED,
    GRAD_NEGATIVE,
    GRAD_POSITIVE,
    GRAD_WIDTH,
    GRAD_ZERO,
    HIGHLIGHT,
    NEUTRAL,
    ROLE_FILL,
    GraphTooLargeError,
    Layout,
    Look,
    columns,
    draw_boxes,
    draw_ops,
    folds_exponent,
    keep_in_order,
    new_diagram,
)
from .explain import rule_text
from .javascript import op_table, runtime
from .names import ROLES, ids_shown, is_number, node_names, role
from .notation import (
    ATOM,
    SIGN,
    Notation,
    display_number,
    local_rule,
    op_term,
    operand,
    term,
)
from .page import (
    BASE_CSS,
    HALO,
    Page,
    fill,
    halo_css,
    inline_svg,
    json_for_script,
    zoom_buttons,
    zoom_script,
)

__all__ = ["explore"]

_PLACEHOLDER = re.compile(r"\{(a|b|out)\}")


# ---- maths with numbers to fill in ------------------------------------------------------
def _templates(write: Callable[[dict[str, tuple[str, int]]], str]) -> dict[str, Any] | None:
    """Text that ``write`` makes from placeholder terms ``{a}``, ``{b}``, ``{out}``, one
    template per pattern of the numbers' shapes, since a negative number (or one
    written ×10ⁿ) needs parentheses where a plain one does not: ``1 − {out}²`` or
    ``1 − ({out})²``. ``names`` are the placeholders used; template ``k`` is for the
    pattern whose bit ``i`` says whether ``names[i]``'s number is wrapped. None when
    the text has no placeholder (it is a number already)."""
    plain = {s: (f"{{{s}}}", ATOM) for s in ("a", "b", "out")}
    first = write(plain)
    names = sorted(set(_PLACEHOLDER.findall(first)), key=("a", "b", "out").index)
    if not names:
        return None
    templates = []
    for pattern in range(2 ** len(names)):
        terms = dict(plain)
        for i, s in enumerate(names):
            if pattern >> i & 1:
                terms[s] = (f"{{{s}}}", SIGN)
        templates.append(write(terms))
    if len(set(templates)) == 1:
        templates = templates[:1]
    return {"names": names, "templates": templates}


def _formula(node: Value, names: dict[Value, str], output: Value) -> dict[str, Any]:
    """How ``node`` was made: in names (``y = tanh(x·w + b)``) and as templates for the
    same op applied to numbers (``tanh({a})``)."""
    op = node.op
    assert op is not None
    numbers = {i: v.data for i, v in enumerate(node.inputs) if is_number(v)}
    symbolic = op_term(op, [term(names[v]) for v in node.inputs], numbers)[0]
    name = output_name(output, names) if node is output else names[node]
    head = name if name == symbolic or name.endswith(f" = {symbolic}") else \
        f"{name} = {symbolic}"

    def write(terms: dict[str, tuple[str, int]]) -> str:
        return op_term(op, [terms[s] for s in "ab"[: op.arity]], numbers)[0]
    return {"text": head, "numbers": _templates(write)}


def _rules(node: Value, names: dict[Value, str]) -> list[dict[str, Any]]:
    """Each local rule ∂node/∂input of ``node``: as ``explain`` writes it over names,
    and as templates over numbers."""
    op = node.op
    assert op is not None
    slots = "ab"[: op.arity]
    known = {s: v.data for s, v in zip(slots, node.inputs) if is_number(v)}
    rules = []
    for position in range(op.arity):
        def write(terms: dict[str, tuple[str, int]], position: int = position) -> str:
            named = {s: terms[s] for s in slots if s not in known}
            return Notation({**named, "out": terms["out"]}, known).text(
                local_rule(op, position))
        rules.append({"text": rule_text(node, position, names),
                      "numbers": _templates(write)})
    return rules


# ---- the drawing ---------------------------------------------------------------------------
def _min_width(precision: int) -> str:
    """A value box's least width in inches: room for a gradient such as ``grad −0.1235``
    at the diagram's 10 points (so new numbers fit without a new layout)."""
    sample = f"grad {display_number(-0.123456789012, precision)}"
    return f"{0.2 + len(sample) * 0.078:.2f}"


def _diagram(output: Value, layout: Layout, names: dict[Value, str],
             params: set[Value] | None, grads: list[float], precision: int, rankdir: str,
             compact: bool) -> tuple[Any, dict[str, list[str]]]:
    """The graph as ``draw_dot`` draws it (its ``draw_boxes`` and ``draw_ops``), and
    the id the page gives each drawn edge, by graphviz's ``tail->head`` in drawing
    order (``e3_0``: into node 3's op from its first input; ``r3``: from node 3's op
    circle to its box)."""
    nodes = layout.nodes
    index = {node: i for i, node in enumerate(nodes)}
    look = Look.of(nodes, precision=precision, grads=grads)
    diagram = new_diagram("explore", rankdir=rankdir)
    if compact:
        diagram.attr("graph", ranksep="0.3", nodesep="0.2")
    shown = {**names, output: output_name(output, names)}
    draw_boxes(diagram, layout, shown, output, params, look, compact, dict(zip(nodes, grads)))
    width = _min_width(precision)
    for node in layout.drawn:
        if not node.is_constant:
            diagram.node(layout.ids[node], width=width)
    edges: dict[str, list[str]] = {}
    for tail, head, node, position in draw_ops(diagram, layout, look, False, compact):
        i = index[node]
        edges.setdefault(f"{tail}->{head}", []).append(
            f"r{i}" if position is None else f"e{i}_{position}")
    keep_in_order(diagram, columns(layout, output, compact))
    return diagram, edges


_TEXT = "#111827"                                   # draw_dot's text colour
_ROUNDED = re.compile(r"(\.\d)\d+")                   # coordinates to a tenth of a point


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]


def _rounded_box(path: ET.Element) -> ET.Element:
    """graphviz's rounded box (a 300-character path) as the ``rect`` it draws."""
    values = _numbers(path.get("d", ""))
    xs, ys = values[0::2], values[1::2]
    rect = ET.Element("rect", {k: v for k, v in path.attrib.items() if k != "d"})
    rect.set("x", f"{min(xs):g}")
    rect.set("y", f"{min(ys):g}")
    rect.set("width", f"{max(xs) - min(xs):g}")
    rect.set("height", f"{max(ys) - min(ys):g}")
    rect.set("rx", "6")
    rect.tail = path.tail
    return rect


def _svg(svg_bytes: bytes, edges: dict[str, list[str]]) -> tuple[str, float]:
    """graphviz's SVG for the page: each node's group and each edge's called by the
    page's ids (``v3``, ``op3``, ``e3_0``, ``r3``), value boxes drawn as ``rect``s with
    their lines tagged ``name``, ``data``, ``grad`` and centred (their numbers change),
    nodes focusable; and the drawing's height in points."""
    ns = "{http://www.w3.org/2000/svg}"
    ids = {}
    for group in ET.fromstring(svg_bytes).iter(f"{ns}g"):
        title = group.find(f"{ns}title")
        if title is None or group.get("class") not in ("node", "edge"):
            continue
        text = title.text or ""
        if group.get("class") == "node":
            ids[group.get("id")] = text
        elif edges.get(text):
            ids[group.get("id")] = edges[text].pop(0)
    root = inline_svg(svg_bytes)
    height = float(root.get("viewBox", "0 0 0 0").split()[3])
    for group in root.iter("g"):
        for title in group.findall("title"):
            group.remove(title)
        if group.get("id") not in ids:
            continue
        group.set("id", ids[group.get("id")])
        if group.get("class") != "node":
            continue
        group.set("tabindex", "0")
        group.set("role", "button")
        path = group.find("path")
        if path is None:                                 # an op circle
            continue
        at = list(group).index(path)
        group.remove(path)
        group.insert(at, _rounded_box(path))
        texts = group.findall("text")
        if len(texts) < 3:                               # a constant
            continue
        xs = _numbers(path.get("d", ""))[0::2]
        cell = group.find("polygon")                     # compact: the op's cell, at the left
        left = max(_numbers(cell.get("points", ""))[0::2]) if cell is not None else min(xs)
        for text, kind in zip(texts[-3:], ("name", "data", "grad")):
            text.set("class", kind)
            text.set("text-anchor", "middle")
            text.set("x", f"{(left + max(xs)) / 2:.1f}")
    for element in root.iter():                         # what the CSS says once, and less
        element.attrib.pop("font-family", None)
        if element.get("fill") == _TEXT and element.tag == "text":
            del element.attrib["fill"]
        if element.get("text-anchor") == "start":
            del element.attrib["text-anchor"]
        for name in ("d", "points"):
            if name in element.attrib:
                element.set(name, _ROUNDED.sub(r"\1", element.get(name)))
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = "\n" if element.tag == "g" else None
    return ET.tostring(root, encoding="unicode"), height


# ---- what the page knows -------------------------------------------------------------------
def _slider(x: float) -> dict[str, float]:
    """A slider's range for a number now at ``x``: ±R, R the first of 1, 2, 5, 10, 20 …
    at least twice |x|, in 500 steps."""
    reach = max(1.0, 2.0 * abs(x))
    power = 10.0 ** math.floor(math.log10(reach))
    bound = next(f * power for f in (1.0, 2.0, 5.0, 10.0) if f * power >= reach)
    return {"min": -bound, "max": bound, "step": bound / 500}


def _keys(nodes: list[Value], names: dict[Value, str]) -> list[str | None]:
    """The name ``window.chaingrad`` knows each node by: its label, else its diagram
    name; a later node with a name already taken gets ``#2``, ``#3`` …; plain numbers
    (the 2 of 2·x) none."""
    keys: list[str | None] = []
    taken: dict[str, int] = {}
    for node in nodes:
        if is_number(node):
            keys.append(None)
            continue
        key = node.label or names[node]
        taken[key] = taken.get(key, 0) + 1
        keys.append(key if taken[key] == 1 else f"{key}#{taken[key]}")
    return keys


class _Shared(list):
    """Templates stored once, each node naming its own by index (many nodes share one)."""

    def index_of(self, template: dict[str, Any] | None) -> int | None:
        if template is None:
            return None
        if template not in self:
            self.append(template)
        return self.index(template)


def _view(output: Value, nodes: list[Value], names: dict[Value, str], roles: list[str],
          layout: Layout, compact: bool, shared: _Shared) -> list[dict[str, Any]]:
    """What the page shows of each node, in ``order``: its name (``d``: as it stands in
    ∂…/∂…, if that differs), role, key, box and op circle, how it was made and its
    local rules (templates by index into ``shared``), folded operands, and a slider
    for an input or parameter (``slider``: its place among the sliders, inputs first,
    then parameters in layer order)."""
    out = output_symbol(output, names)
    keys = _keys(nodes, names)
    kind = dict(zip(nodes, roles))
    leaves = [n for n in forward_order(nodes) if kind[n] in ("input", "parameter")]
    leaves.sort(key=lambda n: kind[n] != "input")
    place = {node: k for k, node in enumerate(leaves)}
    view = []
    for i, node in enumerate(nodes):
        name = names[node]
        entry: dict[str, Any] = {"name": name, "role": roles[i]}
        d = out if node is output else operand(name)
        if d != name:
            entry["d"] = d
        if keys[i] != name:
            entry["key"] = keys[i]
        if node not in layout.folded:
            entry["box"] = layout.unit(node)
        if node.op is not None:
            if not compact:
                entry["circle"] = layout.op_id(node)
            formula = _formula(node, names, output)
            entry["formula"] = [formula["text"], shared.index_of(formula["numbers"])]
            entry["rules"] = [[rule["text"], shared.index_of(rule["numbers"])]
                              for rule in _rules(node, names)]
            if folds_exponent(node):
                entry["folded"] = node.op.number
        if node in place:
            entry["slider"] = {**_slider(node.data), "place": place[node]}
        view.append(entry)
    return view


def _check(output: Any, precision: Any, parameters: Any, rankdir: Any, compact: Any,
           max_nodes: Any) -> set[Value] | None:
    if not isinstance(output, Value):
        raise TypeError(f"explore: output must be a Value, got {type(output).__name__}")
    check_recorded(output, "explore")
    check_precision("explore", precision)
    check_rankdir("explore", rankdir)
    check_count("explore", "max_nodes", max_nodes, allow_none=True)
    if not isinstance(compact, bool):
        raise TypeError(f"explore: compact must be a bool, got {type(compact).__name__}")
    return check_values("explore", "parameters", parameters)


def explore(output: Value, path: str | PathLike[str] | None = None, *, precision: int = 4,
            parameters: Iterable[Value] | None = None, compact: bool = False,
            rankdir: str = "LR", max_nodes: int | None = 150) -> Page:
    """Write (when ``path`` is given) and return one HTML page in which ``output``'s
    graph runs live: sliders and number boxes for its inputs and parameters, every
    value and gradient recomputed as they move, each node's chain rule on a click,
    and a gradient-descent "step" button (see the module docstring).

    ``precision``: significant digits shown; ``parameters``: the leaves training
    changes (default: leaves labelled like nn's parameters, ``L1.N2.w3``; other
    leaves are inputs, constants are fixed); ``compact``: each op written in its
    result's box instead of a circle of its own (a network's graph a third
    narrower, as in ``draw_dot``); ``rankdir``: graphviz's direction. A graph of more
    than ``max_nodes`` values is a ``viz.GraphTooLargeError`` (None: no limit).
    The page is self-contained (inline SVG, CSS and script; nothing fetched) and
    shows inline in Jupyter. ``.grad`` fields are left untouched (gradients come
    from ``engine.grad``). Needs graphviz's ``dot`` (``viz.DotNotFoundError`` says
    how to install it)."""
    params = _check(output, precision, parameters, rankdir, compact, max_nodes)
    check_path("explore", path)
    layout = Layout.of(output)
    if max_nodes is not None and layout.count() > max_nodes:
        raise GraphTooLargeError(
            f"explore: the graph has {layout.count()} values, more than max_nodes={max_nodes}; "
            f"explore a smaller graph (one example through a small network), or pass a larger "
            f"max_nodes (None for no limit)")
    nodes = layout.nodes
    names = node_names(output)
    for node in nodes:
        if not math.isfinite(node.data):
            raise ValueError(f"explore: {names[node] or 'a node'} is {node.data!r}: the page "
                             f"works with finite numbers")
    grads = grad(output, nodes)
    index = {node: i for i, node in enumerate(nodes)}
    roles = [role(node, output, params) for node in nodes]
    diagram, edges = _diagram(output, layout, names, params, grads, precision, rankdir, compact)
    svg, height = _svg(diagram.pipe(format="svg"), edges)
    shared = _Shared()
    view = _view(output, nodes, names, roles, layout, compact, shared)
    graph = {"nodes": [{"op": node.op.name if node.op else None,
                        "inputs": [index[v] for v in node.inputs],
                        **({"label": node.label, "labelRepr": repr(node.label)}
                           if node.label else {})} for node in nodes]}
    where = ids_shown(output, " ".join(names[n] for n in layout.drawn))
    data = {"graph": graph, "view": view, "templates": shared,
            "data": [node.data for node in nodes], "precision": precision,
            "output": output_symbol(output, names), "where": where,
            "look": {"positive": GRAD_POSITIVE, "negative": GRAD_NEGATIVE, "zero": GRAD_ZERO,
                     "neutral": NEUTRAL, "faded": FADED, "width": GRAD_WIDTH}}
    rows = sorted({node.op for node in nodes if node.op is not None}, key=lambda op: op.name)
    title = f"The chain rule through {output_name(output, names)}, live"
    legend = "".join(f'<span class="swatch" style="background:{ROLE_FILL[r]}"></span>{r} '
                     for r in ROLES if r in roles)
    page = fill(_PAGE, {
        "TITLE": html.escape(title), "SVG": svg, "DATA": json_for_script(data),
        "BASE": BASE_CSS, "ZOOM_BUTTONS": zoom_buttons(keys=False),
        "ZOOM": zoom_script(grow=1.5, least=0.5, keys=False),
        "ENGINE": runtime() + op_table(rows), "LEGEND": legend,
        "HIGHLIGHT": HIGHLIGHT, "HALO": halo_css("svg.graph g.node.selected > :first-child"),
        "HALO_COLOUR": HALO,
        "ARRIVES": _ARRIVES, "GRAD_POSITIVE": GRAD_POSITIVE, "GRAD_NEGATIVE": GRAD_NEGATIVE,
        "GRAD_ZERO": GRAD_ZERO, "TEXT": _TEXT, "INPUT": ROLE_FILL["input"],
        "PARAMETER": ROLE_FILL["parameter"]})
    return Page(page, height=int(min(1400, max(640, height * 1.1 + 520)))).write(path)


_ARRIVES = "#d97706"        # the edges a selected node's gradient arrives by

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>__BASE__
  body { margin: 1rem auto; max-width: 90rem; font-size: 17px; }
  h1 { font-size: 1.45rem; margin: 0.2rem 0 0.3rem; }
  h2 { font-size: 1.1rem; font-weight: 600; margin: 0 0 0.5rem; }
  .hint { color: #475569; font-size: inherit; margin: 0 0 0.6rem; }
  .figure { padding: 0.5rem; overflow: auto; max-height: 75vh; }
  svg.graph text { font-family: Helvetica, Arial, "DejaVu Sans", sans-serif; }
  svg.graph text:not([fill]) { fill: __TEXT__; }
  svg.graph g.node { cursor: pointer; outline: none; }
  /* keyboard focus: the halo, faint (a blue glow would read as grad > 0) */
  svg.graph g.node:focus-visible > :first-child { filter: drop-shadow(0 0 3px #eab308); }
__HALO__
  svg.graph g.edge.passes path { stroke: __HIGHLIGHT__; stroke-width: 3; stroke-dasharray: none; }
  svg.graph g.edge.passes polygon { stroke: __HIGHLIGHT__; fill: __HIGHLIGHT__; }
  svg.graph g.edge.arrives path { stroke: __ARRIVES__; stroke-width: 3; stroke-dasharray: none; }
  svg.graph g.edge.arrives polygon { stroke: __ARRIVES__; fill: __ARRIVES__; }
  .bar { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; align-items: center;
         justify-content: space-between; margin-top: 0.4rem; }
  .legend, .where { color: #475569; font-size: 0.9rem; margin: 0; }
  .bar .legend { flex: 1 1 30rem; }      /* wraps its own lines, the zoom stays at the right */
  .zoom button { padding: 0.1rem 0.7rem; }
  #message { background: #fef2f2; border: 1px solid #fca5a5; color: #991b1b; border-radius: 6px;
             padding: 0.5rem 0.75rem; margin: 0.6rem 0; font-family: ui-monospace, monospace;
             font-size: 0.95rem; }
  .panels { display: grid; grid-template-columns: minmax(20rem, 2fr) 3fr; gap: 1rem;
            margin-top: 0.75rem; align-items: start; }
  @media (max-width: 900px) { .panels { grid-template-columns: 1fr; } }
  section { border: 1px solid #e2e8f0; border-radius: 8px; padding: 0.75rem 1rem; }
  #leaves { max-height: 22rem; overflow-y: auto; }
  .leaf { display: grid; grid-template-columns: 6.5rem 1fr 7.5rem; gap: 0.5rem;
          align-items: center; padding: 0.15rem 0.3rem; border-radius: 6px; }
  .leaf.selected { background: #fefce8; box-shadow: inset 0 0 0 2px __HALO_COLOUR__; }
  .halo { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #94a3b8;
          border-radius: 3px; vertical-align: -0.1em; margin: 0 0.3em 0 0.5em;
          box-shadow: 0 0 2px 2px __HALO_COLOUR__; }
  .leaf .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  input.number { font: inherit; width: 100%; box-sizing: border-box; padding: 0.1rem 0.3rem;
                       border: 1px solid #94a3b8; border-radius: 4px; }
  input.refused { border-color: #dc2626; background: #fef2f2; }
  .train { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-top: 0.7rem;
           padding-top: 0.7rem; border-top: 1px solid #e2e8f0; }
  .train input.number { width: 5.5rem; }
  button { padding: 0.25rem 1rem; border-color: #7c3aed; background: #f5f3ff; }
  #output { font-size: 1.2rem; font-weight: 600; margin: 0.5rem 0 0; }
  #history { color: #475569; margin: 0.2rem 0 0; }
  .swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #cbd5e1;
            border-radius: 3px; vertical-align: -0.1em; margin: 0 0.3em 0 0.5em; }
  .leaf .swatch { margin-left: 0; }
  #selected p { margin: 0.35rem 0; }
  .maths { font-size: 1.15rem; }
  .rule { color: #475569; margin-left: 1.5rem !important; }
  .passes-key { color: __HIGHLIGHT__; font-weight: 600; }
  .arrives-key { color: __ARRIVES__; font-weight: 600; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<p class="hint">Click a node (or Tab to it and press Enter) to read its chain rule; move a
slider or type a number and every value and gradient follows.</p>
<div class="figure">__SVG__</div>
<div class="bar">
<p class="legend">__LEGEND__ · border: <b style="color:__GRAD_POSITIVE__">blue</b> grad &gt; 0,
<b style="color:__GRAD_NEGATIVE__">red</b> grad &lt; 0, <b style="color:__GRAD_ZERO__">dashed</b>
grad = 0, thicker: larger |grad| ·
<span style="white-space: nowrap"><span class="halo"></span>selected</span></p>
__ZOOM_BUTTONS__
</div>
<p class="where" id="where" hidden></p>
<div class="panels">
<section><h2>Numbers</h2>
<div id="leaves"></div>
<div id="message" role="alert" hidden></div>
<div class="train">
  <label for="lr">learning rate</label> <input id="lr" class="number" type="text"
    inputmode="decimal" spellcheck="false" autocomplete="off" value="0.1">
  <button id="step" title="each parameter p becomes p − learning rate × its gradient">step</button>
</div>
<p id="output"></p>
<p id="history"></p>
</section>
<section id="chain" aria-live="polite"><h2 id="selected-title">Select a node</h2>
<div id="selected"><p>Each box is a value, with its data and its gradient; each circle is the
op that made it. Click one to see how its gradient is made from the gradients after it.</p>
</div>
</section>
</div>
<script>
"use strict";
__ENGINE__
const DATA = __DATA__;
const graph = DATA.graph, view = DATA.view, LOOK = DATA.look, out = DATA.output;
const last = view.length - 1;
const num = x => displayNumber(x, DATA.precision);
const factor = x => { const s = num(x); return s[0] === "−" ? "(" + s + ")" : s; };
const wrapped = s => s[0] === "−" || /[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]/.test(s);
const el = id => document.getElementById(id);
const d = i => view[i].d || view[i].name;              // a node's name inside ∂…/∂…
const key = i => view[i].key === undefined ? view[i].name : view[i].key;
const edge = (i, k) => k === view[i].folded ? null : "e" + i + "_" + k;
let leaves = DATA.data.slice(), state = null, selected = null, history = [];

// ---- numbers into viz/notation.py's maths ------------------------------------------------
function filled(which, i) {             // template number `which` with node i's numbers in
  if (which === null) return null;
  const template = DATA.templates[which], node = graph.nodes[i];
  const numbers = {out: state.values[i]}, shown = {};
  node.inputs.forEach((j, k) => { numbers["ab"[k]] = state.values[j]; });
  let pattern = 0;
  template.names.forEach((s, k) => {
    shown[s] = num(numbers[s]);
    if (wrapped(shown[s])) pattern += 1 << k;
  });
  const text = template.templates[template.templates.length > 1 ? pattern : 0];
  return text.replace(/\\{(a|b|out)\\}/g, (_, s) => shown[s]);
}
function equation(parts) {              // a = b = c, each step only if it says something new
  const kept = [];
  parts.forEach(p => { if (p !== null && p !== kept[kept.length - 1]) kept.push(p); });
  return kept.join(" = ");
}
function consumers(i) {                 // the (node, operand) pairs that use node i
  const found = [];
  graph.nodes.forEach((node, c) => node.inputs.forEach((j, k) => {
    if (j === i) found.push([c, k]);
  }));
  return found;
}
function local(c, k) {                  // ∂c/∂(its input k): by name, in numbers, its value
  const [rule, numbers] = view[c].rules[k], value = state.locals[c][k];
  const name = "∂" + d(c) + "/∂" + d(graph.nodes[c].inputs[k]);
  return {name, value, text: equation([name, rule, filled(numbers, c), num(value)])};
}

// ---- the diagram: numbers, and borders as draw_dot draws them ---------------------------
function gradColor(g) { return g > 0 ? LOOK.positive : g < 0 ? LOOK.negative : LOOK.zero; }
function gradWidth(g, largest) {        // viz.dot.grad_width, from the same numbers
  const W = LOOK.width;
  if (!g || !largest || !Number.isFinite(g) || !Number.isFinite(largest)) return W.none;
  const decades = Math.log10(Math.abs(g) / largest);
  return Math.round((W.thinnest + W.range * Math.max(0, 1 + decades / W.decades)) * 100) / 100;
}
function setText(text, content) {       // a line of a box; squeezed if it would spill out
  text.textContent = content;
  text.removeAttribute("textLength");
  const room = Number(text.parentNode.querySelector("rect").getAttribute("width")) - 8;
  if (text.getComputedTextLength() > room) {
    text.setAttribute("textLength", room);
    text.setAttribute("lengthAdjust", "spacingAndGlyphs");
  }
}
function drawNumbers() {
  const grads = state.grads, known = grads.some(g => g !== 0);
  const largest = Math.max(0, ...grads.filter((g, i) => view[i].role !== "constant")
    .filter(Number.isFinite).map(Math.abs));
  view.forEach((v, i) => {
    const box = v.box && el(v.box), gradText = box && box.querySelector("text.grad");
    if (gradText) {
      const g = grads[i], dead = known && g === 0;
      const border = known ? gradColor(g) : LOOK.neutral, shape = box.querySelector("rect");
      shape.setAttribute("stroke", border);
      shape.setAttribute("stroke-width", known ? gradWidth(g, largest) : LOOK.width.none);
      if (dead) shape.setAttribute("stroke-dasharray", "5,2");
      else shape.removeAttribute("stroke-dasharray");
      setText(box.querySelector("text.data"), "data " + num(state.values[i]));
      setText(gradText, "grad " + num(g));
      gradText.setAttribute("fill", dead ? LOOK.zero : border);
    }
    graph.nodes[i].inputs.forEach((j, k) => {     // no gradient flows where local = 0
      const line = edge(i, k) && el(edge(i, k));
      if (!line) return;
      const still = known && state.locals[i][k] === 0, colour = still ? LOOK.faded : LOOK.neutral;
      line.querySelectorAll("path, polygon").forEach(p => p.setAttribute("stroke", colour));
      line.querySelectorAll("polygon").forEach(p => p.setAttribute("fill", colour));
      line.querySelectorAll("path").forEach(p => still ? p.setAttribute("stroke-dasharray", "5,2")
                                                       : p.removeAttribute("stroke-dasharray"));
    });
  });
}

// ---- the selected node's chain rule ------------------------------------------------------
function line(text, cls) {
  const p = document.createElement("p");
  p.className = "maths" + (cls ? " " + cls : "");
  p.textContent = text;
  return p;
}
function heading(html) {
  const p = document.createElement("p");
  p.innerHTML = html;
  return p;
}
function arriving(i) {                  // ∂out/∂node: the sum over what uses the node
  const lhs = "∂" + out + "/∂" + d(i);
  if (i === last) return {text: lhs + " = 1, the seed: the output changes one for one " +
                                "with itself", rules: []};
  const uses = consumers(i);
  if (!uses.length) return {text: lhs + " = 0: nothing leads from it to " + out, rules: []};
  const symbols = [], numbers = [], rules = [];
  uses.forEach(([c, k]) => {
    const l = local(c, k);
    rules.push(l.text);
    if (c === last) {                   // ∂out/∂out = 1: the local derivative is the term
      symbols.push(uses.length > 1 ? "(" + l.name + ")" : l.name);
      numbers.push(factor(l.value));
    } else {
      symbols.push("∂" + out + "/∂" + d(c) + " · " + l.name);
      numbers.push(factor(state.grads[c]) + " × " + factor(l.value));
    }
  });
  return {text: equation([lhs, symbols.join(" + "), numbers.join(" + "), num(state.grads[i])]),
          rules};
}
function describeSelected() {
  const i = selected, v = view[i], node = graph.nodes[i], body = el("selected");
  body.replaceChildren();
  el("selected-title").textContent = v.name + " — " + (node.op === null
    ? (v.role === "input" ? "an " : "a ") + v.role : "made by " + node.op);
  body.append(line(node.op === null ? v.name + " = " + num(state.values[i])
    : equation([v.formula[0], filled(v.formula[1], i), num(state.values[i])])));
  const arrive = arriving(i);
  body.append(heading('<span class="arrives-key">arriving</span> from what uses it:'),
              line(arrive.text));
  arrive.rules.forEach(r => body.append(line(r, "rule")));
  if (node.op === null) return;
  if (state.grads[i] === 0) {
    body.append(line("Its gradient is 0, so it passes 0 to each input.", "rule"));
    return;
  }
  body.append(heading('<span class="passes-key">passed on</span> to each input: ' +
                      "the gradient here × the local derivative"));
  node.inputs.forEach((j, k) => {
    if (edge(i, k) === null) return;                 // pow's exponent: a number, no gradient
    const l = local(i, k);
    body.append(line("to " + view[j].name + ": " + equation([
      "∂" + out + "/∂" + d(i) + " · " + l.name, factor(state.grads[i]) + " × " +
      factor(l.value), num(state.grads[i] * l.value)])), line(l.text, "rule"));
  });
}
function highlight() {
  document.querySelectorAll(".selected, .passes, .arrives")
    .forEach(e => e.classList.remove("selected", "passes", "arrives"));
  if (selected === null) return;
  const v = view[selected];
  [v.box, v.circle].forEach(id => id && el(id) && el(id).classList.add("selected"));
  controls.filter(c => c.i === selected).forEach(c => c.row.classList.add("selected"));
  el("r" + selected)?.classList.add("passes");
  graph.nodes[selected].inputs.forEach((j, k) => el(edge(selected, k))?.classList.add("passes"));
  consumers(selected).forEach(([c, k]) => {
    el(edge(c, k))?.classList.add("arrives");
    el("r" + c)?.classList.add("arrives");
  });
}
function select(i) {
  selected = i;
  highlight();
  describeSelected();
}

// ---- numbers in: sliders, boxes, the step --------------------------------------------------
const controls = [];
const shortly = x => String(Number(x.toPrecision(6)));
function drawControls() {
  controls.forEach(({i, slider, box}) => {
    const x = leaves[i];
    if (x < Number(slider.min) || x > Number(slider.max)) {
      const reach = Math.max(2 * Math.abs(x), Number(slider.max));
      Object.assign(slider, {min: -reach, max: reach, step: reach / 500});
    }
    slider.value = x;
    if (document.activeElement !== box) box.value = shortly(x);
    box.classList.remove("refused");
  });
  el("output").textContent = view[last].name + " = " + num(state.values[last]);
  el("history").textContent = history.length > 1 ? "after " + (history.length - 1) +
    " step" + (history.length > 2 ? "s" : "") + ": " + history.slice(-6).map(num).join(" → ") : "";
}
function show() {
  drawNumbers();
  drawControls();
  if (selected !== null) describeSelected();
}
function say(text) {                    // a refusal, shown above the numbers
  el("message").textContent = text;
  el("message").hidden = false;
}
const DECIMAL = /^[+-]?(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?$/i;
function typed(text) {                  // a box's text as a finite number, or why it is none
  const t = text.trim().replace(/−/g, "-");
  if (t === "") return {why: "the box is empty: type a number"};
  if (/^[+-]?(inf(inity)?|nan)$/i.test(t)) return {why: t + " is not a finite number"};
  if (!DECIMAL.test(t)) return {why: JSON.stringify(text.trim()) + " is not a number"};
  const x = Number(t);
  if (!Number.isFinite(x)) return {why: t + " is too large for a float (it overflows to inf)"};
  return {x};
}
function attempt(next) {                // recompute at new leaf values, or keep the last good
  try {
    state = compute(graph, next);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    say(error.message);
    return false;
  }
  leaves = next;
  el("message").hidden = true;
  el("message").textContent = "";
  show();
  return true;
}
function setLeaf(i, x) {                // a number moved by hand: the steps' record restarts
  const next = leaves.slice();
  next[i] = x;
  if (!attempt(next)) return false;
  history = [];
  drawControls();
  return true;
}
function enter(i, x) {                  // a number for leaf i, as if typed: refused, it shows
  if (setLeaf(i, x)) return true;
  const {box} = controls.find(c => c.i === i);
  box.value = shortly(x);
  box.classList.add("refused");
  return false;
}
function step() {                       // one step of gradient descent on the parameters
  const {x: rate, why} = typed(el("lr").value);
  if (why) {
    el("lr").classList.add("refused");
    say("learning rate: " + why + "; no step taken");
    return false;
  }
  el("lr").classList.remove("refused");
  const next = leaves.slice(), before = state.values[last];
  view.forEach((v, i) => {
    if (v.role === "parameter") next[i] = leaves[i] - rate * state.grads[i];
  });
  const done = attempt(next);
  if (done) {
    if (!history.length) history.push(before);
    history.push(state.values[last]);
    drawControls();
  }
  return done;
}
view.map((v, i) => [v, i]).filter(([v]) => v.slider)
  .sort(([a], [b]) => a.slider.place - b.slider.place).forEach(([v, i]) => {
    const row = document.createElement("div"), name = document.createElement("span");
    row.className = "leaf";
    name.className = "name";
    name.title = v.name + ", " + (v.role === "input" ? "an input" : "a parameter");
    name.innerHTML = '<span class="swatch"></span>';
    name.firstChild.style.background = v.role === "input" ? "__INPUT__" : "__PARAMETER__";
    name.append(v.name);
    const slider = document.createElement("input"), box = document.createElement("input");
    Object.assign(slider, {type: "range", min: v.slider.min, max: v.slider.max,
                           step: v.slider.step});
    Object.assign(box, {type: "text", inputMode: "decimal", className: "number",
                        spellcheck: false, autocomplete: "off"});
    slider.setAttribute("aria-label", v.name + " (" + v.role + ")");
    box.setAttribute("aria-label", v.name + ", as a number");
    slider.dataset.key = box.dataset.key = key(i);
    slider.addEventListener("input", () => enter(i, Number(slider.value)));
    box.addEventListener("input", () => {  // typed: a number recomputes, else it says why
      const {x, why} = typed(box.value);
      if (why) say(v.name + ": " + why + "; the page keeps " + v.name + " = " + num(leaves[i]));
      if (why || !setLeaf(i, x)) box.classList.add("refused");
    });
    row.append(name, slider, box);
    el("leaves").append(row);
    controls.push({i, slider, box, row});
  });
if (!view.some(v => v.role === "parameter")) {
  el("step").disabled = true;
  el("step").title = "no parameters to train: pass explore(..., parameters=[...])";
}
el("step").addEventListener("click", step);
if (Object.keys(DATA.where).length) {
  el("where").textContent = "where " + Object.entries(DATA.where)
    .map(([k, t]) => k + " = " + t).join("  ·  ");
  el("where").hidden = false;
}
view.forEach((v, i) => [v.box, v.circle].forEach(id => {
  const g = id && el(id);
  if (!g || g.dataset.node) return;
  g.dataset.node = i;
  g.setAttribute("aria-label", v.name + (id === v.circle ? ", its op" : ""));
  g.addEventListener("click", () => select(i));
  g.addEventListener("keydown", ev => {
    if (ev.key === "Enter" || ev.key === " ") { select(i); ev.preventDefault(); }
  });
}));
// The fit: up to 1.5 times the drawn size for a projector, in at most 55 % of the
// window's height (the numbers and the chain rule below need the rest).
const room = () => 0.55 * window.innerHeight;
__ZOOM__
const byKey = {};
view.forEach((v, i) => { if (key(i) !== null) byKey[key(i)] = i; });
function keyed(list) {
  const result = {};
  view.forEach((v, i) => { if (key(i) !== null) result[key(i)] = list[i]; });
  return result;
}
function find(name, who) {
  if (!(name in byKey)) throw new Error("chaingrad." + who + ": no node " +
    JSON.stringify(name) + "; the nodes are " + Object.keys(byKey).join(", "));
  return byKey[name];
}
window.chaingrad = {
  set(name, value) {                    // as if typed into its box: true if recomputed
    const i = find(name, "set");
    if (!view[i].slider) throw new Error("chaingrad.set: " + name + " is not an input or " +
                                         "a parameter (only those can be set)");
    if (typeof value !== "number" || !Number.isFinite(value))
      throw new Error("chaingrad.set: the value must be a finite number, got " + value);
    return enter(i, value);
  },
  values() { return keyed(state.values); },
  grads() { return keyed(state.grads); },
  select(name) { select(find(name, "select")); },
  step,
  message() { return el("message").textContent; },
};
if (!attempt(leaves)) {                 // refused as given (a gradient overflows): shown as is
  state = {values: leaves, locals: leaves.map(() => []), grads: leaves.map(() => 0)};
  show();
}
setZoom(0);
</script>
</body>
</html>
"""
