"""``animate_network``: backpropagation through an MLP, one layer per step.

The lessons' widget: on the ``draw_network`` figure, the forward pass one layer per
step (a⁽ˡ⁾ appears under each neuron), then the loss, then the δ of one layer per
step with the recurrence written out with its numbers,

    δ⁽ᴸ⁾ = ∂L/∂ŷ ⊙ ψ′(z⁽ᴸ⁾),   δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾),

then the weight gradients ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ and ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾ of each layer as
a table. A network of D layers is 2·D + 1 layer-steps (D forward, the loss, D
backward) and D gradient steps, after a first step that shows the input: a 3-4-3-1
network is 11 steps, not the hundreds of node frames of ``animate_backward``.

Every number comes from the engine (``engine.grad``, so no ``.grad`` is touched);
the figure is ``draw_network``'s, drawn once by graphviz, its values revealed step
by step by a few lines of script. One self-contained offline page, inline in
Jupyter, with prev/next buttons, a slider, play and the arrow keys.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from engine import Value, grad, order
from nn.losses import as_loss

from .arguments import check_path, check_precision, check_rankdir
from .explain import explain
from .names import lesson_name
from .network import network_diagram
from .notation import (
    activation_symbol,
    display_number,
    number_operand,
    subscript,
    superscript,
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

__all__ = ["Step", "animate_network", "network_steps"]

@dataclass
class Step:
    """One step of the stepper.

    ``phase``: ``"input"``, ``"forward"``, ``"loss"``, ``"backward"`` or
    ``"gradient"``; ``layer``: the layer it is about (0 for the input, D + 1 for
    the loss); ``title`` and ``formula`` say what is computed, ``lines`` how, with
    numbers; ``table`` (gradient steps) is ∂L/∂W⁽ˡ⁾ as a header row and rows.
    ``shown`` says what the figure shows by now: activations up to layer
    ``shown["a"]``, the loss when ``shown["loss"]``, δ from layer ``shown["delta"]``
    on (D + 1: none yet)."""

    phase: str
    layer: int
    title: str
    formula: str
    lines: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    shown: dict[str, Any] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)


def _sup(layer: int) -> str:
    return f"⁽{superscript(layer)}⁾"


def _layers(model: Any, who: str) -> list[Any]:
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)) or not layers or not all(
            getattr(layer, "neurons", None) for layer in layers):
        raise TypeError(f"{who}: model must be an nn.MLP (with .layers of .neurons), "
                        f"got {type(model).__name__}")
    if any(getattr(layer, "residual", False) for layer in layers):
        raise ValueError(f"{who}: residual layers add a skip path to the recurrence "
                         f"δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾) this page writes out; "
                         f"use animate_backward(loss) for them")
    return list(layers)


class _Writer:
    """Writes the steps of one example through one model, from the engine's numbers."""

    def __init__(self, layers: list[Any], inputs: list[Value], loss: Value,
                 gradients: dict[Value, float], precision: int) -> None:
        self.layers, self.inputs, self.loss = layers, inputs, loss
        self.g, self.precision = gradients, precision
        self.depth = len(layers)

    def num(self, x: float) -> str:
        return display_number(x, self.precision)

    def factor(self, x: float) -> str:
        return number_operand(self.num(x))

    def name(self, layer: int, j: int) -> str:
        """a⁽ˡ⁾ⱼ, x_j for layer 0, ŷ (ŷⱼ) at the output."""
        if layer == 0:
            return f"x{subscript(j)}"
        if layer == self.depth:
            return "ŷ" if len(self.layers[-1].neurons) == 1 else f"ŷ{subscript(j)}"
        return f"a{subscript(j)}{_sup(layer)}"

    def activations(self, layer: int) -> list[float]:
        if layer == 0:
            return [x.data for x in self.inputs]
        return [n.a.data for n in self.layers[layer - 1].neurons]

    def prime(self, neuron: Any) -> float:
        """f′(z) of a neuron: its activation's local derivative (1 for a linear one)."""
        return 1.0 if neuron.a is neuron.z else neuron.a.local_grads[0]

    def symbol(self, layer: int) -> str:
        activation = self.layers[layer - 1].neurons[0].activation
        return activation_symbol(activation, linear="identity")

    # ---- the steps ----------------------------------------------------------------------
    def steps(self) -> list[Step]:
        d = self.depth
        steps = [self.input_step()]
        steps += [self.forward_step(layer) for layer in range(1, d + 1)]
        steps.append(self.loss_step())
        steps += [self.backward_step(layer) for layer in range(d, 0, -1)]
        steps += [self.gradient_step(layer) for layer in range(d, 0, -1)]
        return steps

    def input_step(self) -> Step:
        values = ", ".join(self.num(v) for v in self.activations(0))
        return Step("input", 0, "The input", f"a⁽⁰⁾ = x = ({values})",
                    [f"{self.name(0, k)} = {self.num(v)}"
                     for k, v in enumerate(self.activations(0), 1)],
                    shown={"a": 0, "loss": False, "delta": self.depth + 1},
                    nodes=[f"x{k}" for k in range(1, len(self.inputs) + 1)])

    def forward_step(self, layer: int) -> Step:
        d = self.depth
        f = "ψ" if layer == d else "φ"
        out = "ŷ" if layer == d else f"a{_sup(layer)}"
        formula = (f"{out} = {f}(z{_sup(layer)}),  z{_sup(layer)} = W{_sup(layer)} "
                   f"a{_sup(layer - 1)} + b{_sup(layer)},  {f} = {self.symbol(layer)}")
        previous = self.activations(layer - 1)
        lines = []
        for j, neuron in enumerate(self.layers[layer - 1].neurons, 1):
            terms = [f"{self.factor(w.data)} × {self.factor(a)}"
                     for w, a in zip(neuron.w, previous)]
            z_name = f"z{subscript(j)}{_sup(layer)}"
            sums = " + ".join(terms + [self.factor(neuron.b.data)])
            lines.append(f"{z_name} = {sums} = {self.num(neuron.z.data)},   "
                         f"{self.name(layer, j)} = {self.symbol(layer)}({z_name}) = "
                         f"{self.num(neuron.a.data)}")
        title = "Forward: the output layer" if layer == d else f"Forward: layer {layer}"
        return Step("forward", layer, title, formula, lines,
                    shown={"a": layer, "loss": False, "delta": d + 1},
                    nodes=self.node_ids(layer), edges=self.edges_into(layer))

    def loss_step(self) -> Step:
        d = self.depth
        outputs = [n.a for n in self.layers[-1].neurons]
        lines = []
        for j, y_hat in enumerate(outputs, 1):
            why = explain(self.loss, y_hat, precision=self.precision)
            rules = [f.rule for path in why.paths for f in path.factors if f.rule != "1"]
            rule = "·".join(rules) if len(why.paths) == 1 and rules else ""
            shown = f" = {rule}" if rule and rule != self.num(why.total) else ""
            lines.append(f"∂L/∂{self.name(d, j)}{shown} = {self.num(self.g[y_hat])}")
        name = lesson_name(self.loss.label) or self.loss.label or "L"
        return Step("loss", d + 1, "The loss", f"{name} = {self.num(self.loss.data)}", lines,
                    shown={"a": d, "loss": True, "delta": d + 1}, nodes=["loss"],
                    edges=[f"to_loss_L{d}N{j}" for j in range(1, len(outputs) + 1)])

    def backward_step(self, layer: int) -> Step:
        d = self.depth
        neurons = self.layers[layer - 1].neurons
        lines = []
        if layer == d:
            formula = f"δ{_sup(d)} = ∂L/∂ŷ ⊙ ψ′(z{_sup(d)})"
            for j, neuron in enumerate(neurons, 1):
                lines.append(f"δ{subscript(j)}{_sup(d)} = ∂L/∂{self.name(d, j)} · "
                             f"ψ′(z{subscript(j)}{_sup(d)}) = {self.factor(self.g[neuron.a])} × "
                             f"{self.factor(self.prime(neuron))} = {self.num(self.g[neuron.z])}")
            edges = [f"to_loss_L{d}N{j}" for j in range(1, len(neurons) + 1)]
        else:
            up = self.layers[layer].neurons
            formula = (f"δ{_sup(layer)} = (W{_sup(layer + 1)}ᵀ δ{_sup(layer + 1)}) ⊙ "
                       f"φ′(z{_sup(layer)})")
            for j, neuron in enumerate(neurons, 1):
                symbols = " + ".join(f"w{subscript(k)}{subscript(j)}{_sup(layer + 1)}·"
                                     f"δ{subscript(k)}{_sup(layer + 1)}"
                                     for k in range(1, len(up) + 1))
                numbers = " + ".join(
                    f"{self.factor(u.w[j - 1].data)} × {self.factor(self.g[u.z])}" for u in up)
                lines.append(f"δ{subscript(j)}{_sup(layer)} = ({symbols}) · "
                             f"φ′(z{subscript(j)}{_sup(layer)}) = ({numbers}) × "
                             f"{self.factor(self.prime(neuron))} = {self.num(self.g[neuron.z])}")
            edges = [f"w_L{layer + 1}N{k}_{j}" for k in range(1, len(up) + 1)
                     for j in range(1, len(neurons) + 1)]
        title = "Backward: the output layer" if layer == d else f"Backward: layer {layer}"
        return Step("backward", layer, title, formula, lines,
                    shown={"a": d, "loss": True, "delta": layer},
                    nodes=self.node_ids(layer), edges=edges)

    def gradient_step(self, layer: int) -> Step:
        neurons = self.layers[layer - 1].neurons
        previous = self.activations(layer - 1)
        head = [""] + [f"{self.name(layer - 1, k)} = {self.num(a)}"
                       for k, a in enumerate(previous, 1)] + ["∂L/∂b = δ"]
        rows = [head]
        for j, neuron in enumerate(neurons, 1):
            delta = self.g[neuron.z]
            row = [f"δ{subscript(j)}{_sup(layer)} = {self.num(delta)}"]
            row += [f"{self.factor(delta)} × {self.factor(a)} = {self.num(self.g[w])}"
                    for w, a in zip(neuron.w, previous)]
            row.append(self.num(self.g[neuron.b]))
            rows.append(row)
        formula = (f"∂L/∂W{_sup(layer)} = δ{_sup(layer)} a{_sup(layer - 1)}ᵀ,   "
                   f"∂L/∂b{_sup(layer)} = δ{_sup(layer)}")
        return Step("gradient", layer, f"Weight gradients: layer {layer}", formula,
                    [f"row j, column k: ∂L/∂wⱼₖ{_sup(layer)} = δⱼ{_sup(layer)} · "
                     f"aₖ{_sup(layer - 1)}"],
                    table=rows, shown={"a": self.depth, "loss": True, "delta": 1},
                    nodes=self.node_ids(layer), edges=self.edges_into(layer))

    def node_ids(self, layer: int) -> list[str]:
        return [f"L{layer}N{j}" for j in range(1, len(self.layers[layer - 1].neurons) + 1)]

    def edges_into(self, layer: int) -> list[str]:
        return [f"w_L{layer}N{j}_{k}" for j, n in enumerate(self.layers[layer - 1].neurons, 1)
                for k in range(1, len(n.w) + 1)]


def _forward(model: Any, x: Any, target: Any, loss: Any, who: str
             ) -> tuple[list[Any], list[Value], Value, dict[Value, float]]:
    """The example through the model and the loss, and every gradient (engine.grad)."""
    layers = _layers(model, who)
    function = as_loss(loss, who)
    prediction = model(x)
    value = function(prediction, target)
    if not isinstance(value, Value):
        raise TypeError(f"{who}: the loss must return a Value, got {type(value).__name__}")
    nodes = order(value)
    gradients = dict(zip(nodes, grad(value, nodes)))
    first = layers[0].neurons[0]
    products = [n for n in order(first.z) if n.op is not None]
    inputs = []
    for k, weight in enumerate(first.w, 1):            # x_k: what w_k multiplies
        product = next((n for n in products if weight in n.inputs), None)
        if product is None:
            raise ValueError(f"{who}: input {k} of the first layer was not found")
        inputs.append(next(c for c in product.inputs if c is not weight))
    return layers, inputs, value, gradients


def network_steps(model: Any, x: Any, target: Any, loss: Any = "mse",
                  precision: int = 4) -> list[Step]:
    """The steps of :func:`animate_network` (see the module docstring)."""
    who = "network_steps"
    check_precision(who, precision)
    layers, inputs, value, gradients = _forward(model, x, target, loss, who)
    return _Writer(layers, inputs, value, gradients, precision).steps()


def _tag(svg: ET.Element, gradients: dict[Value, float], layers: list[Any]) -> None:
    """Mark the texts the script reveals: each neuron's ``a = …`` (class ``act``) and
    ``δ = …`` (class ``delta``, with the engine's full number in ``data-value``), and
    the loss's value (class ``loss``)."""
    neurons = {f"L{i}N{j}": n for i, layer in enumerate(layers, 1)
               for j, n in enumerate(layer.neurons, 1)}
    for group in svg.iter("g"):
        gid = group.get("id", "")
        for text in group.iter("text"):
            content = "".join(text.itertext())
            if gid in neurons and content.startswith("a = "):
                text.set("class", "act")
                text.set("data-layer", gid[1:gid.index("N")])
            elif gid in neurons and content.startswith("δ = "):
                text.set("class", "delta")
                text.set("data-layer", gid[1:gid.index("N")])
                text.set("data-value", repr(gradients[neurons[gid].z]))
            elif gid == "loss" and " = " in content:
                text.set("class", "loss")


def animate_network(model: Any, x: Any, target: Any, path: str | PathLike[str] | None = None,
                    *, loss: Any = "mse", precision: int = 4, title: str | None = None,
                    weights: str | None = None, rankdir: str = "LR") -> Page:
    """Write (when ``path`` is given) and return the page that steps through one
    example ``x`` with ``target`` through ``model`` (an nn.MLP) one layer at a time:
    forward, the loss, the δ of each layer by the recurrence, the weight gradients.

    ``loss`` is a loss function called as ``loss(prediction, target)`` (``nn.mse``,
    ``functools.partial(nn.mse, half=True)`` for the lessons' ½(ŷ − y)², …) or its
    name. The model's parameters and ``.grad`` are left as they were (the model keeps
    this example's ``z`` and ``a``, as after any forward pass). ``weights`` labels the
    edges as in ``draw_network``. Needs graphviz's ``dot``."""
    who = "animate_network"
    check_precision(who, precision)
    check_path(who, path)
    check_rankdir(who, rankdir)
    layers, inputs, value, gradients = _forward(model, x, target, loss, who)
    steps = _Writer(layers, inputs, value, gradients, precision).steps()
    diagram = network_diagram(model, precision=precision, weights=weights, show_delta=True,
                              loss=value, rankdir=rankdir, gradients=gradients, who=who)
    svg = inline_svg(diagram.pipe(format="svg"))
    _tag(svg, gradients, layers)
    data = {"steps": [step.__dict__ for step in steps], "depth": len(layers)}
    shape = "-".join(str(n) for n in [len(inputs), *(len(layer.neurons) for layer in layers)])
    heading = title if title is not None else (
        f"Backpropagation through a {shape} network, one layer per step")
    page = fill(_PAGE, {"TITLE": html.escape(heading), "BASE": BASE_CSS, "PLAYER": PLAYER_CSS,
                        "CONTROLS": player_controls("step", "where", fit="fit the window"),
                        "PLAY": player_script(len(steps), "step", "where", 2500),
                        "ZOOM": zoom_script(grow=4, least=0.3),
                        "HALO": halo_css(", ".join(f"svg.graph .node.now > {shape}" for shape
                                                   in ("ellipse", "polygon", "path"))),
                        "SVG": ET.tostring(svg, encoding="unicode"),
                        "DATA": json_for_script(data)})
    return Page(page, height=900).write(path)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>__BASE__
__PLAYER__
  body { margin: 1.2rem auto; max-width: 84rem; font-size: 18px; }
  h1 { font-size: 1.25rem; margin: 0 0 0.4rem; }
  .figure { padding: 0.25rem; overflow-x: auto; text-align: center; }
  svg.graph { display: block; margin: 0 auto; }
  .controls { margin: 0.5rem 0; }
  #where { min-width: 9rem; font-variant-numeric: tabular-nums; }
  #head { margin: 0.2rem 0 0.3rem; }
  #title { font-size: 1.3rem; font-weight: 600; margin-right: 1rem; }
  #title.forward { color: #c2410c; } #title.loss { color: #15803d; }
  #title.backward { color: #b91c1c; } #title.gradient { color: #6d28d9; }
  #formula { font-size: 1.35rem; }
  #lines div { font-size: 1.12rem; margin: 0.15rem 0; }
  #table { border-collapse: collapse; margin-top: 0.4rem; font-size: 1.05rem; }
  #table td, #table th { border: 1px solid #cbd5e1; padding: 0.25rem 0.6rem; text-align: right; }
  #table th { background: #f1f5f9; font-weight: 600; }
  svg.graph text.act.hidden, svg.graph text.delta.hidden, svg.graph text.loss.hidden
    { visibility: hidden; }
__HALO__
  svg.graph .edge.now path { stroke-width: 5; stroke-opacity: 1; }
  svg.graph .edge.dim path, svg.graph .edge.dim polygon { stroke-opacity: 0.35;
    fill-opacity: 0.35; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<div class="figure">__SVG__</div>
__CONTROLS__
<div id="step">
<div id="head"><span id="title"></span><span id="formula" class="maths"></span></div>
<div id="lines" class="maths"></div>
<table id="table" class="maths"></table>
</div>
<p class="hint">Forward one layer per step, then the loss, then δ = ∂L/∂z one layer per
step from the output back, then each layer's weight gradients; the neurons at work wear a
yellow halo. Keys: ← → step, Home/End jump, space plays, + − 0 zoom.</p>
<script>
"use strict";
const DATA = __DATA__;
const steps = DATA.steps;
function each(selector, fn) { document.querySelectorAll(selector).forEach(fn); }
function draw(k) {              // step k on the figure and in the explanation
  const s = steps[k];
  each("svg.graph text.act", t => t.classList.toggle("hidden",
    Number(t.getAttribute("data-layer")) > s.shown.a));
  each("svg.graph text.delta", t => t.classList.toggle("hidden",
    Number(t.getAttribute("data-layer")) < s.shown.delta));
  each("svg.graph text.loss", t => t.classList.toggle("hidden", !s.shown.loss));
  each("svg.graph .node", g => g.classList.toggle("now", s.nodes.includes(g.id)));
  each("svg.graph .edge", g => {
    const on = s.edges.includes(g.id);
    g.classList.toggle("now", on);
    g.classList.toggle("dim", s.edges.length > 0 && !on && !g.id.startsWith("title"));
  });
  const title = document.getElementById("title");
  title.textContent = s.title;
  title.className = s.phase;
  document.getElementById("formula").textContent = s.formula;
  const lines = document.getElementById("lines");
  lines.replaceChildren(...s.lines.map(text => {
    const div = document.createElement("div");
    div.textContent = text;
    return div;
  }));
  const table = document.getElementById("table");
  table.replaceChildren(...s.table.map((row, r) => {
    const tr = document.createElement("tr");
    row.forEach((cell, c) => {
      const td = document.createElement(r === 0 || c === 0 ? "th" : "td");
      td.textContent = cell;
      tr.appendChild(td);
    });
    return tr;
  }));
}
__PLAY__
// The fit: the figure takes the room the window leaves above the controls and the
// tallest step's explanation (a window too short for both scrolls to it).
const svg = document.querySelector("svg.graph");
const step = document.getElementById("step");
let tallest = 0;
function measure() {            // the tallest explanation of any step, at this width
  const now = current;
  tallest = 0;
  for (let k = 0; k < steps.length; k++) {
    show(k);
    tallest = Math.max(tallest, step.offsetHeight);
  }
  show(now);
}
window.addEventListener("resize", measure);         // before the zoom's own refit
function room() {
  const top = svg.getBoundingClientRect().top + window.scrollY;
  const between = step.getBoundingClientRect().top - svg.getBoundingClientRect().bottom;
  return window.innerHeight - top - between - tallest - 12;
}
__ZOOM__
show(0);
measure();
setZoom(0);
</script>
</body>
</html>
"""
