"""XOR with a 2 → 2 → 1 net: the lessons' first exercise.

ReLU hidden layer, sigmoid output, the mean of (ŷ − y)² over the four corners,
plain gradient descent with lr 0.5 for 5000 steps.
Two ReLU units are just enough for XOR, so whether the net gets there depends on
where it starts: with He initialisation only some seeds reach a loss below 0.01
(the others leave a hidden unit dead or both units on the same side). Seed 4 is one
that works; ``--survey 20`` shows how many of seeds 0–19 do.

    python examples/xor.py [--seed 4] [--survey N]
"""

from __future__ import annotations

import argparse

import nn


def train(seed: int, steps: int = 5000, lr: float = 0.5) -> tuple[nn.MLP, nn.History]:
    """The exercise's net and optimizer, trained full-batch on the four corners."""
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [2, 1], activation="relu", output_activation="sigmoid", seed=seed)
    optimizer = nn.SGD(model.parameters(), lr=lr)
    history = nn.fit(model, X, y, nn.mse, optimizer, epochs=steps, progress=False)
    return model, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=4, help="initialisation seed (default 4)")
    parser.add_argument("--survey", type=int, default=0, metavar="N",
                        help="also train seeds 0 … N−1 and count the ones that succeed")
    args = parser.parse_args()

    X, y = nn.datasets.xor()
    model, history = train(args.seed)
    print(f"{model}, seed {args.seed}: loss {history.loss[0]:.4f} → {history.loss[-1]:.6f} "
          f"after {len(history)} steps")
    print(" x1  x2 | y | ŷ")
    for x, target, prediction in zip(X, y, nn.predict(model, X)):
        print(f" {x[0]:.0f}   {x[1]:.0f}  | {target} | {prediction:.4f}")
    print(f"accuracy: {nn.accuracy(nn.predict(model, X), y):.0%}")
    print("learned parameters (L{l}.N{j}.w{k} is W^(l)_jk, L{l}.N{j}.b is b^(l)_j):")
    for name, value in model.state_dict().items():
        print(f"  {name:9} {value:+.4f}")

    if args.survey:
        good = [seed for seed in range(args.survey) if train(seed)[1].loss[-1] < 0.01]
        print(f"\nseeds 0–{args.survey - 1} reaching loss < 0.01: {len(good)} of "
              f"{args.survey} ({', '.join(map(str, good)) or 'none'})")


if __name__ == "__main__":
    main()
