"""The lesson on depth as a page: how much gradient reaches each layer?

``explore_depth("depth.html")`` builds with chaingrad, for every depth L = 1 …
``max_depth``, a fresh MLP of L layers (2 inputs, L − 1 hidden layers of ``width``,
one linear output), for each activation (sigmoid, tanh, ReLU), each initialisation
(naive U(−1, 1), or the one made for the activation: Xavier for sigmoid and tanh,
He for ReLU) and without and with residual connections; runs one backward pass of
the binary cross-entropy on a few moons points; and keeps the mean |∂L/∂W⁽ˡ⁾ⱼₖ| of
each layer (``viz.layer_gradients``). The page carries those numbers and draws them
on a log scale (inline SVG, drawn by its own script) with a depth slider, a choice
of activation and initialisation and a residual tick: the vanishing gradient of the
lessons, made visible. Nothing is computed in the page and nothing is fetched.
"""

from __future__ import annotations

import html
import math
from os import PathLike
from typing import Any

import nn

from .arguments import check_count, check_path
from .notation import activation_name, activation_symbol, display_number, superscript
from .page import BASE_CSS, Page, fill, json_for_script
from .plots import layer_gradients

__all__ = ["ACTIVATIONS", "MATCHED_INIT", "COLOURS", "gradient_by_layer", "explore_depth"]

#: The hidden activations the page offers, in its order.
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: The initialisation made for each activation (nn/init.py): Xavier keeps a sigmoid
#: or tanh layer's variance steady, He a ReLU layer's. The naive one is ``uniform``.
MATCHED_INIT = {"sigmoid": "xavier", "tanh": "xavier", "relu": "he"}
NAIVE_INIT = "uniform"

#: One colour per activation, on the page and in ``examples/vanishing.py --png``.
COLOURS = {"sigmoid": "#b2182b", "tanh": "#1b7837", "relu": "#2166ac"}
#: Each activation as the page's radio buttons name it: in words, and its symbol too
#: where that differs (sigmoid σ).
_ACTIVATION_NAMES = {a: " ".join(dict.fromkeys([activation_name(a), activation_symbol(a)]))
                     for a in ACTIVATIONS}
_INIT_NAMES = {"uniform": "naive U(−1, 1)", "xavier": "Xavier U(±√(6/(fan-in + fan-out)))",
               "he": "He N(0, 2/fan-in)"}
_PRECISION = 3                      # significant digits of the numbers on the page


def gradient_by_layer(depth: int, activation: str, residual: bool, init: str, width: int,
                      seed: int, X: list[list[float]], y: list[int]) -> list[float]:
    """mean |∂L/∂W⁽ˡ⁾ⱼₖ| for l = 1 … ``depth`` of a fresh MLP of ``depth`` layers
    (``depth − 1`` hidden layers of ``width``, one linear output) after one backward
    pass of the binary cross-entropy on (``X``, ``y``)."""
    model = nn.MLP(len(X[0]), [width] * (depth - 1) + [1], activation=activation, init=init,
                   seed=seed, residual=residual)
    nn.bce_with_logits([model(x) for x in X], y).backward()
    return layer_gradients(model)


def _key(activation: str, init: str, residual: bool) -> str:
    """How the page names one curve family: ``sigmoid/naive/plain``."""
    return f"{activation}/{init}/{'residual' if residual else 'plain'}"


def _flows(max_depth: int, width: int, points: int, seed: int) -> dict[str, list[list[float]]]:
    """Every curve the page can show: key → depth − 1 → the layers' mean |∂L/∂W|."""
    X, y = nn.datasets.moons(points, noise=0.1, seed=0)
    flows = {}
    for activation in ACTIVATIONS:
        for kind, init in (("naive", NAIVE_INIT), ("matched", MATCHED_INIT[activation])):
            for residual in (False, True):
                flows[_key(activation, kind, residual)] = [
                    gradient_by_layer(depth, activation, residual, init, width, seed, X, y)
                    for depth in range(1, max_depth + 1)]
    return flows


def _ticks(low: int, high: int, most: int) -> list[int]:
    """Round tick positions from ``low`` to ``high`` in steps of 1, 2, 5, 10, … so
    that at most ``most`` of them are labelled."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (high - low) // s + 1 <= most)
    first = math.ceil(low / step) * step
    return list(range(first, high + 1, step))


def _chart_data(flows: dict[str, list[list[float]]], max_depth: int) -> dict[str, Any]:
    """The fixed axes of the chart: one log range for every curve, so that moving a
    control moves the curve, never the axes."""
    positive = [v for curves in flows.values() for curve in curves for v in curve
                if v > 0 and math.isfinite(v)]
    low = math.floor(math.log10(min(positive))) if positive else -1
    high = math.ceil(math.log10(max(positive))) if positive else 0
    high = max(high, low + 1)
    x_ticks = sorted({1, *_ticks(0, max_depth, 15)} - {0}) if max_depth > 1 else [1]
    return {"low": low, "high": high,
            "yTicks": [[k, f"10{superscript(k)}"] for k in _ticks(low, high, 10)],
            "xTicks": x_ticks}


def _finite(curve: list[float]) -> list[float | None]:
    """The curve for JSON: a number that left float range becomes null."""
    return [v if math.isfinite(v) else None for v in curve]


def explore_depth(path: str | PathLike[str] | None = None, *, max_depth: int = 30,
                  width: int = 8, points: int = 16, seed: int = 0,
                  title: str | None = None) -> Page:
    """Write (when ``path`` is given) and return one HTML page on vanishing and
    exploding gradients: a depth slider (1 … ``max_depth``), a choice of activation
    (sigmoid, tanh, ReLU) and of initialisation (naive U(−1, 1), or Xavier for
    sigmoid and tanh, He for ReLU) and a residual tick, drawing on a log scale the
    mean |∂L/∂W⁽ˡ⁾ⱼₖ| of every layer l = 1 … L of a fresh MLP (2 inputs, L − 1
    hidden layers of ``width``, one linear output, weights from ``seed``) after one
    backward pass of the binary cross-entropy on ``points`` moons points, with the
    first layer's number written out.

    The numbers are computed here, by chaingrad (``viz.layer_gradients``), for all
    12 settings × ``max_depth`` depths, and embedded: at the defaults that takes about
    13 s (``python bench/depth.py``; it grows as ``max_depth``² · ``width``² ·
    ``points``). The chart is inline SVG drawn by the page's script; nothing is
    fetched. In the page, ``window.chaingrad.flow()`` returns the numbers on screen
    and ``window.chaingrad.settings()`` the controls' state. The result is a ``str``
    that Jupyter shows inline."""
    who = "explore_depth"
    check_path(who, path)                  # before the curves, not after 13 s of them
    for name, value in (("max_depth", max_depth), ("width", width), ("points", points)):
        check_count(who, name, value)
    if points < 2:
        raise ValueError(f"{who}: points must be an int ≥ 2 (one of each moon), got {points!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{who}: seed must be an int, got {type(seed).__name__} {seed!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{who}: title must be a str or None, got {type(title).__name__}")
    flows = _flows(max_depth, width, points, seed)
    data = {
        "maxDepth": max_depth,
        "start": min(10, max_depth),
        "values": {key: [_finite(curve) for curve in curves] for key, curves in flows.items()},
        "shown": {key: [[display_number(v, _PRECISION) for v in curve] for curve in curves]
                  for key, curves in flows.items()},
        "colours": COLOURS,
        "activationNames": _ACTIVATION_NAMES,
        "matched": {a: MATCHED_INIT[a] for a in ACTIVATIONS},
        "initNames": _INIT_NAMES,
        "chart": _chart_data(flows, max_depth),
    }
    heading = title if title is not None else "How much gradient reaches each layer?"
    shape = " → ".join(["2", str(width), "…", str(width), "1"])
    page = fill(_PAGE, {
        "TITLE": html.escape(heading), "BASE": BASE_CSS, "DATA": json_for_script(data),
        "MAX": str(max_depth), "START": str(data["start"]), "WIDTH": str(width),
        "POINTS": str(points), "SEED": str(seed), "SHAPE": shape,
        "RADIOS": "".join(
            f'<label><input type="radio" name="activation" value="{a}"'
            f'{" checked" if a == ACTIVATIONS[0] else ""}> {_ACTIVATION_NAMES[a]}</label>'
            for a in ACTIVATIONS)})
    return Page(page, height=900).write(path)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>__BASE__
  body { margin: 1.2rem auto; max-width: 64rem; font-size: 18px; }
  h1 { font-size: 1.5rem; margin: 0 0 0.4rem; }
  .what { color: #334155; margin: 0.6rem 0 0.3rem; }
  .controls { display: grid; grid-template-columns: max-content 1fr; gap: 0.45rem 1rem;
              align-items: center; }
  .controls .name { font-weight: 600; }
  .controls label { margin-right: 1.1rem; white-space: nowrap; cursor: pointer; }
  #depth { width: 100%; max-width: 34rem; vertical-align: middle; }
  #depth-value { display: inline-block; min-width: 4.5em; font-variant-numeric: tabular-nums;
                 font-weight: 600; }
  #readout { margin: 0.7rem 0 0.1rem; font-size: 1.25rem; min-height: 1.6em; }
  #first { font-weight: 700; font-variant-numeric: tabular-nums; }
  #compare { color: #475569; font-size: 1rem; min-height: 1.3em; margin: 0 0 0.5rem; }
  .figure { padding: 0.4rem; }
  svg#chart { display: block; font-family: inherit; }
  svg#chart .grid { stroke: #e2e8f0; stroke-width: 1; }
  svg#chart .axis { stroke: #334155; stroke-width: 1.5; }
  svg#chart text { fill: #0f172a; font-size: 17px; }
  svg#chart text.title { font-size: 18px; }
  svg#chart .muted { fill: #64748b; }
  .nowrap { white-space: nowrap; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<div class="controls">
  <span class="name">depth</span>
  <span><input id="depth" type="range" min="1" max="__MAX__" value="__START__" step="1"
    aria-label="depth L, the number of layers">
    <output id="depth-value" for="depth">L = __START__</output></span>
  <span class="name">activation</span>
  <span id="activations">__RADIOS__</span>
  <span class="name">initialisation</span>
  <span><label><input type="radio" name="init" value="naive" checked>
    <span id="naive-name"></span></label><label><input type="radio" name="init"
    value="matched"> <span id="matched-name"></span></label></span>
  <span class="name">residual</span>
  <span><label><input id="residual" type="checkbox"> residual connections
    a⁽ˡ⁾ = f(W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾) + a⁽ˡ⁻¹⁾</label></span>
</div>
<p id="readout">Layer 1 gets mean |∂L/∂W⁽¹⁾ⱼₖ| = <span id="first"></span></p>
<p id="compare"></p>
<div class="figure"><svg id="chart" role="img"
  aria-label="the mean gradient of each layer, on a log scale"></svg></div>
<p class="what">A fresh MLP __SHAPE__ of L layers (weights from seed __SEED__), one backward
pass of the binary cross-entropy on __POINTS__ moons points: how much gradient reaches each
layer l, the <span class="nowrap">mean |∂L/∂W⁽ˡ⁾ⱼₖ|</span> over its weights.</p>
<p class="hint">Numbers computed by chaingrad when this page was made (depths 1 … __MAX__,
hidden width __WIDTH__; residual paths join the hidden layers of equal width, 2 … L − 1).
Point at a dot for its number. Each depth is its own freshly initialised net, so the
curves are a little noisy from one depth to the next.</p>
<script>
"use strict";
const DATA = __DATA__;
const $ = id => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const chart = $("chart");
const C = DATA.chart;
const margin = { left: 112, right: 28, above: 56, below: 70 };
let W = 960, H = 430;                 // the chart's size in pixels, set by draw()
const plotW = () => W - margin.left - margin.right;
const plotH = () => H - margin.above - margin.below;
const x = l => margin.left + (DATA.maxDepth > 1 ? (l - 1) / (DATA.maxDepth - 1) : 0.5) * plotW();
const y = v => margin.above + (C.high - Math.log10(v)) / (C.high - C.low) * plotH();

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const k in attrs) node.setAttribute(k, attrs[k]);
  if (text !== undefined) node.textContent = text;
  return node;
}
function settings() {
  const activation = document.querySelector("input[name=activation]:checked").value;
  const choice = document.querySelector("input[name=init]:checked").value;
  return { depth: Number($("depth").value), activation: activation,
           init: choice === "naive" ? "uniform" : DATA.matched[activation], choice: choice,
           residual: $("residual").checked };
}
function curve(s, residual) {
  const key = s.activation + "/" + s.choice + "/" + (residual ? "residual" : "plain");
  return { values: DATA.values[key][s.depth - 1], shown: DATA.shown[key][s.depth - 1] };
}
function axes() {
  const g = el("g", { id: "axes" });
  const bottom = margin.above + plotH();
  for (let k = C.low; k <= C.high; k++) {             // a faint line at every decade
    g.appendChild(el("line", { class: "grid", x1: margin.left, x2: W - margin.right,
                               y1: y(Math.pow(10, k)), y2: y(Math.pow(10, k)),
                               "stroke-opacity": 0.5 }));
  }
  C.yTicks.forEach(([k, label]) => {
    const at = y(Math.pow(10, k));
    g.appendChild(el("line", { class: "grid", x1: margin.left, x2: W - margin.right,
                               y1: at, y2: at }));
    g.appendChild(el("text", { x: margin.left - 10, y: at + 6, "text-anchor": "end",
                               class: "ytick" }, label));
  });
  C.xTicks.forEach(l => {
    g.appendChild(el("line", { class: "axis", x1: x(l), x2: x(l), y1: bottom, y2: bottom + 6 }));
    g.appendChild(el("text", { x: x(l), y: bottom + 26, "text-anchor": "middle",
                               class: "xtick" }, String(l)));
  });
  g.appendChild(el("line", { class: "axis", x1: margin.left, x2: margin.left,
                             y1: margin.above, y2: bottom }));
  g.appendChild(el("line", { class: "axis", x1: margin.left, x2: W - margin.right,
                             y1: bottom, y2: bottom }));
  g.appendChild(el("text", { x: margin.left + plotW() / 2, y: H - 12, "text-anchor": "middle",
                             class: "title" },
                   "layer l   (1 = first hidden layer, L = output layer)"));
  const middle = margin.above + plotH() / 2;
  g.appendChild(el("text", { x: 24, y: middle, "text-anchor": "middle", class: "title",
                             transform: "rotate(-90 24 " + middle + ")" },
                   "mean |∂L/∂W⁽ˡ⁾ⱼₖ|  (log scale)"));
  return g;
}
function line(c, attrs, dots) {
  const g = el("g", attrs);
  let d = "", gap = true;
  c.values.forEach((v, i) => {
    if (!(v > 0)) { gap = true; return; }            // 0 has no place on a log scale
    d += (gap ? "M" : "L") + x(i + 1).toFixed(1) + "," + y(v).toFixed(1);
    gap = false;
  });
  g.appendChild(el("path", { d: d, fill: "none" }));
  if (dots) {
    c.values.forEach((v, i) => {
      const zero = !(v > 0);                         // 0: a hollow dot on the axis
      const dot = el("circle", { cx: x(i + 1), cy: zero ? margin.above + plotH() : y(v),
                                 r: i === 0 ? 7 : 4.5, "data-layer": i + 1,
                                 class: zero ? "dot zero" : "dot" });
      dot.appendChild(el("title", {}, "layer " + (i + 1) + ": " + c.shown[i]));
      g.appendChild(dot);
    });
  }
  return g;
}
function legend(s, colour) {
  const g = el("g", { id: "legend" });
  chart.appendChild(g);
  const name = DATA.activationNames[s.activation] + ", " + DATA.initNames[s.init] +
    (s.residual ? ", residual" : "") + ", L = " + s.depth;
  g.appendChild(el("line", { x1: margin.left, x2: margin.left + 36, y1: 24, y2: 24,
                             stroke: colour, "stroke-width": 3.5 }));
  g.appendChild(el("circle", { cx: margin.left + 18, cy: 24, r: 4.5, fill: colour }));
  const main = el("text", { x: margin.left + 46, y: 30, id: "legend-main" }, name);
  g.appendChild(main);
  if (s.residual) {
    const at = margin.left + 46 + main.getComputedTextLength() + 36;
    g.appendChild(el("line", { x1: at, x2: at + 36, y1: 24, y2: 24, stroke: "#64748b",
                               "stroke-width": 2.5, "stroke-dasharray": "7 5" }));
    g.appendChild(el("text", { x: at + 46, y: 30, class: "muted", id: "legend-plain" },
                     "the same nets without residual"));
  }
}
function compare(c, depth) {
  if (depth === 1) return "A single layer: layer 1 is the output layer.";
  const first = c.values[0], last = c.values[depth - 1];
  const output = "the output layer (l = " + depth + "), which gets " + c.shown[depth - 1] + ".";
  if (!(first > 0) || !(last > 0)) return "Compare " + output;
  const n = Math.round(Math.log10(last / first));
  const orders = k => k + (k === 1 ? " order" : " orders") + " of magnitude";
  if (n >= 1) return "About " + orders(n) + " less than " + output;
  if (n <= -1) return "About " + orders(-n) + " more than " + output;
  return "About as much as " + output;
}
function draw() {
  const s = settings();
  const colour = DATA.colours[s.activation];
  const c = curve(s, s.residual);
  W = Math.max(480, chart.parentNode.clientWidth - 2);
  const room = window.innerHeight - (chart.getBoundingClientRect().top + window.scrollY) - 16;
  H = Math.round(Math.max(320, Math.min(0.55 * W, room)));   // fits the window when it can
  chart.setAttribute("width", W);
  chart.setAttribute("height", H);
  chart.setAttribute("viewBox", "0 0 " + W + " " + H);
  chart.replaceChildren(axes());
  if (s.residual) {
    chart.appendChild(line(curve(s, false), { id: "plain-curve", stroke: "#64748b",
      "stroke-width": 2.5, "stroke-dasharray": "7 5" }, false));
  }
  chart.appendChild(line(c, { id: "curve", stroke: colour, "stroke-width": 3.5,
                              fill: colour }, true));
  if (c.values[0] > 0) {                             // layer 1's number beside its dot
    chart.appendChild(el("text", { x: x(1) + 14, y: y(c.values[0]) - 12, id: "first-label",
                                   "font-weight": 700, fill: colour }, c.shown[0]));
  }
  legend(s, colour);
  $("depth-value").textContent = "L = " + s.depth;
  $("first").textContent = c.shown[0];
  $("first").style.color = colour;
  $("compare").textContent = compare(c, s.depth);
  $("naive-name").textContent = DATA.initNames.uniform;
  $("matched-name").textContent = "matched: " + DATA.initNames[DATA.matched[s.activation]];
}
document.querySelectorAll("input").forEach(input => input.addEventListener("input", draw));
window.addEventListener("resize", draw);
window.chaingrad = {
  flow: () => { const s = settings(); return curve(s, s.residual).values.slice(); },
  settings: () => { const s = settings(); delete s.choice; return s; },
};
draw();
</script>
</body>
</html>
"""
