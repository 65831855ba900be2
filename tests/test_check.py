"""Gradient checks for users: numerical_grad, gradcheck, gradgradcheck, assert_grad,
and the pytest plugin that offers them as fixtures."""

import math
import subprocess
import sys
import textwrap

import pytest

from engine import (
    GradcheckError,
    Op,
    Value,
    apply,
    assert_grad,
    grad,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)
from engine.check import value_at


def neuron_bce(w, b, x=1.5, y=1.0):
    """LESSONS.md result 1: z = wx + b, a = σ(z), L = −y log a − (1 − y) log(1 − a)."""
    a = (w * x + b).sigmoid()
    return -(y * a.log() + (1 - y) * (1 - a).log()), a


@pytest.mark.parametrize("x, y", [(1.5, 1.0), (-0.7, 0.0), (2.0, 1.0)])
def test_single_neuron_result_one(x, y):
    w, b = Value(0.8, "w"), Value(-0.3, "b")
    L, a = neuron_bce(w, b, x, y)
    # the σ′ = a(1 − a) factor cancels: ∂L/∂w = (a − y)·x, ∂L/∂b = a − y
    assert_grad(L, {w: (a.data - y) * x, b: a.data - y})


def test_numerical_grad_of_a_function_matches_the_calculus():
    # f(u, v) = u²·v + e^v ⇒ ∂f/∂u = 2uv, ∂f/∂v = u² + e^v
    u, v = 0.7, -0.4
    du, dv = numerical_grad(lambda u, v: u * u * v + v.exp(), [u, v])
    assert du == pytest.approx(2 * u * v, abs=1e-8)
    assert dv == pytest.approx(u * u + math.exp(v), abs=1e-8)


def test_numerical_grad_of_a_built_graph_nudges_interior_nodes_too():
    x = Value(0.3, "x")
    z = x * 2.0
    z.label = "z"
    out = z.tanh()
    (dz,) = numerical_grad(out, [z])
    assert dz == pytest.approx(1 - math.tanh(0.6) ** 2, abs=1e-8)
    assert z.data == 0.6 and out.data == math.tanh(0.6)   # replay leaves the graph alone


def test_value_at_replays_the_recorded_forward_values():
    x, w = Value(0.5, "x"), Value(-1.2, "w")
    out = ((x * w + 0.3).tanh() ** 2 / (1 + x.exp())).log()
    assert value_at(out, {x: 0.5, w: -1.2}) == out.data      # every op run again
    t = math.tanh(0.6 * -1.2 + 0.3)
    assert value_at(out, {x: 0.6}) == pytest.approx(math.log(t ** 2 / (1 + math.exp(0.6))),
                                                  rel=1e-15)


def test_gradcheck_passes_on_correct_gradients():
    assert gradcheck(lambda w, b: (w * 1.5 + b).tanh() * w, [0.3, -0.2]) is True
    w, b = Value(0.3, "w"), Value(-0.2, "b")
    assert gradcheck((w * b).sigmoid(), [w, b]) is True


def test_gradcheck_failure_is_an_assertion_error_with_a_table():
    # A row with a wrong rule for tanh′ (missing the square): the check must catch it.
    wrong_tanh = Op("tanh", "tanh", "tanh(a)", "1.0 - out")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda w, b: apply(wrong_tanh, w * 1.5 + b), [0.3, -0.2])
    assert isinstance(info.value, AssertionError)
    text = str(info.value)
    assert "gradcheck failed for 2 of 2" in text
    for column in ("input", "engine", "numeric", "|difference|"):
        assert column in text
    lines = text.splitlines()
    w_row = next(line for line in lines if line.strip().startswith("w "))
    z = 0.3 * 1.5 - 0.2
    assert f"{(1 - math.tanh(z)) * 1.5:.10g}" in w_row          # what the bad rule gave
    assert f"{(1 - math.tanh(z) ** 2) * 1.5:.6g}"[:6] in w_row   # what differences gave
    assert w_row.rstrip().endswith("✗")


def test_gradgradcheck_checks_every_second_derivative():
    assert gradgradcheck(lambda u, v: (u * v).tanh() * u + v ** 3, [0.3, -0.5]) is True


def test_gradgradcheck_catches_a_wrong_second_derivative(monkeypatch):
    import engine.ops as ops
    # σ′ = out(1 − out) is right numerically at forward time, but written on Values
    # as a constant it has no second derivative: gradgradcheck must notice.
    original = ops.SIGMOID.local
    monkeypatch.setattr(ops.SIGMOID, "local",
                        lambda a, out: (float(out) * (1 - float(out)),) if isinstance(out, Value)
                        else original(a, out))
    with pytest.raises(GradcheckError, match="gradgradcheck failed"):
        gradgradcheck(lambda u: u.sigmoid(), [0.4])


def test_assert_grad_blames_the_derivation_when_engine_and_numeric_agree():
    w, b = Value(0.8, "w"), Value(-0.3, "b")
    L, a = neuron_bce(w, b)
    with pytest.raises(GradcheckError) as info:
        assert_grad(L, {w: a.data - 1.0, b: a.data - 1.0})   # forgot the ·x
    text = str(info.value)
    assert "1 of 2 gradients" in text and "✗ expected" in text
    assert "check the hand derivation" in text
    assert f"{(a.data - 1.0) * 1.5:.10g}" in text             # the engine's number is shown


def test_assert_grad_accepts_interior_nodes_and_value_expectations():
    x = Value(2.0, "x")
    z = x * x
    z.label = "z"
    out = z.log()
    assert_grad(out, {z: 1 / z.data, x: Value(2 / x.data)})


@pytest.mark.parametrize("call, kind, words", [
    (lambda: gradcheck(lambda x: x, 0.5), TypeError, "sequence"),
    (lambda: gradcheck(lambda x: x, ["a"]), TypeError, "numbers"),
    (lambda: gradcheck(lambda x: [x], [0.5]), TypeError, "must return a Value"),
    (lambda: gradcheck(42, [0.5]), TypeError, "function"),
    (lambda: gradcheck(lambda x: x, [0.5], eps=0), ValueError, "eps"),
    (lambda: gradcheck(lambda x: x, [0.5], atol=-1), ValueError, "atol"),
    (lambda: gradgradcheck(Value(1.0), [0.5]), TypeError, "function"),
    (lambda: gradcheck(lambda: Value(1.0), []), ValueError, "gradcheck: no inputs"),
    (lambda: numerical_grad(lambda: Value(1.0), []), ValueError, "numerical_grad: no inputs"),
    (lambda: gradgradcheck(lambda: Value(1.0), []), ValueError, "gradgradcheck: no inputs"),
    (lambda: gradcheck(Value(1.0) * 2, []), ValueError, "gradcheck: no inputs"),
    (lambda: assert_grad(1.0, {}), TypeError, "output"),
    (lambda: assert_grad(Value(1.0), {}), TypeError, "non-empty"),
    (lambda: assert_grad(Value(1.0), {"x": 1.0}), TypeError, "keys"),
    (lambda: assert_grad(Value(1.0, "y"), {Value(1.0, "x"): "1"}), TypeError, "number"),
])
def test_bad_arguments_are_typed_errors(call, kind, words):
    with pytest.raises(kind, match=words):
        call()


def test_a_function_ignoring_an_input_has_zero_gradient_there():
    assert numerical_grad(lambda u, v: u * 3.0, [1.0, 2.0]) == pytest.approx([3.0, 0.0])
    u, v = Value(1.0), Value(2.0)
    assert grad(u * 3.0, [u, v]) == [3.0, 0.0]


PLUGIN_TEST = textwrap.dedent('''
    from engine import Value

    def test_fixtures_exist(gradcheck, gradgradcheck, numerical_grad, assert_grad):
        assert gradcheck(lambda x: x.tanh(), [0.2])
        assert gradgradcheck(lambda x: x.tanh(), [0.2])
        assert abs(numerical_grad(lambda x: x * x, [3.0])[0] - 6.0) < 1e-6

    def test_wrong_derivation(assert_grad):
        w = Value(0.5, "w")
        L = (w * 3.0) ** 2
        assert_grad(L, {w: 2 * w.data * 3.0})
''')


def test_pytest_plugin_offers_fixtures_and_reports_a_table(tmp_path):
    (tmp_path / "test_user.py").write_text(PLUGIN_TEST)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(tmp_path / "test_user.py")],
                         capture_output=True, text=True, cwd=tmp_path)
    out = run.stdout
    assert run.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "GradcheckError" in out and "assert_grad: 1 of 1 gradients" in out
    assert "check the hand derivation" in out


def test_inputs_may_be_any_iterable_even_a_generator():
    f = lambda w, b: (w * 1.5 + b).tanh()                       # noqa: E731
    assert gradcheck(f, (x for x in [0.3, -0.2])) is True
    assert numerical_grad(f, iter([0.3, -0.2])) == pytest.approx(numerical_grad(f, [0.3, -0.2]))


def test_a_table_names_an_unnamed_constant_by_its_number():
    from engine import Constant
    from engine.testing import assert_grad
    x, c = Value(1.5, "x"), Constant(2.0)
    y = c * x * x                                     # ∂y/∂c = x² = 2.25, ∂y/∂x = 2cx = 6
    with pytest.raises(AssertionError) as refused:
        assert_grad(y, {c: 99.0, x: 6.0})
    assert "\n  2      2.25    99" in str(refused.value)
