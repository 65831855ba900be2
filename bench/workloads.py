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
