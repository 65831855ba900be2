"""The examples teach what they claim: XOR is solved, the decision map draws the
model's boundary, and depth starves a sigmoid net's first layer unless a residual
path carries the gradient."""

from __future__ import annotations

import importlib.util
import math
import pathlib
import subprocess
import sys

from nn import MLP, datasets

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_example_solves_xor():
    result = subprocess.run([sys.executable, str(EXAMPLES / "xor.py")], capture_output=True,
                            text=True, check=True, timeout=120)
    assert "accuracy: 100%" in result.stdout
    final = float(result.stdout.split(" after ")[0].rsplit("→", 1)[1])
    assert final < 0.01


def test_decision_map_draws_the_boundary_and_the_points():
    moons = _example("moons")
    model = MLP.from_weights([[[1.0, 0.0]]], [[0.0]])          # logit = x1: boundary x1 = 0
    X, y = [[-1.0, 0.0], [1.0, 0.0]], [0, 1]
    lines = moons.decision_map(model, X, y, columns=9, rows=3).splitlines()
    assert lines[0] == lines[-1] == "+" + "-" * 9 + "+"
    rows = [line[1:-1] for line in lines[1:-1]]
    assert rows[0] == "·····    " and rows[2] == "·····    "     # x1 ≤ 0 is class 0
    assert rows[1][1] == "o" and rows[1][7] == "x"             # the points, in place


def test_vanishing_example_shows_collapse_and_the_residual_cure():
    vanishing = _example("vanishing")
    X, y = datasets.moons(8, noise=0.1, seed=0)

    def gradient(depth, activation, residual):
        return vanishing.first_layer_gradient(depth, activation, residual, "xavier", 6, 0, X, y)

    shallow = gradient(2, "sigmoid", False)
    deep = gradient(20, "sigmoid", False)
    deep_residual = gradient(20, "sigmoid", True)
    assert deep < shallow * 1e-6                     # σ′ ≤ ¼ per layer: orders of magnitude
    assert deep_residual > shallow * 0.1             # the identity path carries it through
    assert math.isfinite(deep_residual)
