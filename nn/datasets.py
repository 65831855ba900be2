"""Toy datasets in pure Python, the same points for the same seed.

Each returns ``(X, y)``: ``X`` a list of ``[x1, x2]`` points (lists of floats) and
``y`` a list of int class labels (0 and 1, or 0 … classes − 1). For the hinge loss,
which wants ±1, use ``[2 * t - 1 for t in y]``. The points are shuffled (with the
same generator), so a prefix is a fair sample of every class.
"""

from __future__ import annotations

import math
import random
from typing import Any

from .checks import check_int, is_number
from .rng import Seed, as_rng

__all__ = ["xor", "moons", "circles", "spiral"]

Dataset = tuple[list[list[float]], list[int]]


def _check_noise(noise: Any, who: str) -> float:
    if not is_number(noise):
        raise TypeError(f"{who}: noise must be a number, got {type(noise).__name__}")
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"{who}: noise must be finite and ≥ 0, got {noise!r}")
    return float(noise)


def _noisy_shuffled(points: list[tuple[float, float]], labels: list[int], noise: float,
                    rng: random.Random) -> Dataset:
    """Add N(0, noise²) to each coordinate, then shuffle points and labels together."""
    X = [[x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] if noise else [x, y]
         for x, y in points]
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [labels[i] for i in order]


def xor() -> Dataset:
    """The four corners of the unit square, labelled x1 XOR x2: no single line
    separates them, so a net needs a hidden layer."""
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return X, [0, 1, 1, 0]


def _angles(count: int, stop: float, endpoint: bool) -> list[float]:
    """``count`` evenly spaced angles from 0 to ``stop`` (included if ``endpoint``)."""
    steps = count - 1 if endpoint else count
    return [stop * i / steps if steps else 0.0 for i in range(count)]


def moons(n: int = 100, noise: float = 0.1, seed: Seed = None) -> Dataset:
    """Two interleaving half circles: class 0 the upper arc (cos t, sin t), class 1
    the lower one (1 − cos t, ½ − sin t), t ∈ [0, π]; ⌊n/2⌋ points in class 0."""
    who = "moons"
    check_int(n, who, "n", 2)
    noise = _check_noise(noise, who)
    rng = as_rng(seed, who)
    upper, lower = n // 2, n - n // 2
    points = [(math.cos(t), math.sin(t)) for t in _angles(upper, math.pi, True)]
    points += [(1.0 - math.cos(t), 0.5 - math.sin(t)) for t in _angles(lower, math.pi, True)]
    return _noisy_shuffled(points, [0] * upper + [1] * lower, noise, rng)


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5,
            seed: Seed = None) -> Dataset:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``
    (0 < factor < 1); ⌊n/2⌋ points in class 0."""
    who = "circles"
    check_int(n, who, "n", 2)
    noise = _check_noise(noise, who)
    if not is_number(factor) or not 0 < factor < 1:
        raise ValueError(f"{who}: factor (the inner radius) must be in (0, 1), got {factor!r}")
    rng = as_rng(seed, who)
    outer, inner = n // 2, n - n // 2
    points = [(math.cos(t), math.sin(t)) for t in _angles(outer, 2 * math.pi, False)]
    points += [(factor * math.cos(t), factor * math.sin(t))
               for t in _angles(inner, 2 * math.pi, False)]
    return _noisy_shuffled(points, [0] * outer + [1] * inner, noise, rng)


def spiral(n: int = 150, classes: int = 3, noise: float = 0.2, seed: Seed = None) -> Dataset:
    """``classes`` arms of a spiral (CS231n's toy problem): arm c has radius r from
    0 to 1 and angle 4r + 2πc/classes, with N(0, noise²) added to the angle. The
    n points are shared out as evenly as possible (the first arms get the extra)."""
    who = "spiral"
    check_int(n, who, "n", 1)
    check_int(classes, who, "classes", 2)
    if n < classes:
        raise ValueError(f"{who}: n = {n} points cannot fill {classes} classes")
    noise = _check_noise(noise, who)
    rng = as_rng(seed, who)
    X: list[list[float]] = []
    y: list[int] = []
    for c in range(classes):
        count = n // classes + (1 if c < n % classes else 0)
        for i in range(count):
            r = i / (count - 1) if count > 1 else 1.0
            t = 4.0 * r + 2.0 * math.pi * c / classes + rng.gauss(0.0, noise)
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(c)
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]
