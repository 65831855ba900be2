"""The lesson on depth: how much gradient reaches the first layer?

For nets of depth 2 … 30 (depth − 1 hidden layers of width 8, one linear output)
this prints the mean |∂L/∂W^(1)_jk| over the first layer's weights, for sigmoid,
tanh and ReLU hidden layers, without and with residual connections
a^(l) = f(W^(l) a^(l−1) + b^(l)) + a^(l−1). L is the binary cross-entropy on 16
moons points; each number is the average over a few seeds.

Each activation gets the initialisation made for it (Xavier for sigmoid and tanh,
He for ReLU; ``--init uniform`` shows micrograd's naive U(−1, 1)). What to see:

* sigmoid: σ′ ≤ ¼, so every layer multiplies δ by something small and the first
  layer's gradient collapses by orders of magnitude as depth grows;
* tanh and ReLU (with a matching initialisation) keep it within an order or two;
* the residual path adds an identity term to every ∂a^(l)/∂a^(l−1), so the
  gradient survives any depth — and with ReLU it can now *explode* instead, which
  is what clipping by global norm (``nn.clip_grad_norm``) is for.

``--png PATH`` also draws it (needs matplotlib: ``pip install 'chaingrad[plot]'``):
left, the gradient reaching each layer of the deepest nets (``viz.plot_gradient_flow``);
right, the gradient reaching the first layer, by depth. ``--html PATH`` also writes
the lesson as a page to play with (``viz.explore_depth``: a depth slider, the
activation, the initialisation and a residual tick; one seed, ``--width`` wide).

    python examples/vanishing.py [--width 8] [--seeds 3] [--every 2] [--init he]
                                 [--png PATH] [--html PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import nn
from viz import explore_depth, plot_gradient_flow
from viz.depth import ACTIVATIONS, COLOURS, MATCHED_INIT, gradient_by_layer

if TYPE_CHECKING:                                  # matplotlib only for --png
    from matplotlib.figure import Figure


def first_layer_gradient(depth: int, activation: str, residual: bool, init: str,
                         width: int, seed: int, X: list[list[float]], y: list[int]) -> float:
    """mean |∂L/∂W^(1)_jk| of a fresh net with ``depth`` layers, after one backward pass."""
    return gradient_by_layer(depth, activation, residual, init, width, seed, X, y)[0]


def name(activation: str, residual: bool) -> str:
    return activation + (" + residual" if residual else "")


def draw(depths: list[int], first_layer: dict[str, list[float]],
         deepest: dict[str, list[float]], title: str) -> Figure:
    """Two panels: the gradient by layer in the deepest nets, and layer 1's by depth."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.8), layout="constrained")
    by_layer, by_depth = figure.subplots(1, 2, sharey=True)
    plot_gradient_flow(deepest, ax=by_layer)
    by_layer.set_title(f"gradient reaching each layer of a {depths[-1]}-layer net")
    for label, values in first_layer.items():
        by_depth.plot(depths, values, marker="o", markersize=3.5, linewidth=2, label=label)
    by_depth.set_title("gradient reaching layer 1, by the depth of the net")
    by_depth.set_xlabel("depth (number of layers)")
    by_depth.grid(True, alpha=0.3)
    for axes in (by_layer, by_depth):
        for line in axes.lines:                    # colour: activation; dashes: residual
            activation = line.get_label().split()[0]
            line.set_color(COLOURS[activation])
            line.set_linestyle("--" if "residual" in line.get_label() else "-")
    by_layer.legend(fontsize="small", ncol=2, framealpha=0.9, handlelength=4)   # for both
    figure.suptitle(title)
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=8, help="hidden layer width (default 8)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds averaged per cell")
    parser.add_argument("--every", type=int, default=2, help="depth step (default 2)")
    parser.add_argument("--init", choices=nn.INIT_SCHEMES, default=None,
                        help="one initialisation for all (default: matched to the activation)")
    parser.add_argument("--png", type=Path, default=None, metavar="PATH",
                        help="also draw the curves to this PNG file (needs matplotlib)")
    parser.add_argument("--html", type=Path, default=None, metavar="PATH",
                        help="also write the lesson as a page (viz.explore_depth)")
    args = parser.parse_args()

    X, y = nn.datasets.moons(16, noise=0.1, seed=0)
    columns = [(activation, residual) for residual in (False, True) for activation in ACTIVATIONS]
    inits = {a: args.init or MATCHED_INIT[a] for a in ACTIVATIONS}
    setting = (f"width {args.width}, {args.seeds} seeds; init: "
               + ", ".join(f"{a} {inits[a]}" for a in ACTIVATIONS))
    print(f"mean |∂L/∂w| over the first layer's weights ({setting})")
    header = "".join(f"{a + (' +res' if r else ''):>13}" for a, r in columns)
    print(f"{'depth':>5}{header}")
    if args.every < 1 or args.seeds < 1 or args.width < 1:
        parser.error("--every, --seeds and --width must be ≥ 1")
    depths = sorted({2, *range(args.every, 31, args.every)} - {1})   # 2 … 30
    first_layer: dict[str, list[float]] = {name(a, r): [] for a, r in columns}
    deepest: dict[str, list[float]] = {}
    for depth in depths:
        cells = []
        for activation, residual in columns:
            runs = [gradient_by_layer(depth, activation, residual, inits[activation],
                                      args.width, seed, X, y) for seed in range(args.seeds)]
            means = [sum(layer) / args.seeds for layer in zip(*runs)]   # by layer, over seeds
            first_layer[name(activation, residual)].append(means[0])
            deepest[name(activation, residual)] = means
            cells.append(f"{means[0]:13.2e}")
        print(f"{depth:>5}{''.join(cells)}", flush=True)
    if args.png is not None:
        figure = draw(depths, first_layer, deepest,
                      f"Vanishing and exploding gradients: binary cross-entropy on {len(X)} "
                      f"moons points ({setting})")
        figure.savefig(args.png, dpi=110)
        print(f"wrote {args.png}")
    if args.html is not None:
        explore_depth(args.html, width=args.width)
        print(f"wrote {args.html}")


if __name__ == "__main__":
    main()
