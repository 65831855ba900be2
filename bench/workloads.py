"""The benchmark workloads, written once for every scalar engine.

An engine here is anything with micrograd's surface: ``Value(x)``, ``+``, ``*``,
``.relu()``, ``.backward()``, ``.data`` and ``.grad``. chaingrad and micrograd run
the very same functions; PyTorch (0-dim tensors) and plain floats get thin
adapters with the same arithmetic in the same order.

* ``mlp_step`` — micrograd's demo: a 2-16-16-1 ReLU MLP, 100 two-dimensional
  points (two moons), max-margin hinge loss + L2 regularisation, forward,
  backward and an SGD update.
* ``chain``    — ``x ← x·a + b`` repeated: a graph as deep as it is long.
* ``wide``     — Σ xᵢ·wᵢ over 10⁵ terms, summed pairwise (depth 17, so
  micrograd's recursive sort survives it).

And code as users write it, full of plain numbers, run unchanged on micrograd and
chaingrad (only the import differs):

* ``readme_loop``    — micrograd's README training loop: ``MLP(3, [4, 4, 1])`` from
  the engine's own ``nn``, four examples, ``sum((yout - ygt) ** 2 …)``, backward,
  ``p.data += -0.01 * p.grad``, 20 steps;
* ``number_chain``   — ``y = (y * 0.999 + 0.001).relu()``, 300 times, backward;
* ``sigmoid_neuron`` — a hand-written neuron ``1 / (1 + (-z).exp())`` on 50 points
  with the loss ``Σ 0.5 * (a - t) ** 2``, backward. (micrograd 0.1.0 has no
  ``exp``: ``bench/peers.py`` gives it the one from micrograd's lecture, in its style.)
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Sequence

LAYER_SIZES = (2, 16, 16, 1)
POINTS = 100
CHAIN_A = 0.9999999       # ∂x/∂x_prev: close to 1, so gradients neither vanish nor explode
CHAIN_B = 1e-7
ALPHA = 1e-4              # L2 weight, as micrograd's demo


# ---- data and parameters (plain numbers, seeded) -------------------------------
def moons(n: int = POINTS, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles with a little noise; labels ±1 (as the demo)."""
    rng = random.Random(seed)
    xs: list[list[float]] = []
    ys: list[float] = []
    for i in range(n):
        upper = i % 2 == 0
        t = math.pi * rng.random()
        if upper:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
        xs.append([x + rng.gauss(0.0, 0.1), y + rng.gauss(0.0, 0.1)])
        ys.append(1.0 if upper else -1.0)
    return xs, ys


def mlp_numbers(seed: int = 0, sizes: Sequence[int] = LAYER_SIZES) -> list:
    """Initial weights as micrograd draws them: w ~ U(−1, 1), b = 0.
    Returned as layers → neurons → (weights, bias)."""
    rng = random.Random(seed)
    return [[([rng.uniform(-1.0, 1.0) for _ in range(nin)], 0.0) for _ in range(nout)]
            for nin, nout in zip(sizes[:-1], sizes[1:])]


# ---- the MLP on any micrograd-like Value class ---------------------------------
class ScalarMLP:
    """micrograd's ``MLP(2, [16, 16, 1])`` on a given Value class: each neuron is
    ``sum(wᵢ·xᵢ, b)``, ReLU on hidden layers, linear output."""

    def __init__(self, value: Callable[[float], Any], numbers: list) -> None:
        self.layers = [[([value(w) for w in ws], value(b)) for ws, b in layer] for layer in numbers]

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for ws, b in layer for p in (*ws, b)]

    def __call__(self, x: list[Any]) -> Any:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = []
            for ws, b in layer:
                act = sum((wi * xi for wi, xi in zip(ws, x)), b)
                out.append(act.relu() if i != last else act)
            x = out
        return x[0]


def hinge_loss(model: ScalarMLP, inputs: list[list[Any]], labels: list[float]) -> Any:
    """micrograd demo's loss: mean of ReLU(1 − yᵢ·scoreᵢ) + α Σ p²."""
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def scalar_mlp_step(value: Callable[[float], Any], model: ScalarMLP, xs: list[list[float]],
                    ys: list[float], lr: float = 0.1) -> float:
    """One training step as micrograd's demo does it (inputs wrapped as Values)."""
    inputs = [[value(v) for v in row] for row in xs]
    loss = hinge_loss(model, inputs, ys)
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= lr * p.grad
    return loss.data


def scalar_chain(value: Callable[[float], Any], steps: int) -> Any:
    """Build x ← x·a + b ``steps`` times, backward; returns (a, b, x0) for checks."""
    a, b, x0 = value(CHAIN_A), value(CHAIN_B), value(1.0)
    x = x0
    for _ in range(steps):
        x = x * a + b
    x.backward()
    return a, b, x0


def pairwise_sum(terms: list[Any]) -> Any:
    """Σ terms as a balanced tree of additions (depth ⌈log₂ n⌉)."""
    while len(terms) > 1:
        paired = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    return terms[0]


def wide_numbers(n: int, seed: int = 0) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    return [rng.uniform(-1, 1) for _ in range(n)], [rng.uniform(-1, 1) for _ in range(n)]


def scalar_wide(value: Callable[[float], Any], xs: list[float], ws: list[float]) -> Any:
    """Σ xᵢ·wᵢ (pairwise), backward; returns the output."""
    total = pairwise_sum([value(x) * value(w) for x, w in zip(xs, ws)])
    total.backward()
    return total


# ---- code as users write it: plain numbers everywhere ------------------------------
README_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
README_YS = [1.0, -1.0, -1.0, 1.0]
NUMBER_CHAIN_STEPS = 300     # 900 nodes deep: under micrograd's recursion limit
NEURON_POINTS = 50


def readme_loop(model: Any, steps: int = 20) -> float:
    """micrograd's README training loop on ``model`` (an ``MLP(3, [4, 4, 1])`` of
    either engine's ``nn``); returns the last loss."""
    for _ in range(steps):
        ypred = [model(x) for x in README_XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(README_YS, ypred))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data += -0.01 * p.grad
    return loss.data


def number_chain(value: Callable[[float], Any], steps: int = NUMBER_CHAIN_STEPS) -> Any:
    """A chain mixing Values with plain numbers: ``y = (y * 0.999 + 0.001).relu()``."""
    x = value(0.5)
    y = x
    for _ in range(steps):
        y = (y * 0.999 + 0.001).relu()
    y.backward()
    return x


def sigmoid_neuron(value: Callable[[float], Any], points: int = NEURON_POINTS) -> Any:
    """One neuron written by hand, σ(z) = 1 / (1 + e^−z), and a squared-error loss
    with ½: the arithmetic of a first lesson, on ``points`` examples."""
    rng = random.Random(1)
    w, b = value(0.3), value(-0.1)
    loss = value(0.0)
    for _ in range(points):
        x, t = rng.uniform(-2.0, 2.0), float(rng.random() < 0.5)
        z = w * x + b
        a = 1 / (1 + (-z).exp())
        loss = loss + 0.5 * (a - t) ** 2
    loss.backward()
    return w


# ---- the same arithmetic on plain floats: the floor ----------------------------
def float_mlp_loss(numbers: list, xs: list[list[float]], ys: list[float]) -> float:
    """``hinge_loss`` on floats, no gradients: the cost of the arithmetic alone."""
    params = [p for layer in numbers for ws, b in layer for p in (*ws, b)]
    last = len(numbers) - 1
    losses = []
    for row, yi in zip(xs, ys):
        x = row
        for i, layer in enumerate(numbers):
            out = []
            for ws, b in layer:
                act = sum((wi * xi for wi, xi in zip(ws, x)), b)
                out.append((act if act > 0.0 else 0.0) if i != last else act)
            x = out
        margin = 1 + -yi * x[0]
        losses.append(margin if margin > 0.0 else 0.0)
    return sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in params)


def float_chain(steps: int) -> float:
    a, b, x = CHAIN_A, CHAIN_B, 1.0
    for _ in range(steps):
        x = x * a + b
    return x


def float_wide(xs: list[float], ws: list[float]) -> float:
    return pairwise_sum([x * w for x, w in zip(xs, ws)])


def float_number_chain(steps: int = NUMBER_CHAIN_STEPS) -> float:
    y = 0.5
    for _ in range(steps):
        y = y * 0.999 + 0.001
        y = y if y > 0.0 else 0.0
    return y


def float_sigmoid_neuron(points: int = NEURON_POINTS) -> float:
    rng = random.Random(1)
    w, b, loss = 0.3, -0.1, 0.0
    for _ in range(points):
        x, t = rng.uniform(-2.0, 2.0), float(rng.random() < 0.5)
        a = 1 / (1 + math.exp(-(w * x + b)))
        loss = loss + 0.5 * (a - t) ** 2
    return loss


# ---- node counts (the unit of "nodes per second" and "bytes per node") --------
def count_nodes(root: Any, children: Callable[[Any], Any]) -> int:
    """How many distinct nodes ``root`` depends on (itself included), without recursion."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in children(stack.pop()):
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)
