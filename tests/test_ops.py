"""Every row of the op table, checked at many points of its domain.

First derivatives are refereed by central differences of an independent formula for
the op; the k-th derivative (``grad(..., create_graph=True)`` k times) by central
differences of the engine's (k−1)-th. The cases live in tests/conftest.py and are
parametrised over ``engine.OPS``, so a new row is tested as soon as it has a case.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest

from engine import OPS, Value, grad

POINTS = 25          # sample points per op for values and first derivatives
HIGHER_POINTS = 12   # sample points per op for second and third derivatives


def close(analytic: float, numeric: float, rel: float = 1e-5, abs_: float = 1e-6) -> bool:
    return math.isclose(analytic, numeric, rel_tol=rel, abs_tol=abs_)


def differentiable(case) -> list[int]:
    """Argument positions that are Values (the exponent of ``pow`` stays a number)."""
    return [i for i in range(OPS[case.name].arity) if i not in case.numbers]


def build(case, point):
    """The op applied at ``point``: (its inputs, the output node)."""
    args = [p if i in case.numbers else Value(p, label=f"x{i}") for i, p in enumerate(point)]
    return args, case.call(*args)


def derivative(case, point, path) -> float:
    """∂^k out / ∂x_{path[0]} … ∂x_{path[-1]}, by k nested ``grad(create_graph=True)``."""
    args, out = build(case, point)
    for i in path:
        out = grad(out, args[i], create_graph=True)
        assert isinstance(out, Value)
    return out.data


def points(case, count, seed):
    rng = random.Random(seed)
    return [case.sample(rng) for _ in range(count)]


# ---- the table itself ----------------------------------------------------------
def test_every_op_has_a_case_and_every_case_an_op(op_cases):
    assert set(op_cases) == set(OPS)


def test_each_row_is_consistent(op_case):
    op = OPS[op_case.name]
    assert op.name == op_case.name
    assert op.symbol and isinstance(op.symbol, str)
    assert op.arity == len(op.local_rules) in (1, 2)
    assert len(differentiable(op_case)) + len(op_case.numbers) == op.arity


def test_the_case_builds_a_node_of_its_op(op_case):
    for point in points(op_case, 5, seed=1):
        args, out = build(op_case, point)
        op = OPS[op_case.name]
        assert out.op is op
        assert len(out.inputs) == len(out.local_grads) == op.arity
        for i, arg in enumerate(args):
            if i in op_case.numbers:       # a plain number became a Constant leaf
                assert out.inputs[i].is_constant and out.inputs[i].data == arg
            else:
                assert out.inputs[i] is arg


# ---- values ----------------------------------------------------------------------
def test_forward_matches_an_independent_formula(op_case):
    op = OPS[op_case.name]
    for point in points(op_case, POINTS, seed=2):
        expected = op_case.formula(*point)
        assert math.isclose(build(op_case, point)[1].data, expected, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(op.forward(*point), expected, rel_tol=1e-12, abs_tol=1e-12)


# ---- first derivatives -----------------------------------------------------------
def test_first_derivatives_match_central_differences(op_case, central_difference):
    op = OPS[op_case.name]

    def f(p):
        return op_case.formula(*p)

    for point in points(op_case, POINTS, seed=3):
        args, out = build(op_case, point)
        out.backward()
        functional = grad(out, [args[i] for i in differentiable(op_case)])
        for k, i in enumerate(differentiable(op_case)):
            numeric = central_difference(f, list(point), i)
            assert close(args[i].grad, numeric), (op_case.name, point, i, args[i].grad, numeric)
            assert functional[k] == args[i].grad
            assert out.local_grads[i] == args[i].grad          # one op: local = total
            assert op.local(*point, out.data)[i] == out.local_grads[i]


def test_grad_of_a_number_exponent_is_zero():
    x = Value(1.7)
    y = x ** 3
    exponent = y.inputs[1]
    assert exponent.is_constant and exponent.data == 3.0
    assert grad(y, exponent) == 0.0


# ---- second and third derivatives ------------------------------------------------
@pytest.mark.parametrize("order", [2, 3])
def test_higher_derivatives_match_central_differences_of_the_lower_one(
        op_case, order, central_difference):
    for point in points(op_case, HIGHER_POINTS, seed=10 + order):
        for path in itertools.product(differentiable(op_case), repeat=order):
            analytic = derivative(op_case, point, path)
            numeric = central_difference(lambda p, lower=path[:-1]: derivative(op_case, p, lower),
                                         list(point), path[-1])
            assert close(analytic, numeric, rel=1e-5, abs_=1e-5), \
                (op_case.name, point, path, analytic, numeric)


def test_mixed_second_derivatives_are_symmetric(op_cases):
    binary = [case for case in op_cases.values() if len(differentiable(case)) == 2]
    assert {case.name for case in binary} >= {"add", "sub", "mul", "div", "powv"}
    for case in binary:
        for point in points(case, HIGHER_POINTS, seed=20):
            ab = derivative(case, point, (0, 1))
            ba = derivative(case, point, (1, 0))
            assert math.isclose(ab, ba, rel_tol=1e-12, abs_tol=1e-12), (case.name, point)


# ---- hand-derived derivatives at the awkward points --------------------------------
def test_relu_derivative_at_zero_is_zero():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert y.data == 0.0
    assert x.grad == 0.0
    assert grad(x.relu(), x) == 0.0
    assert Value(-0.0).relu().data == 0.0


def test_relu_second_derivative_is_zero_on_both_sides():
    for at in (-1.5, 2.0):
        x = Value(at)
        first = grad(x.relu(), x, create_graph=True)
        assert first.data == (1.0 if at > 0 else 0.0)
        assert grad(first, x) == 0.0


@pytest.mark.parametrize("at, slope", [(-2.5, -1.0), (-0.0, 0.0), (0.0, 0.0), (3.0, 1.0)])
def test_abs_slope_is_the_sign_and_zero_at_zero(at, slope):
    # |x| = −x left of 0, x right of it; abs′(0) = 0 (a subgradient, PyTorch's choice)
    x = Value(at)
    y = abs(x)
    y.backward()
    assert y.data == (at if at > 0 else -at) and y.op.name == "abs"
    assert x.grad == slope and grad(abs(x), x) == slope
    first = grad(abs(x), x, create_graph=True)
    assert first.data == slope and grad(first, x) == 0.0   # no curvature anywhere


def test_a_kink_is_a_corner_where_the_rule_takes_a_value_between_the_sides():
    """The rows with a ``kink`` (ReLU and abs at 0): the one-sided slopes there differ
    (no derivative), the local rule gives one number between them (PyTorch's 0), and
    the rule is not at a kink anywhere else."""
    kinked = {name: op for name, op in OPS.items() if op.kink is not None}
    assert sorted(kinked) == ["abs", "relu"]
    h = 1e-7
    for op in kinked.values():
        assert op.at_kink(0.0) and not op.at_kink(1e-300) and not op.at_kink(-2.0)
        left = (op.forward(0.0) - op.forward(-h)) / h
        right = (op.forward(h) - op.forward(0.0)) / h
        (taken,) = op.local(0.0, op.forward(0.0))
        assert abs(right - left) > 0.5 and min(left, right) <= taken == 0.0 <= max(left, right)
    assert not any(op.at_kink(*[0.0] * op.arity) for op in OPS.values() if op.kink is None)


def test_an_l1_loss_pulls_each_prediction_by_the_sign_of_its_error():
    # L = Σ |p_i − t_i|:  ∂L/∂p_i = sign(p_i − t_i)
    predictions = [Value(p) for p in (0.5, 2.0, -1.0)]
    targets = (1.0, 1.5, -1.0)
    loss = sum(abs(p - t) for p, t in zip(predictions, targets))
    loss.backward()
    assert loss.data == 0.5 + 0.5 + 0.0
    assert [p.grad for p in predictions] == [-1.0, 1.0, 0.0]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_powers_of_zero_have_every_derivative(n):
    # d^k/dx^k x^n = n!/(n−k)! · x^(n−k), which at x = 0 is n! when k = n and 0 otherwise
    x = Value(0.0)
    out = x ** n
    assert out.data == (1.0 if n == 0 else 0.0)
    for k in range(1, n + 2):
        out = grad(out, x, create_graph=True)
        expected = math.factorial(n) if k == n else 0.0
        assert out.data == expected, (n, k, out.data)


@pytest.mark.parametrize("at", [-2.0, -0.5, 0.5, 3.0])
def test_integer_powers_of_negative_and_positive_bases(at):
    # x³: 3x², 6x, 6 — by hand; a negative base is fine for an integer exponent
    x = Value(at)
    first = grad(x ** 3, x, create_graph=True)
    second = grad(first, x, create_graph=True)
    third = grad(second, x)
    assert first.data == pytest.approx(3 * at * at, rel=1e-15)
    assert second.data == pytest.approx(6 * at, rel=1e-15)
    assert third == pytest.approx(6.0, rel=1e-15)


def test_sigmoid_and_tanh_derivatives_by_hand():
    # σ′ = σ(1 − σ), σ″ = σ′(1 − 2σ); tanh′ = 1 − tanh², tanh″ = −2 tanh · tanh′
    for at in (-2.0, 0.0, 0.7):
        s = 1 / (1 + math.exp(-at))
        t = math.tanh(at)
        x = Value(at)
        ds = grad(x.sigmoid(), x, create_graph=True)
        dt = grad(x.tanh(), x, create_graph=True)
        assert ds.data == pytest.approx(s * (1 - s), rel=1e-14)
        assert grad(ds, x) == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-12, abs=1e-15)
        assert dt.data == pytest.approx(1 - t * t, rel=1e-14)
        assert grad(dt, x) == pytest.approx(-2 * t * (1 - t * t), rel=1e-12, abs=1e-15)


def test_value_exponent_derivatives_by_hand():
    # out = a^b: ∂/∂a = b a^(b−1), ∂/∂b = a^b ln a, ∂²/∂a∂b = a^(b−1)(1 + b ln a)
    a_, b_ = 1.8, -0.6
    a, b = Value(a_), Value(b_)
    da, db = grad(a ** b, [a, b], create_graph=True)
    assert da.data == pytest.approx(b_ * a_ ** (b_ - 1), rel=1e-14)
    assert db.data == pytest.approx(a_ ** b_ * math.log(a_), rel=1e-14)
    assert grad(da, b) == pytest.approx(a_ ** (b_ - 1) * (1 + b_ * math.log(a_)), rel=1e-12)
    assert grad(db, a) == pytest.approx(a_ ** (b_ - 1) * (1 + b_ * math.log(a_)), rel=1e-12)
