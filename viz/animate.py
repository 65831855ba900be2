"""A backward pass you can step through: one self-contained HTML page.

``animate_backward(output, "backprop.html")`` draws ``output``'s graph once (with
graphviz's ``dot``, as inline SVG) and adds a few lines of JavaScript that step
through it: first the forward pass, level by level from the inputs, each value
appearing as it is computed; then the backward pass, level by level from the output,
the gradient arriving at each node with the chain-rule sum that produced it — the
δ wave crossing the figure as in the lessons' pictures. Prev/next buttons, a
slider, a play button, zoom buttons and the arrow keys move between frames. The
page needs no network (no external script, style or font), and shows inline in
Jupyter (the returned ``str`` has ``_repr_html_``).

Frames (see :func:`frames`): one per node going forward, one per node going
backward, except constants (a number, or a target, is known from the start and
has no gradient anyone asks for). So a graph of N nodes, C of them constants, has
``2·(N − C)`` frames. Going forward, an op node comes after its inputs and a
leaf just before the level that first uses it (the first layer's weights before
the second's); going backward, a node comes after every node between it and the
output.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from os import PathLike
from typing import Any

from engine import Value, grad, order

from .arguments import check_path, check_precision, check_rankdir
from .dot import GRAD_NEGATIVE, GRAD_POSITIVE, GRAD_ZERO, HIGHLIGHT, ROLE_FILL, new_diagram
from .explain import rule_text
from .names import ids_shown, is_number, node_names, role
from .notation import (
    SUM,
    display_number,
    number_operand,
    op_term,
    operand,
    term,
)
from .page import (
    BASE_CSS,
    PLAYER_CSS,
    Page,
    fill,
    halo_css,
    inline_svg,
    json_for_script,
    player_controls,
    player_script,
    zoom_script,
)

__all__ = ["Frame", "frames", "animate_backward"]

_FORWARD_COLOUR = "#ea580c"     # the edges a value is computed along
_BACKWARD_COLOUR = HIGHLIGHT    # the edges a gradient goes back along: not a gradient's red


@dataclass(frozen=True)
class Frame:
    """One step of the animation.

    ``phase`` is ``"forward"`` or ``"backward"``; ``node`` is the index, in
    ``order(output)``, of the node this step computes (its value going forward,
    its gradient going backward); ``caption`` says how, in plain text."""

    phase: str
    node: int
    caption: str
    detail: str = ""


def _signed(x: float, precision: int) -> str:
    """A number as a factor in a product: negative numbers in parentheses."""
    return number_operand(display_number(x, precision))


def _op_text(node: Value, names: dict[Value, str], use_values: bool, precision: int) -> str:
    """``node``'s op applied to its inputs, by name (``x·w``, as node names write it)
    or by value (``0.5 × 2``, the op's symbol between numbers; ``−(0.5)``, ``σ(−0.3)``)."""
    op = node.op
    assert op is not None
    if not use_values:
        numbers = {i: v.data for i, v in enumerate(node.inputs) if is_number(v)}
        return op_term(op, [term(names[v]) for v in node.inputs], numbers)[0]
    if op.arity == 2:
        left, right = (_signed(v.data, precision) for v in node.inputs)
        return f"{left} {op.symbol} {right}"
    # one input: as a sum-like term, so a sign op shows its operand in parentheses
    return op_term(op, [(display_number(node.inputs[0].data, precision), SUM)])[0]


def output_symbol(output: Value, names: dict[Value, str]) -> str:
    """What to call the output inside ∂/∂: its own name when short, else y (or L)."""
    if output.label and len(names[output]) <= 6:
        return names[output]
    taken = set(names.values())
    return next(s for s in ("y", "L", "out", "f") if s not in taken)


def output_name(output: Value, names: dict[Value, str]) -> str:
    """The output as its node shows it: its name, or ``y = x·w + b`` for an
    unlabelled output (``y`` alone when its name is a short id such as ``v4``)."""
    name = names[output]
    if output.label:
        return name
    out = output_symbol(output, names)
    return out if _is_alias(output, name) else f"{out} = {name}"


def forward_order(nodes: list[Value]) -> list[Value]:
    """The forward pass in layer order: each op node at its level (the longest way up
    from a leaf), each leaf just before the first level that uses it, after the op
    nodes of its own level (a⁽¹⁾ before W⁽²⁾); ties keep the engine's ``order``.
    Constants are left out (they are known from the start)."""
    level: dict[Value, int] = {}
    for node in nodes:                                     # inputs before outputs
        if node.op is not None:
            level[node] = 1 + max((level.get(c, 0) for c in node.inputs), default=0)
    for node in reversed(nodes):                           # consumers before inputs
        for child in node.inputs:
            if child.op is None:
                level[child] = min(level.get(child, level[node]), level[node] - 1)
    for node in nodes:
        level.setdefault(node, 0)                          # a lone leaf (the output itself)
    position = {node: i for i, node in enumerate(nodes)}
    shown = [n for n in nodes if not n.is_constant]
    return sorted(shown, key=lambda n: (level[n], n.op is None, position[n]))


def backward_order(nodes: list[Value], output: Value) -> list[Value]:
    """The backward pass level by level from the output: a node after every node
    between it and the output (the longest way down from the output); ties keep the
    engine's reversed ``order``. Constants are left out."""
    depth: dict[Value, int] = {output: 0}
    for node in reversed(nodes):                           # consumers before inputs
        if node in depth:
            for child in node.inputs:
                depth[child] = max(depth.get(child, 0), depth[node] + 1)
    position = {node: i for i, node in enumerate(nodes)}
    shown = [n for n in nodes if not n.is_constant and n in depth]
    return sorted(shown, key=lambda n: (depth[n], -position[n]))


def frames(output: Value, precision: int = 4) -> list[Frame]:
    """The animation's steps for ``output``'s graph: forward in layer order from the
    inputs, then backward level by level from the output, skipping constants (see
    the module docstring).

    Gradients come from ``engine.grad``, so ``.grad`` fields are left untouched."""
    if not isinstance(output, Value):
        raise TypeError(f"frames: output must be a Value, got {type(output).__name__}")
    nodes = order(output)
    return _frames(output, nodes, node_names(output), grad(output, nodes), precision)


def _frames(output: Value, nodes: list[Value], names: dict[Value, str],
            grads: list[float], precision: int) -> list[Frame]:
    index = {node: i for i, node in enumerate(nodes)}
    gradient = dict(zip(nodes, grads))
    num = lambda x: display_number(x, precision)          # noqa: E731
    result = []
    for node in forward_order(nodes):
        i = index[node]
        name = names[node]
        if node.op is None:
            kind = role(node, output)
            article = "an" if kind == "input" else "a"
            result.append(Frame("forward", i, f"{name} = {num(node.data)}  ({article} {kind}, "
                                              f"given)"))
            continue
        symbolic = _op_text(node, names, use_values=False, precision=precision)
        numeric = _op_text(node, names, use_values=True, precision=precision)
        head = f"{name} = {symbolic}" if _is_alias(node, name) else name
        if node is output and not output.label:
            head = f"{output_symbol(output, names)} = {symbolic}"
        result.append(Frame("forward", i, f"{head} = {numeric} = {num(node.data)}"))

    consumers: dict[Value, list[tuple[Value, int]]] = {node: [] for node in nodes}
    for node in nodes:
        for slot, child in enumerate(node.inputs):
            consumers[child].append((node, slot))
    out = output_symbol(output, names)
    for node in backward_order(nodes, output):
        i = index[node]
        name = out if node is output else operand(names[node])
        lhs = f"∂{out}/∂{name}"
        if node is output:
            result.append(Frame("backward", i, f"{lhs} = 1  (the seed: the output "
                                               f"changes one for one with itself)"))
            continue
        symbols, numbers, rules = [], [], []
        for consumer, slot in consumers[node]:
            local = consumer.local_grads[slot]
            c = out if consumer is output else operand(names[consumer])
            rule = rule_text(consumer, slot, names, out=out if consumer is output else None,
                             branch=True)
            if consumer is output:          # ∂y/∂y = 1: the local gradient is the term
                symbols.append(operand(rule) if len(consumers[node]) > 1 else rule)
                numbers.append(_signed(local, precision))
            else:
                symbols.append(f"∂{out}/∂{c} · ∂{c}/∂{name}")
                numbers.append(f"{_signed(gradient[consumer], precision)} × "
                               f"{_signed(local, precision)}")
            shown = f" = {rule}" if rule.replace("-", "−") != num(local) else ""
            rules.append(f"∂{c}/∂{name}{shown} = {num(local)}")
        caption = lhs
        if [symbol.replace("-", "−") for symbol in symbols] != [num(gradient[node])]:
            caption += f" = {' + '.join(symbols)}"
        if numbers != [num(gradient[node])] and numbers != [_signed(gradient[node], precision)]:
            caption += f" = {' + '.join(numbers)}"
        caption += f" = {num(gradient[node])}"
        detail = ("local gradient" + ("s" if len(rules) > 1 else "") + " from the op table: "
                  + ";  ".join(rules))
        result.append(Frame("backward", i, caption, detail))
    return result


def _is_alias(node: Value, name: str) -> bool:
    """Whether ``name`` hides how the node was made (a label, or a short id ``v3``)
    rather than spelling it out (``x·w + b``)."""
    return bool(node.label) or re.fullmatch(r"v\d+", name) is not None


# ---- the drawing ------------------------------------------------------------------------
def _diagram(output: Value, nodes: list[Value], names: dict[Value, str],
             grads: list[float], precision: int, rankdir: str) -> Any:
    """The graph as a graphviz.Digraph with every value and gradient filled in (so
    each box is laid out wide enough); the page hides what is not yet computed."""
    dot = new_diagram("backward", rankdir=rankdir)
    dot.attr("node", fontsize="14")                 # legible when projected
    index = {node: i for i, node in enumerate(nodes)}
    for i, (node, g) in enumerate(zip(nodes, grads)):
        if is_number(node):
            lines = [names[node]]                  # a number: its name is its value
        elif node.is_constant:                     # named data (a target): no gradient
            lines = [names[node], f"data {display_number(node.data, precision)}"]
        else:
            name = output_name(output, names) if node is output else names[node]
            lines = [name, f"data {display_number(node.data, precision)}",
                     f"grad {display_number(g, precision)}"]
        dot.node(f"n{i}", "\n".join(lines), id=f"n{i}", shape="box", style="rounded,filled",
                 fillcolor=ROLE_FILL[role(node, output)], color="#334155")
        if node.op is not None:
            dot.node(f"op{i}", node.op.symbol, id=f"op{i}", shape="circle", width="0.5",
                     fixedsize="true", fontsize="12" if len(node.op.symbol) > 2 else "15",
                     style="filled", fillcolor="#f8fafc", color="#94a3b8")
            dot.edge(f"op{i}", f"n{i}", id=f"o{i}")
            for slot, child in enumerate(node.inputs):
                dot.edge(f"n{index[child]}", f"op{i}", id=f"e{index[child]}_{i}_{slot}")
    return dot


def _svg_for_page(svg_bytes: bytes) -> str:
    """graphviz's SVG as inline HTML (see ``page.inline_svg``), with each value box's
    text lines tagged so the script can fill them in."""
    root = inline_svg(svg_bytes)
    for group in root.iter("g"):
        gid = group.get("id", "")
        if group.get("class") == "node" and gid.startswith("n"):
            texts = group.findall("text")
            for text, kind in zip(texts, ("name", "data", "grad")):
                text.set("class", kind)
                text.set("data-full", text.text or "")
                if kind == "grad":
                    text.set("data-sign", _sign(text.text or ""))
    return ET.tostring(root, encoding="unicode")


def _sign(grad_line: str) -> str:
    """'pos', 'neg' or 'zero' for a "grad …" line: gradients wear draw_dot's colours."""
    number = grad_line.removeprefix("grad").strip()
    if number.startswith(("−", "-")):
        return "neg"
    return "zero" if number in ("0", "") else "pos"


def animate_backward(output: Value, path: str | PathLike[str] | None = None, *,
                     title: str | None = None, precision: int = 4,
                     rankdir: str = "LR") -> Page:
    """Write (when ``path`` is given) and return one HTML page that steps through
    ``output``'s forward values and then its backward pass, node by node.

    The page is self-contained (inline SVG, CSS and script; nothing fetched) and
    works offline; the result is a ``str`` that Jupyter shows inline. Frames are
    defined by :func:`frames`. Needs graphviz's ``dot`` (raises
    ``viz.DotNotFoundError``, saying how to install it, if it is missing)."""
    if not isinstance(output, Value):
        raise TypeError(f"animate_backward: output must be a Value, got {type(output).__name__}")
    check_rankdir("animate_backward", rankdir)
    check_precision("animate_backward", precision)
    check_path("animate_backward", path)
    nodes = order(output)
    names = node_names(output)
    grads = grad(output, nodes)
    steps = _frames(output, nodes, names, grads, precision)
    svg = _svg_for_page(_diagram(output, nodes, names, grads, precision, rankdir)
                        .pipe(format="svg"))
    edges_in: list[list[str]] = [[] for _ in nodes]   # drawn edges that make node i
    edges_out: list[list[str]] = [[] for _ in nodes]  # drawn edges gradient leaves i by
    index = {node: i for i, node in enumerate(nodes)}
    for i, node in enumerate(nodes):
        if node.op is not None:
            edges_in[i].append(f"o{i}")
            for slot, child in enumerate(node.inputs):
                edge = f"e{index[child]}_{i}_{slot}"
                edges_in[i].append(edge)
                edges_out[index[child]].append(edge)
                edges_out[index[child]].append(f"o{i}")
    data = {
        "frames": [{"phase": f.phase, "node": f.node, "caption": f.caption,
                    "detail": f.detail} for f in steps],
        "hasOp": [node.op is not None for node in nodes],
        "edgesIn": edges_in,
        "edgesOut": edges_out,
        "forwardCount": len(nodes),
    }
    heading = title if title is not None else (
        f"Backpropagation through {output_name(output, names)} = "
        f"{display_number(output.data, precision)}")
    where = ids_shown(output, " ".join([heading, *names.values()]))
    page = fill(_PAGE, {
        "WHERE": "".join(f'<p class="where">where {html.escape(f"{name} = {term}")}</p>'
                         for name, term in where.items()),
        "TITLE": html.escape(heading), "SVG": svg, "DATA": json_for_script(data),
        "BASE": BASE_CSS, "PLAYER": PLAYER_CSS, "CONTROLS": player_controls("frame", "step"),
        "PLAY": player_script(len(steps), "frame", "step", 1100),
        "ZOOM": zoom_script(grow=2, least=0.5), "NODES": str(len(nodes)),
        "FORWARD": _FORWARD_COLOUR, "HALO": halo_css(
            ", ".join(f"svg.graph .node.now-{phase} > {shape}" for phase in ("forward", "backward")
                      for shape in ("path", "polygon", "ellipse"))),
        "BACKWARD": _BACKWARD_COLOUR,
        "GRAD_POSITIVE": GRAD_POSITIVE, "GRAD_NEGATIVE": GRAD_NEGATIVE, "GRAD_ZERO": GRAD_ZERO})
    return Page(page).write(path)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>__BASE__
__PLAYER__
  body { margin: 1.5rem auto; max-width: 80rem; font-size: 18px; }
  h1 { font-size: 1.5rem; }
  .figure { padding: 0.75rem; overflow-x: auto; }
  #step { min-width: 11rem; font-variant-numeric: tabular-nums; }
  #phase { font-weight: 600; }
  #phase.forward { color: __FORWARD__; } #phase.backward { color: __BACKWARD__; }
  #caption { font-size: 1.4rem; min-height: 1.6em; }
  #detail { color: #475569; font-size: 1.05rem; min-height: 1.3em; }
  .where { color: #334155; margin: 0.2rem 0; }
  svg.graph .node text.grad[data-sign="pos"] { fill: __GRAD_POSITIVE__; }
  svg.graph .node text.grad[data-sign="neg"] { fill: __GRAD_NEGATIVE__; }
  svg.graph .node text.grad[data-sign="zero"] { fill: __GRAD_ZERO__; }
  svg.graph .node text.data.pending, svg.graph .node text.grad.pending[data-sign] { fill: #94a3b8; }
  svg.graph .node.waiting path, svg.graph .node.waiting polygon,
  svg.graph .node.waiting ellipse { stroke-dasharray: 4 3; opacity: 0.65; }
__HALO__
  svg.graph .edge.flow-forward path { stroke: __FORWARD__; stroke-width: 2.5; }
  svg.graph .edge.flow-forward polygon { stroke: __FORWARD__; fill: __FORWARD__; }
  svg.graph .edge.flow-backward path { stroke: __BACKWARD__; stroke-width: 2.5;
           stroke-dasharray: 6 3; }
  svg.graph .edge.flow-backward polygon { stroke: __BACKWARD__; fill: __BACKWARD__; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<div class="figure">__SVG__</div>
__CONTROLS__
<p><span id="phase"></span> <span id="caption" class="maths"></span></p>
<p id="detail"></p>
__WHERE__
<p class="hint">__NODES__ nodes: first the forward pass computes each value in
topological order (inputs first); then the backward pass hands each node its gradient,
the sum over the arrows leaving it of (gradient there) × (local gradient), from the
output back to the inputs. The node at work wears a yellow halo; the arrows it is computed
along are orange, those its gradient goes back along purple and dashed. Keys: ← → step,
Home/End jump, space plays, + − 0 zoom.</p>
<script>
"use strict";
const DATA = __DATA__;
const frames = DATA.frames;
const byNode = [];              // node i -> [frame it gets its value, frame it gets its grad]
frames.forEach((f, k) => {
  byNode[f.node] = byNode[f.node] || [Infinity, Infinity];
  byNode[f.node][f.phase === "forward" ? 0 : 1] = k;
});
function texts(i, kind) {
  const g = document.getElementById("n" + i);
  return g ? g.querySelectorAll("text." + kind) : [];
}
function setText(i, kind, shown) {
  texts(i, kind).forEach(t => {
    const full = t.getAttribute("data-full");
    t.textContent = shown ? full : full.replace(/ .*$/, " ?");
    t.classList.toggle("pending", !shown);
  });
}
function mark(id, cls, on) {
  const el = document.getElementById(id);
  if (el) el.classList.toggle(cls, on);
}
function draw(k) {              // frame k on the figure and in the captions
  const f = frames[k];
  byNode.forEach((at, i) => {
    const valued = at[0] <= k, graded = at[1] <= k;
    setText(i, "data", valued);
    setText(i, "grad", graded);
    const now = i === f.node;
    mark("n" + i, "waiting", !valued);
    mark("n" + i, "now-forward", now && f.phase === "forward");
    mark("n" + i, "now-backward", now && f.phase === "backward");
    if (DATA.hasOp[i]) {
      mark("op" + i, "waiting", !valued);
      mark("op" + i, "now-forward", now && f.phase === "forward");
    }
  });
  document.querySelectorAll("svg.graph .edge").forEach(e => {
    e.classList.remove("flow-forward", "flow-backward");
  });
  const flowing = f.phase === "forward" ? DATA.edgesIn[f.node] : DATA.edgesOut[f.node];
  flowing.forEach(id => mark(id, "flow-" + f.phase, true));
  const phase = document.getElementById("phase");
  phase.textContent = f.phase === "forward" ? "forward:" : "backward:";
  phase.className = f.phase;
  document.getElementById("caption").textContent = f.caption;
  document.getElementById("detail").textContent = f.detail;
}
__PLAY__
// The fit: up to twice the drawn size for a projector, no taller than leaves the
// caption below in view.
function room(svg) {
  const top = svg.getBoundingClientRect().top + window.scrollY;
  const below = document.getElementById("detail").getBoundingClientRect().bottom -
    svg.getBoundingClientRect().bottom;
  return window.innerHeight - top - below - 12;
}
__ZOOM__
show(0);
setZoom(0);
</script>
</body>
</html>
"""
