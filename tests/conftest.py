"""Shared by the engine tests: one case per row of ``engine.OPS``.

A case says how to call the op, where its domain is (with a margin, so a finite
difference never steps over a kink or a pole), and an independent formula for its
value. ``call`` is written with operators and methods that ``Value`` and
``torch.Tensor`` share, so one case serves the engine, finite differences and the
PyTorch oracle. The ``op_case`` fixture is parametrised over ``engine.OPS``: a new
row without a case here fails every per-op test.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from engine import OPS

#: ``make soak`` sets CHAINGRAD_SOAK (10000): every random-graph test then draws that
#: many graphs, on a fixed seed. ``make test`` leaves it unset: each test's own count.
SOAK = int(os.environ.get("CHAINGRAD_SOAK", "0"))


def examples(usual: int) -> int:
    """How many random cases a property test draws: ``usual``, or the soak's count."""
    return SOAK or usual


@dataclass(frozen=True)
class OpCase:
    name: str
    call: Callable[..., Any]                            # the op on Values (or tensors)
    sample: Callable[[random.Random], tuple[float, ...]]  # a point well inside the domain
    ok: Callable[..., bool]                             # is a point safely inside the domain?
    formula: Callable[..., float]                       # the value, computed independently
    numbers: tuple[int, ...] = ()                       # argument positions that stay plain numbers


def _uniform_away_from_zero(rng: random.Random, low: float, high: float) -> float:
    return rng.choice((-1.0, 1.0)) * rng.uniform(low, high)


def _pow_point(rng: random.Random) -> tuple[float, float]:
    """A number exponent: any base for an integer exponent, a positive base otherwise."""
    n = rng.choice((0, 1, 2, 3, -1, -2, 0.5, 1.5, -0.5, 2.5))
    if float(n).is_integer():
        return _uniform_away_from_zero(rng, 0.3, 2.5), float(n)
    return rng.uniform(0.3, 2.5), float(n)


OP_CASES: dict[str, OpCase] = {case.name: case for case in (
    OpCase("add", lambda a, b: a + b, lambda r: (r.uniform(-3, 3), r.uniform(-3, 3)),
           lambda a, b: True, lambda a, b: a - (-b)),
    OpCase("sub", lambda a, b: a - b, lambda r: (r.uniform(-3, 3), r.uniform(-3, 3)),
           lambda a, b: True, lambda a, b: a + (-b)),
    OpCase("mul", lambda a, b: a * b, lambda r: (r.uniform(-3, 3), r.uniform(-3, 3)),
           lambda a, b: True, lambda a, b: ((a + b) ** 2 - (a - b) ** 2) / 4),
    OpCase("div", lambda a, b: a / b,
           lambda r: (r.uniform(-3, 3), _uniform_away_from_zero(r, 0.3, 3)),
           lambda a, b: abs(b) > 0.2, lambda a, b: a * b ** -1),
    OpCase("pow", lambda a, n: a ** n, _pow_point,
           lambda a, n: abs(a) > 0.2 and (a > 0 or float(n).is_integer()),
           lambda a, n: math.copysign(1.0, a) ** n * math.exp(n * math.log(abs(a))),
           numbers=(1,)),
    OpCase("powv", lambda a, b: a ** b, lambda r: (r.uniform(0.3, 2.5), r.uniform(-2, 2)),
           lambda a, b: a > 0.2, lambda a, b: math.exp(b * math.log(a))),
    OpCase("neg", lambda a: -a, lambda r: (r.uniform(-3, 3),),
           lambda a: True, lambda a: 0.0 - a),
    OpCase("exp", lambda a: a.exp(), lambda r: (r.uniform(-3, 3),),
           lambda a: a < 5, lambda a: math.e ** a),
    OpCase("log", lambda a: a.log(), lambda r: (r.uniform(0.2, 5),),
           lambda a: a > 0.2, lambda a: math.log2(a) / math.log2(math.e)),
    OpCase("relu", lambda a: a.relu(), lambda r: (_uniform_away_from_zero(r, 0.1, 3),),
           lambda a: abs(a) > 0.1, lambda a: max(0.0, a)),
    OpCase("sigmoid", lambda a: a.sigmoid(), lambda r: (r.uniform(-4, 4),),
           lambda a: True, lambda a: 0.5 * (1.0 + math.tanh(a / 2))),
    OpCase("tanh", lambda a: a.tanh(), lambda r: (r.uniform(-3, 3),),
           lambda a: True, lambda a: (math.exp(2 * a) - 1) / (math.exp(2 * a) + 1)),
    OpCase("abs", lambda a: abs(a), lambda r: (_uniform_away_from_zero(r, 0.1, 3),),
           lambda a: abs(a) > 0.1, lambda a: math.sqrt(a * a)),
)}


class _Cases(dict):
    def __repr__(self) -> str:           # short, for hypothesis' falsifying examples
        return f"<{len(self)} op cases>"


@pytest.fixture(params=sorted(OPS))
def op_case(request: pytest.FixtureRequest) -> OpCase:
    """Each op of ``engine.OPS`` in turn, with its case."""
    name = request.param
    if name not in OP_CASES:
        pytest.fail(f"op {name!r} has no test case: add an OpCase row to tests/conftest.py")
    return OP_CASES[name]


@pytest.fixture(scope="session")
def op_cases() -> dict[str, OpCase]:
    """All cases by op name (every op of ``engine.OPS`` must have one)."""
    missing = sorted(set(OPS) - set(OP_CASES))
    if missing:
        pytest.fail(f"ops without a test case in tests/conftest.py: {missing}")
    return _Cases(OP_CASES)


def _central_difference(f: Callable[[list[float]], float], point: list[float], i: int,
                        eps: float = 1e-6) -> float:
    """∂f/∂x_i ≈ (f(x + ε e_i) − f(x − ε e_i)) / 2ε: the referee for analytic gradients."""
    up, down = list(point), list(point)
    up[i] += eps
    down[i] -= eps
    return (f(up) - f(down)) / (2 * eps)


@pytest.fixture(scope="session")
def central_difference() -> Callable[..., float]:
    """``central_difference(f, point, i, eps=1e-6)``: a central finite difference."""
    return _central_difference


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (tests/browser.py) for the page tests; skips, saying how to
    install it, where Chromium, its driver or selenium is missing."""
    from browser import Browser, missing
    reason = missing()
    if reason:
        pytest.skip(reason)
    opened = Browser()
    yield opened
    opened.close()
