"""PyTorch (float64) as an independent oracle for every op: values, first and second
derivatives. Skipped, with a reason, when torch is not installed.

The cases of tests/conftest.py call ops with syntax that ``Value`` and
``torch.Tensor`` share (``a ** b``, ``a.sigmoid()`` …), so the same line builds both.
"""

from __future__ import annotations

import math
import random

import pytest

from engine import OPS, Value, grad

torch = pytest.importorskip("torch")

POINTS = 20


def close(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-13)


def positions(case) -> list[int]:
    return [i for i in range(OPS[case.name].arity) if i not in case.numbers]


def torch_derivatives(case, point):
    """(value, gradient list, Hessian rows) from torch.autograd in float64."""
    args = [p if i in case.numbers else torch.tensor(p, dtype=torch.float64, requires_grad=True)
            for i, p in enumerate(point)]
    xs = [args[i] for i in positions(case)]
    out = case.call(*args)
    firsts = torch.autograd.grad(out, xs, create_graph=True, allow_unused=True)
    firsts = [torch.zeros((), dtype=torch.float64) if g is None else g for g in firsts]
    hessian = []
    for g in firsts:
        if g.requires_grad:
            # the first derivatives may share pieces of torch's graph (atan2's a² + b²)
            row = torch.autograd.grad(g, xs, allow_unused=True, retain_graph=True)
            hessian.append([0.0 if h is None else h.item() for h in row])
        else:                                  # a constant first derivative (relu, add …)
            hessian.append([0.0] * len(xs))
    return out.item(), [g.item() for g in firsts], hessian


def engine_derivatives(case, point):
    args = [p if i in case.numbers else Value(p) for i, p in enumerate(point)]
    xs = [args[i] for i in positions(case)]
    out = case.call(*args)
    firsts = grad(out, xs, create_graph=True)
    hessian = [grad(g, xs) for g in firsts]
    return out.data, [g.data for g in firsts], hessian


def test_every_op_matches_torch_in_value_gradient_and_hessian(op_case):
    rng = random.Random(f"torch-{op_case.name}")
    for _ in range(POINTS):
        point = op_case.sample(rng)
        ours = engine_derivatives(op_case, point)
        theirs = torch_derivatives(op_case, point)
        assert close(ours[0], theirs[0]), (op_case.name, point, "value", ours[0], theirs[0])
        for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
            assert close(a, b), (op_case.name, point, f"∂/∂x{i}", a, b)
        for i, (row, their_row) in enumerate(zip(ours[2], theirs[2])):
            for j, (a, b) in enumerate(zip(row, their_row)):
                assert close(a, b), (op_case.name, point, f"∂²/∂x{i}∂x{j}", a, b)


def test_relu_and_abs_at_zero_agree_with_torch():
    for f in (lambda a: a.relu(), abs):
        x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        f(x).backward()
        ours = Value(0.0)
        f(ours).backward()
        assert ours.grad == x.grad.item() == 0.0


@pytest.mark.parametrize("at", [-1e6, -50.0, 50.0, 1e6])
def test_saturated_sigmoid_and_tanh_agree_with_torch(at):
    for method in ("sigmoid", "tanh"):
        t = torch.tensor(at, dtype=torch.float64, requires_grad=True)
        getattr(t, method)().backward()
        x = Value(at)
        out = getattr(x, method)()
        out.backward()
        assert out.data == pytest.approx(getattr(torch, method)(t).item(), rel=1e-14, abs=0.0)
        assert x.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-300)
