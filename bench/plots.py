"""How long does a decision boundary take? ``python bench/plots.py``

``viz.plot_decision_boundary`` on micrograd's 2-16-16-1 MLP, 100 moons points, at
the default 200 × 200 grid: the whole call (compile one forward graph, check it
against the model at the data points, evaluate the grid, draw), the grid alone
through the compiled program, and what the grid would cost in eager mode under
``no_grad`` (measured on 2,000 points and scaled to 40,000). Needs matplotlib.
"""

from __future__ import annotations

import os
import platform

from harness import median_seconds  # puts the repository on sys.path before this folder

import nn
from engine import Value, compile, no_grad
from viz import plot_decision_boundary

SIDE = 200


def main() -> None:
    X, y = nn.datasets.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    plot_decision_boundary(model, X, y, resolution=20)          # import matplotlib first
    grid = [(i / SIDE, j / SIDE) for i in range(SIDE) for j in range(SIDE)]
    x1, x2 = Value(0.0, "x1"), Value(0.0, "x2")
    program = compile(model([x1, x2]), [x1, x2])
    sample = grid[:2000]

    def eager() -> None:
        with no_grad():
            for a, b in sample:
                model([a, b])

    whole = median_seconds(lambda: plot_decision_boundary(model, X, y), 3)
    compiled = median_seconds(lambda: [program(p) for p in grid], 3)
    eager_seconds = median_seconds(eager, 3) * len(grid) / len(sample)
    print(f"plot_decision_boundary, MLP 2-16-16-1, {SIDE} × {SIDE} grid (median of 3)\n")
    print("| | time |\n|---|---|")
    print(f"| the whole call (compile, check, grid, draw) | {whole:.2f} s |")
    print(f"| the grid through the compiled forward | {compiled:.2f} s |")
    print(f"| the grid in eager mode under no_grad (scaled from 2,000 points) "
          f"| {eager_seconds:.1f} s |")
    print(f"\nCPython {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
