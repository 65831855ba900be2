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

    python examples/vanishing.py [--width 8] [--seeds 3] [--every 2] [--init he]
"""

from __future__ import annotations

import argparse

import nn

ACTIVATIONS = ("sigmoid", "tanh", "relu")
MATCHING_INIT = {"sigmoid": "xavier", "tanh": "xavier", "relu": "he"}


def first_layer_gradient(depth: int, activation: str, residual: bool, init: str,
                         width: int, seed: int, X: list[list[float]], y: list[int]) -> float:
    """mean |∂L/∂W^(1)_jk| of a fresh net with ``depth`` layers, after one backward pass."""
    model = nn.MLP(2, [width] * (depth - 1) + [1], activation=activation, init=init,
                   seed=seed, residual=residual)
    loss = nn.bce_with_logits([model(x) for x in X], y)
    loss.backward()
    weights = [w for neuron in model.layers[0].neurons for w in neuron.w]
    return sum(abs(w.grad) for w in weights) / len(weights)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=8, help="hidden layer width (default 8)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds averaged per cell")
    parser.add_argument("--every", type=int, default=2, help="depth step (default 2)")
    parser.add_argument("--init", choices=nn.INIT_SCHEMES, default=None,
                        help="one initialisation for all (default: matched to the activation)")
    args = parser.parse_args()

    X, y = nn.datasets.moons(16, noise=0.1, seed=0)
    columns = [(activation, residual) for residual in (False, True) for activation in ACTIVATIONS]
    inits = {a: args.init or MATCHING_INIT[a] for a in ACTIVATIONS}
    print("mean |∂L/∂w| over the first layer's weights "
          f"(width {args.width}, {args.seeds} seeds; init: "
          + ", ".join(f"{a} {inits[a]}" for a in ACTIVATIONS) + ")")
    header = "".join(f"{a + (' +res' if r else ''):>13}" for a, r in columns)
    print(f"{'depth':>5}{header}")
    if args.every < 1 or args.seeds < 1 or args.width < 1:
        parser.error("--every, --seeds and --width must be ≥ 1")
    depths = sorted({2, *range(args.every, 31, args.every)} - {1})   # 2 … 30
    for depth in depths:
        cells = []
        for activation, residual in columns:
            mean = sum(first_layer_gradient(depth, activation, residual, inits[activation],
                                            args.width, seed, X, y)
                       for seed in range(args.seeds)) / args.seeds
            cells.append(f"{mean:13.2e}")
        print(f"{depth:>5}{''.join(cells)}", flush=True)


if __name__ == "__main__":
    main()
