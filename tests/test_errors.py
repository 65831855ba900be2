"""The error catalogue: every bad input gets a typed error whose message names the
op (or function) and the offending value, so a learner can find the line at fault.
And the other side: extreme but legal inputs give finite, exact answers."""

from __future__ import annotations

import math

import pytest

from engine import (
    Constant,
    DivisionByZeroError,
    DomainError,
    GradientError,
    NonFiniteError,
    NumberOverflowError,
    Value,
    backward,
    detect_anomaly,
    exp,
    grad,
    log,
    order,
    sigmoid,
    tanh,
)

HERE = __file__


def x_labelled(data=2.0):
    return Value(data, label="x")


def grad_of(f, at):
    s = Value(at, label="s")
    return grad(f(s), s)


def anomalous(make):
    with detect_anomaly():
        return make()


# (what, how, exception type — exactly, fragments the message must contain)
CATALOGUE = [
    ("Value of a str", lambda: Value("a"), TypeError, ["Value", "str", "'a'"]),
    ("Value of None", lambda: Value(None), TypeError, ["Value", "None"]),
    ("Value of a complex", lambda: Value(1 + 2j), TypeError, ["Value", "complex", "(1+2j)"]),
    ("Value of a bool", lambda: Value(True), TypeError, ["Value", "bool", "True"]),
    ("Value of a list", lambda: Value([1.0]), TypeError, ["Value", "list", "[1.0]"]),
    ("Value of a huge int", lambda: Value(10 ** 400), NumberOverflowError, ["Value", "10^400"]),
    ("Value of a 5000-digit int", lambda: Value(-10 ** 5000), NumberOverflowError,
     ["Value", "-10^"]),
    ("label an int", lambda: Value(1.0, label=3), TypeError, ["Value", "label", "int", "3"]),
    ("label None", lambda: Value(1.0, label=None), TypeError, ["Value", "label", "None"]),
    ("Constant label", lambda: Constant(1.0, label=2.5), TypeError, ["Constant", "label", "2.5"]),
    ("x + str", lambda: x_labelled() + "s", TypeError, ["add", "+", "str", "'s'"]),
    ("str + x", lambda: "s" + x_labelled(), TypeError, ["add", "str", "'s'"]),
    ("x - None", lambda: x_labelled() - None, TypeError, ["sub", "None"]),
    ("x * list", lambda: x_labelled() * [2], TypeError, ["mul", "list", "[2]"]),
    ("x / str", lambda: x_labelled() / "2", TypeError, ["div", "'2'"]),
    ("x ** str", lambda: x_labelled() ** "2", TypeError, ["pow", "'2'"]),
    ("complex ** x", lambda: (1j) ** x_labelled(), TypeError, ["powv", "1j"]),
    ("x + huge int", lambda: x_labelled() + 10 ** 400, NumberOverflowError, ["add", "10^400"]),
    ("huge int * x", lambda: 10 ** 400 * x_labelled(), NumberOverflowError, ["mul", "10^400"]),
    ("exp of a str", lambda: exp("1"), TypeError, ["exp", "'1'"]),
    ("log(0)", lambda: log(0), DomainError, ["log", "log(0.0)", "a > 0"]),
    ("log(-1)", lambda: Value(-1.0, label="q").log(), DomainError, ["log", "-1.0", "'q'"]),
    ("0 ** -1", lambda: Value(0) ** -1, DivisionByZeroError, ["pow", "0.0", "-1.0"]),
    ("x / 0", lambda: x_labelled() / 0, DivisionByZeroError, ["div", "2.0 / 0.0", "'x'"]),
    ("1 / Value(0)", lambda: 1 / Value(0.0, label="z"), DivisionByZeroError, ["div", "'z'"]),
    ("exp(1000)", lambda: exp(1000), NumberOverflowError, ["exp", "1000.0", "overflow"]),
    ("Value(1000).exp()", lambda: Value(1000.0, label="big").exp(), NumberOverflowError,
     ["exp", "1000.0", "'big'"]),
    ("(-8) ** (1/3)", lambda: Value(-8) ** (1 / 3), DomainError,
     ["pow", "-8.0", "0.333", "real"]),
    ("mul overflow", lambda: Value(1e200, label="u") * Value(1e200, label="v"),
     NumberOverflowError,
     ["mul", "1e+200", "'u'", "'v'", "overflow"]),
    ("add overflow", lambda: Value(1.5e308) + 1.5e308, NumberOverflowError, ["add", "1.5e+308"]),
    ("pow overflow", lambda: Value(10.0) ** 400, NumberOverflowError, ["pow", "10.0", "400"]),
    ("Value ** Value, negative base", lambda: Value(-2.0, label="b") ** Value(0.5),
     DomainError, ["powv", "-2.0", "'b'", "base > 0"]),
    ("number ** Value, negative base", lambda: (-2) ** x_labelled(), DomainError,
     ["powv", "-2.0", "'x'"]),
    ("Value ** Value, zero base", lambda: Value(0.0) ** Value(2.0), DomainError,
     ["powv", "0.0"]),
    # an infinite local derivative: forward is fine, a gradient through it is refused
    ("sqrt'(0) in backward", lambda: (Value(0.0, label="r") ** 0.5).backward(), GradientError,
     ["pow: backward", "local gradient inf", "a = 0.0 ('r'), b = 0.5", "detect_anomaly()"]),
    ("1/x² at 1e-200 in grad", lambda: grad_of(lambda s: s ** -1, 1e-200), GradientError,
     ["pow: grad", "local gradient inf", "a = 1e-200 ('s'), b = -1.0"]),
    ("1/x at 1e-310 in backward", lambda: Value(1e-310, label="s").log().backward(),
     GradientError, ["log: backward", "local gradient inf", "a = 1e-310 ('s')"]),
    ("x / 1e-310 in grad", lambda: grad_of(lambda s: 1e-300 / s, 1e-310), GradientError,
     ["div: grad", "a = 1e-300, b = 1e-310 ('s')"]),
    ("sqrt'(0) under detect_anomaly", lambda: anomalous(lambda: Value(0.0, label="r") ** 0.5),
     NonFiniteError, ["pow:", "local derivatives", "a = 0.0 ('r')", "created at", HERE]),
    ("1/x at 1e-310 under detect_anomaly", lambda: anomalous(lambda: Value(1e-310).log()),
     NonFiniteError, ["log:", "local derivatives (1.0 / a)", "(inf,)", "1e-310", HERE]),
    ("backward(list)", lambda: (x_labelled() * 2).backward([1.0]), TypeError,
     ["backward", "list", "[1.0]", "scalar"]),
    ("backward(str)", lambda: backward(x_labelled() * 2, "1"), TypeError, ["backward", "'1'"]),
    ("backward(bool)", lambda: (x_labelled() * 2).backward(True), TypeError,
     ["backward", "bool"]),
    ("backward(nan)", lambda: (x_labelled() * 2).backward(math.nan), ValueError,
     ["backward", "nan"]),
    ("backward(inf)", lambda: (x_labelled() * 2).backward(math.inf), ValueError,
     ["backward", "inf"]),
    ("backward of a number", lambda: backward(3.0), TypeError, ["backward", "float"]),
    ("grad of a number", lambda: grad(3.0, x_labelled()), TypeError, ["grad", "output", "3.0"]),
    ("grad wrt a number", lambda: grad(x_labelled() * 2, 1.5), TypeError, ["grad", "wrt", "1.5"]),
    ("grad wrt a list of str", lambda: grad(x_labelled() * 2, ["x"]), TypeError,
     ["grad", "wrt", "'x'"]),
    ("order of a number", lambda: order(2.0), TypeError, ["order", "float"]),
]


@pytest.mark.parametrize("how, exc_type, fragments",
                         [case[1:] for case in CATALOGUE], ids=[case[0] for case in CATALOGUE])
def test_catalogue(how, exc_type, fragments):
    with pytest.raises(exc_type) as info:
        how()
    assert type(info.value) is exc_type, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_a_gradient_that_overflows_in_backward_names_the_op_and_the_node():
    # forward is finite (2e300) but each path carries 1e300 · 1e8 into x: 2e308 in all
    x = Value(1.0, label="x")
    y = x * 1e300 + x * 1e300
    with pytest.raises(OverflowError) as info:
        y.backward(1e8)
    message = str(info.value)
    assert message.startswith("mul: backward") and "a = 1.0 ('x'), b = 1e+300" in message
    assert "detect_anomaly()" in message and x.grad == 0.0


@pytest.mark.parametrize("make, value", [
    (lambda: Value(0.0) ** 0.5, 0.0),                      # √0, common in norms
    (lambda: Value(1e-200) ** -1, 1e200),
    (lambda: Value(1e-310).log(), math.log(1e-310)),
    (lambda: Value(1e-300) / Value(1e-310), 1e-300 / 1e-310),
])
def test_an_infinite_local_derivative_leaves_forward_alone(make, value):
    y = make()
    assert y.data == value and math.isinf(y.local_grads[0])
    (y * 0.0).backward()                                   # nothing flows: nothing refused
    assert y.inputs[0].grad == 0.0


@pytest.mark.parametrize("make", [
    lambda: Value(1e-200) ** -1,                           # its derivative overflows
    lambda: Value(1e-200) ** -2,                           # its value overflows
    lambda: Value(10.0) ** 400,
    lambda: Value(1e-200, label="s") ** Value(-2.0),
])
def test_no_message_carries_errno_text(make):
    # Python's own text for these is "(34, 'Numerical result out of range')"
    with pytest.raises(OverflowError) as info:
        make().backward()
    message = str(info.value)
    assert message.startswith(("pow:", "powv:")) and ("overflows" in message or "inf" in message)
    assert "34" not in message and "Numerical result" not in message


def test_an_error_leaves_the_operands_untouched():
    x = Value(0.0, label="x")
    with pytest.raises(ValueError):
        x.log()
    assert (x.data, x.grad, x.op, x.inputs) == (0.0, 0.0, None, ())


# ---- extreme but legal --------------------------------------------------------------
@pytest.mark.parametrize("at, s_limit, t_limit", [(1e6, 1.0, 1.0), (-1e6, 0.0, -1.0),
                                                  (1e300, 1.0, 1.0), (-1e300, 0.0, -1.0)])
def test_sigmoid_and_tanh_saturate_exactly_with_finite_gradients(at, s_limit, t_limit):
    x = Value(at)
    s, t = x.sigmoid(), x.tanh()
    assert s.data == s_limit and t.data == t_limit
    assert sigmoid(at).data == s_limit and tanh(at).data == t_limit
    (s + t).backward()
    assert x.grad == 0.0                      # σ′ = σ(1 − σ) = 0, tanh′ = 1 − tanh² = 0


@pytest.mark.parametrize("at", [-745.0, -40.0, 40.0, 709.0])
def test_sigmoid_is_stable_where_the_naive_formula_overflows(at):
    # 1 / (1 + e^−a) overflows e^−a for a < −709; the engine's σ never does.
    # Referee: σ(a) = exp(−log(1 + e^−a)) for a ≥ 0, exp(a − log(1 + e^a)) for a < 0
    x = Value(at)
    s = x.sigmoid()
    expected = (math.exp(-math.log1p(math.exp(-at))) if at >= 0
                else math.exp(at - math.log1p(math.exp(at))))
    assert s.data == pytest.approx(expected, rel=1e-12, abs=1e-320)
    assert math.isfinite(grad(s, x))


def test_log_of_a_tiny_positive_number():
    x = Value(1e-300)
    y = x.log()
    assert y.data == pytest.approx(-300 * math.log(10), rel=1e-15)
    y.backward()
    assert x.grad == pytest.approx(1e300, rel=1e-15)        # d ln x / dx = 1/x, finite


def test_inf_and_nan_inputs_are_the_users_choice_outside_anomaly_mode():
    big = Value(math.inf)
    assert (big + 1).data == math.inf
    assert (big * 0).data != (big * 0).data                  # NaN propagates, no error
    assert math.isnan((Value(math.nan) * 2).data)


# ---- one family of numeric errors, and README's NaN rule ----------------------------
@pytest.mark.parametrize("kind, builtins", [
    (DomainError, (ValueError,)), (DivisionByZeroError, (ZeroDivisionError,)),
    (NumberOverflowError, (OverflowError,)), (NonFiniteError, (FloatingPointError,)),
    (GradientError, (OverflowError, FloatingPointError))])
def test_every_numeric_refusal_is_of_the_family_and_its_builtin(kind, builtins):
    from engine import NumericError
    from nn import DivergenceError
    assert issubclass(kind, NumericError) and issubclass(NumericError, ArithmeticError)
    assert all(issubclass(kind, b) for b in builtins)
    assert issubclass(DivergenceError, NonFiniteError)


def test_the_nan_rule_a_nan_the_engine_would_make_is_an_error():
    x = Value(1e200, label="x")
    with pytest.raises(NumberOverflowError, match="mul"):
        x * x                                                   # inf from finite numbers
    y = Value(1e-200, label="y") ** -1                          # finite: 1e200
    with pytest.raises(GradientError, match="pow: backward"):
        y.backward()                                            # −1/y² overflows: refused


def test_the_nan_rule_a_nan_you_put_in_is_carried_outside_anomaly_mode():
    x, w = Value(math.nan, label="x"), Value(2.0, label="w")
    out = (x * w + 1).tanh()
    assert math.isnan(out.data)
    out.backward()                                              # carried, no error
    assert math.isnan(w.grad) and math.isnan(x.grad)
    with detect_anomaly():                                      # … unless asked to refuse it
        with pytest.raises(NonFiniteError, match="mul"):
            Value(math.nan, label="x") * w


@pytest.mark.parametrize("make, expected", [
    (lambda: Value(math.nan).relu(), math.nan),                 # ReLU does not hide a NaN
    (lambda: Value(-2.0) ** Value(math.nan), math.nan),          # no domain test on a NaN
    (lambda: Value(-2.0) ** math.nan, math.nan),
    (lambda: Value(-2.0) ** math.inf, math.inf),                 # as Python: (-2.0) ** inf
    (lambda: Value(math.nan).log(), math.nan),
])
def test_an_inf_or_nan_put_in_is_carried_through_every_op(make, expected):
    out = make().data
    assert (math.isnan(out) and math.isnan(expected)) or out == expected


def test_under_anomaly_mode_a_nan_put_in_is_refused_by_every_op():
    for make in (lambda x: x.relu(), lambda x: x.log(), lambda x: x * 2, lambda x: abs(x)):
        with detect_anomaly(), pytest.raises(NonFiniteError):
            make(Value(math.nan, label="x"))


def test_one_failing_local_rule_leaves_the_others_finite():
    a, b = Value(1e-160, label="a"), Value(-1.9, label="b")
    y = a ** b                                              # ∂y/∂a = b·a^(b−1) overflows
    assert math.isinf(y.local_grads[0]) and math.isfinite(y.local_grads[1])
    assert grad(y, b) == pytest.approx(y.data * math.log(1e-160), rel=1e-15)
    with pytest.raises(GradientError, match="powv: grad"):
        grad(y, a)                                          # the one that overflowed


def test_adding_back_a_leafs_earlier_gradient_may_not_overflow_silently():
    x = Value(1.0, label="x")
    x.grad = 1e308
    y = x * 1.0
    with pytest.raises(GradientError, match=r"backward: .* already held, overflows"):
        y.backward(1e308)
    assert x.grad == 1e308 and y.grad == 0.0                # a refused backward writes nothing
