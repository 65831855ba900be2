"""How fast is the eager engine? ``python bench/engine.py``

Forward + backward of three graph shapes, as nodes per second and as a multiple
of the same arithmetic on plain floats (no gradients) measured in this same run:

* a deep chain   x ← x·a + b, 10⁶ times (2·10⁶ + 3 nodes, as deep as it is long);
* a wide sum     Σ xᵢ·wᵢ over 10⁵ terms, summed pairwise;
* an MLP         the 2-16-16-1 ReLU network on 100 points with hinge loss
                 (micrograd's demo), plus the same graph through ``engine.compile``.

The garbage collector stays on, as users have it. For the comparison with
micrograd and PyTorch, run ``bench/peers.py``.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Any, Callable

import workloads as W
from harness import median_seconds as timed  # puts the repository on sys.path before this folder

from engine import Value, compile, order

DEEP_STEPS = 1_000_000
WIDE_TERMS = 100_000


def chain_case(steps: int) -> tuple[Callable[[], Any], Callable[[], Any], int]:
    nodes = 2 * steps + 3
    return (lambda: W.scalar_chain(Value, steps)), (lambda: W.float_chain(steps)), nodes


def wide_case(terms: int) -> tuple[Callable[[], Any], Callable[[], Any], int]:
    xs, ws = W.wide_numbers(terms)
    nodes = len(order(W.scalar_wide(Value, xs, ws)))
    return (lambda: W.scalar_wide(Value, xs, ws)), (lambda: W.float_wide(xs, ws)), nodes


def mlp_case() -> tuple[Callable[[], Any], Callable[[], Any], int, Callable[[], Any], float]:
    xs, ys = W.moons()
    numbers = W.mlp_numbers()
    model = W.ScalarMLP(Value, numbers)

    def eager() -> None:
        loss = W.hinge_loss(model, [[Value(v) for v in row] for row in xs], ys)
        loss.backward()

    loss = W.hinge_loss(model, [[Value(v) for v in row] for row in xs], ys)
    params = model.parameters()
    start = time.perf_counter()
    program = compile(loss, params)
    compile_seconds = time.perf_counter() - start
    state = [p.data for p in params]
    return (eager, lambda: W.float_mlp_loss(numbers, xs, ys), len(order(loss)),
            lambda: program.value_and_grad(state), compile_seconds)


def row(name: str, nodes: int, seconds: float, floor: float) -> str:
    return (f"| {name} | {nodes:,} | {seconds * 1e3:,.1f} ms | {nodes / seconds / 1e6:.2f} M/s "
            f"| {floor * 1e3:,.2f} ms | {seconds / floor:.1f}× |")


def main() -> int:
    print("chaingrad engine — forward + backward, garbage collector on\n")
    print("| graph | nodes | time (median) | nodes per second | plain floats, same arithmetic "
          "| ÷ floats |")
    print("|---|---|---|---|---|---|")
    eager, floats, nodes = chain_case(DEEP_STEPS)
    print(row(f"deep chain, {DEEP_STEPS:,} steps", nodes, timed(eager, 2), timed(floats, 5)),
          flush=True)
    eager, floats, nodes = wide_case(WIDE_TERMS)
    print(row(f"wide sum, {WIDE_TERMS:,} products", nodes, timed(eager, 3), timed(floats, 10)),
          flush=True)
    eager, floats, nodes, program, compile_seconds = mlp_case()
    floor = timed(floats, 20)
    print(row("MLP 2-16-16-1, 100 points, hinge loss", nodes, timed(eager, 10), floor))
    print(row(f"  same, compiled ({compile_seconds:.1f} s once)", nodes, timed(program, 50),
              floor))
    print(f"\nCPython {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores. Peers: python bench/peers.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
