"""Two moons: a 2-16-16-1 MLP learns a curved decision boundary (`make demo`).

100 noisy points in two interleaving half circles, a ReLU net with a linear output
(a logit), binary cross-entropy on the logits and Adam, full batch, with a progress
bar. Then the decision boundary as an ASCII map: ``·`` where the net says class 0,
blank where it says class 1, and the training points on top (``o`` class 0,
``x`` class 1; a point on the wrong side of the boundary is misclassified).
``--png PATH`` also draws the boundary and the loss curve side by side with
matplotlib (``pip install 'chaingrad[plot]'``); ``make demo`` writes ``out/moons.png``.

    python examples/moons.py [--epochs 100] [--seed 0] [--no-progress] [--png PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nn
from viz import plot_decision_boundary, plot_history
from viz.notation import activation_name


def decision_map(model: nn.MLP, X: list[list[float]], y: list[int],
                 columns: int = 64, rows: int = 24) -> str:
    """The plane around the data, one character per cell: the model's class (logit
    > 0 is class 1) as background, the data points drawn over it."""
    xs = [p[0] for p in X]
    ys = [p[1] for p in X]
    margin = 0.25
    left, right = min(xs) - margin, max(xs) + margin
    bottom, top = min(ys) - margin, max(ys) + margin

    def cell(x: float, y_: float) -> tuple[int, int]:
        column = round((x - left) / (right - left) * (columns - 1))
        row = round((top - y_) / (top - bottom) * (rows - 1))
        return row, column

    centres = [[left + (right - left) * c / (columns - 1), top - (top - bottom) * r / (rows - 1)]
               for r in range(rows) for c in range(columns)]
    logits = nn.predict(model, centres)
    grid = [["·" if logits[r * columns + c] <= 0 else " " for c in range(columns)]
            for r in range(rows)]
    for point, label in zip(X, y):
        row, column = cell(*point)
        grid[row][column] = "x" if label == 1 else "o"
    border = "+" + "-" * columns + "+"
    return "\n".join([border, *("|" + "".join(line) + "|" for line in grid), border])


def draw(model: nn.MLP, X: list[list[float]], y: list[int], history: nn.History,
         path: Path) -> None:
    """The decision boundary and the training curves side by side, saved to ``path``."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.6), layout="constrained")
    boundary, curves = figure.subplots(1, 2)
    plot_decision_boundary(model, X, y, ax=boundary)
    plot_history(history, ax=curves)
    shape = "-".join(str(n) for n in [model.nin, *model.nouts])
    hidden = activation_name(model.activation)             # ReLU, as the lessons write it
    figure.suptitle(f"Two moons: a {shape} MLP ({hidden} hidden, one logit out) "
                    f"trained by Adam on binary cross-entropy, {len(X)} points")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--png", type=Path, default=None, metavar="PATH",
                        help="also draw the boundary and the loss curve to this PNG file")
    args = parser.parse_args()

    started = time.perf_counter()
    X, y = nn.datasets.moons(100, noise=0.1, seed=args.seed)
    model = nn.MLP(2, [16, 16, 1], seed=args.seed)
    optimizer = nn.Adam(model.parameters(), lr=0.05)
    print(f"{model}: {len(model.parameters())} parameters, {len(X)} points")
    history = nn.fit(model, X, y, nn.bce_with_logits, optimizer, epochs=args.epochs,
                     progress=not args.no_progress)
    final = nn.accuracy(nn.predict(model, X), y, threshold=0.0)
    print(f"loss {history.loss[0]:.4f} → {history.loss[-1]:.4f}; "
          f"training accuracy {final:.0%}")
    print(decision_map(model, X, y))
    print("· the model says class 0 there, blank: class 1; o and x: the training points "
          "of class 0 and 1")
    print(f"({time.perf_counter() - started:.1f} s)")
    if args.png is not None:
        draw(model, X, y, history, args.png)
        print(f"wrote {args.png}: the decision boundary and the loss curve")


if __name__ == "__main__":
    main()
