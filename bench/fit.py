"""How much does ``fit(..., compile=True)`` save per epoch? ``python bench/fit.py``

micrograd's 2-16-16-1 MLP on 100 moons points, full batch, ``mse``, SGD: the time
per epoch of eager training and of training through the compiled program, in the
same run, taking turns for three rounds. Each is the difference of a long and a
short run divided by the extra epochs, so building (and, compiled, compiling) the
loss once is left out; that one-off cost is timed on its own.
"""

from __future__ import annotations

import os
import platform
import statistics

from harness import seconds  # puts the repository on sys.path before this folder

from nn import MLP, SGD, fit
from nn.datasets import moons

X, Y = moons(100, seed=0)


def train(compiled: bool, epochs: int) -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    fit(model, X, Y, "mse", SGD(model.parameters(), lr=0.05), epochs, progress=False,
        compile=compiled)


def per_epoch(compiled: bool, short: int, long: int) -> float:
    return (seconds(lambda: train(compiled, long)) -
            seconds(lambda: train(compiled, short))) / (long - short)


def main() -> None:
    eager, compiled = [], []
    for _ in range(3):
        eager.append(per_epoch(False, 2, 12))
        compiled.append(per_epoch(True, 2, 202))
    once = seconds(lambda: train(True, 1))
    e, c = statistics.median(eager), statistics.median(compiled)
    print("fit, MLP 2-16-16-1, 100 moons points, full batch (median of 3)\n")
    print("| | per epoch |\n|---|---|")
    print(f"| eager | {e * 1e3:.1f} ms |")
    print(f"| compile=True | {c * 1e3:.2f} ms ({e / c:.0f}× less) |")
    print(f"\ncompile=True builds and compiles the loss once first: {once:.1f} s")
    print(f"{platform.python_implementation()} {platform.python_version()} on "
          f"{platform.machine()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
