"""The Value node itself: construction, labels, comparisons on data, identity
equality and hashing, repr, float, reflected operators and Value exponents."""

from __future__ import annotations

import copy
import inspect
import math
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest

from engine import OPS, Constant, Value, exp, grad, log, no_grad, order, relu, sigmoid, tanh


# ---- construction ----------------------------------------------------------------
@pytest.mark.parametrize("number, expected", [(3, 3.0), (-2.5, -2.5), (Fraction(1, 4), 0.25),
                                              (Decimal("1.5"), 1.5), (0, 0.0)])
def test_numbers_become_floats(number, expected):
    v = Value(number)
    assert type(v.data) is float and v.data == expected
    assert v.grad == 0.0 and v.label == "" and v.is_leaf
    assert v.inputs == () and v.local_grads == () and v.op is None


def test_label_and_constant_labels():
    assert Value(1.0, label="w1").label == "w1"
    assert Value(1.0, "b").label == "b"
    y = 2.5 * Value(1.0)
    two_and_a_half = y.inputs[0]
    # a plain number becomes a constant with no name of its own: diagrams write
    # its number; a constant can be named (a target)
    assert two_and_a_half.is_constant and two_and_a_half.label == ""
    assert Constant(3).label == "" and Constant(3, label="three").label == "three"
    assert two_and_a_half.grad is None and Constant(3).grad is None


def test_a_constant_is_asked_for_no_gradient_and_grad_answers_for_it_anyway():
    # y = c·x with c = 3 a constant: ∂y/∂x = 3, and ∂y/∂c = x = 2 if asked
    x, c = Value(2.0, "x"), Constant(3.0, "c")
    y = c * x + 1
    y.backward()
    assert x.grad == 3.0 and c.grad is None and y.inputs[1].grad is None
    assert c.is_constant and not x.is_constant and not y.is_constant
    assert grad(y, [x, c]) == [3.0, 2.0] and c.grad is None     # put back as it was
    y.backward()                                      # leaves accumulate; c stays None
    assert x.grad == 6.0 and c.grad is None
    y.zero_grad()
    assert x.grad == 0.0 and c.grad is None


def test_a_node_records_inputs_in_operand_order_and_its_local_gradients():
    a, b = Value(3.0), Value(4.0)
    y = a / b                                         # ∂/∂a = 1/b, ∂/∂b = −a/b²
    assert y.inputs == (a, b) and y.op.name == "div" and not y.is_leaf
    assert y.local_grads == (1 / 4.0, -3.0 / 16.0)


# ---- comparisons on data, identity for equality -------------------------------------
def test_comparisons_compare_data():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a and not a > b
    assert a < 1.5 and a <= 1 and a >= 1 and 3 > a and 0.5 < a
    assert sorted([b, a, Value(-1.0)], key=float)[0].data == -1.0
    assert sorted([b, a])[0] is a and max(a, b) is b and min([b, a]) is a


def test_comparing_with_a_non_number_is_a_type_error():
    with pytest.raises(TypeError):
        _ = Value(1.0) < "2"


def test_equality_and_hash_are_identity():
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b and not (a == b)
    assert a != 1.0 and not (a == 1.0)
    assert hash(a) == hash(a) and len({a, b}) == 2
    grads = {a: "first", b: "second"}
    assert grads[a] == "first" and grads[b] == "second"


# ---- repr and float -----------------------------------------------------------------
def test_repr_shows_data_grad_label_and_op():
    x = Value(2.5, label="x")
    assert repr(x) == "Value(data=2.5, grad=0, label='x')"
    y = x * x
    y.backward()
    assert repr(y) == "Value(data=6.25, grad=1, op='mul')"
    assert repr(x) == "Value(data=2.5, grad=5, label='x')"
    assert repr(Value(1 / 3)) == "Value(data=0.333333, grad=0)"
    assert repr(Constant(2)) == "Constant(data=2)"
    assert repr(Constant(0.9, "y")) == "Constant(data=0.9, label='y')"


def test_float_gives_the_data():
    x = Value(2.25)
    assert float(x) == 2.25 and type(float(x)) is float
    assert math.sqrt(x) == 1.5                       # math functions take it via __float__
    assert f"{float(x):.1f}" == "2.2"


# ---- operators with plain numbers, both ways round ------------------------------------
@pytest.mark.parametrize("expression, value, derivative", [
    # f(x) at x = 2, and f′(x) by hand
    (lambda x: 2 * x, 4.0, 2.0),
    (lambda x: x * 2, 4.0, 2.0),
    (lambda x: 3 + x, 5.0, 1.0),
    (lambda x: x + 3, 5.0, 1.0),
    (lambda x: 1 - x, -1.0, -1.0),
    (lambda x: x - 1, 1.0, 1.0),
    (lambda x: 1 / x, 0.5, -1 / 4),                  # −1/x²
    (lambda x: x / 4, 0.5, 1 / 4),
    (lambda x: 2 ** x, 4.0, 4.0 * math.log(2)),      # 2ˣ ln 2
    (lambda x: x ** 3, 8.0, 12.0),                   # 3x²
    (lambda x: x ** -1, 0.5, -1 / 4),
    (lambda x: x ** 0.5, math.sqrt(2), 0.5 / math.sqrt(2)),
    (lambda x: -x, -2.0, -1.0),
    (lambda x: +x, 2.0, 1.0),
])
def test_numbers_mix_on_either_side(expression, value, derivative):
    x = Value(2.0)
    y = expression(x)
    assert y.data == pytest.approx(value, rel=1e-15)
    assert grad(y, x) == pytest.approx(derivative, rel=1e-15)


def test_reflected_operators_keep_the_operand_order():
    x = Value(2.0)
    for y, op in ((1 - x, "sub"), (1 / x, "div"), (2 ** x, "powv"), (2 * x, "mul")):
        left, right = y.inputs
        assert y.op.name == op and left.is_constant and right is x


def test_pos_returns_the_node_itself():
    x = Value(1.0)
    assert +x is x


def test_a_value_exponent():
    # z = x^y at x = 1.5, y = 2.5: ∂z/∂x = y x^(y−1), ∂z/∂y = x^y ln x
    x, y = Value(1.5), Value(2.5)
    z = x ** y
    assert z.op.name == "powv" and z.inputs == (x, y)
    assert z.data == pytest.approx(1.5 ** 2.5, rel=1e-15)
    z.backward()
    assert x.grad == pytest.approx(2.5 * 1.5 ** 1.5, rel=1e-15)
    assert y.grad == pytest.approx(1.5 ** 2.5 * math.log(1.5), rel=1e-15)


def test_a_number_exponent_is_a_constant_with_no_gradient():
    x = Value(3.0)
    z = x ** 2
    assert z.op.name == "pow" and z.inputs[1].is_constant
    assert z.local_grads == (6.0, 0.0)


# ---- the named ops as methods and as functions ----------------------------------------
@pytest.mark.parametrize("name, f, df", [
    ("exp", math.exp, math.exp),
    ("log", math.log, lambda a: 1 / a),
    ("relu", lambda a: max(a, 0.0), lambda a: float(a > 0)),
    ("sigmoid", lambda a: 1 / (1 + math.exp(-a)), lambda a: math.exp(-a) / (1 + math.exp(-a)) ** 2),
    ("tanh", math.tanh, lambda a: 1 / math.cosh(a) ** 2),
])
def test_named_ops_as_methods_and_functions(name, f, df):
    function = {"exp": exp, "log": log, "relu": relu, "sigmoid": sigmoid, "tanh": tanh}[name]
    for at in (0.7, 1.9):
        x = Value(at)
        by_method = getattr(x, name)()
        by_function = function(x)
        on_a_number = function(at)
        assert by_method.data == by_function.data == on_a_number.data
        assert by_method.data == pytest.approx(f(at), rel=1e-14)
        assert grad(by_function, x) == pytest.approx(df(at), rel=1e-13)
        assert isinstance(on_a_number, Value) and on_a_number.inputs[0].is_constant


# ---- copying and pickling ------------------------------------------------------------
def _same_graph(a: Value, b: Value) -> None:
    """Two graphs of the same shape, node for node: data, grad, labels, op rows (the
    table's own), local gradients, and shared nodes shared alike."""
    nodes_a, nodes_b = order(a), order(b)
    assert len(nodes_a) == len(nodes_b)
    index_a = {n: i for i, n in enumerate(nodes_a)}
    index_b = {n: i for i, n in enumerate(nodes_b)}
    for p, q in zip(nodes_a, nodes_b):
        assert type(p) is type(q) and p is not q
        assert (p.data, p.grad, p.label, p.local_grads) == (q.data, q.grad, q.label, q.local_grads)
        assert p.op is q.op                                   # the row itself, not a copy
        assert [index_a[v] for v in p.inputs] == [index_b[v] for v in q.inputs]


def _example() -> Value:
    x, w = Value(0.5, "x"), Value(-1.2, "w")
    z = x * w + 2 * x
    z.label = "z"
    y = (z.tanh() * z + 1) ** 2 / abs(w)
    y.backward()
    return y


@pytest.mark.parametrize("copy_graph", [
    lambda y: copy.deepcopy(y),
    lambda y: pickle.loads(pickle.dumps(y)),
    lambda y: pickle.loads(pickle.dumps(y, protocol=0)),
])
def test_a_graph_copies_and_pickles_node_for_node(copy_graph):
    y = _example()
    twin = copy_graph(y)
    _same_graph(y, twin)
    twin.backward()                                           # and it works as a graph
    assert [n.grad for n in order(twin)[:2]] == [2 * n.grad for n in order(y)[:2]]   # x, w


@pytest.mark.parametrize("copy_graph", [copy.deepcopy, lambda y: pickle.loads(pickle.dumps(y))])
def test_a_deep_graph_copies_and_pickles_without_recursion(copy_graph):
    x = Value(1.0, "x")
    y = x
    for _ in range(20_000):                                   # far past the recursion limit
        y = y * 1.0001 + 0.0001
    twin = copy_graph(y)
    assert twin.data == y.data and len(order(twin)) == len(order(y))
    assert grad(twin, order(twin)[0]) == grad(y, x)


def test_pickling_several_graphs_at_once_keeps_what_they_share():
    x = Value(2.0, "x")
    z = x * x
    y1, y2 = z + 1, z * 3
    a, b, c, x2 = pickle.loads(pickle.dumps([y1, y2, z, x]))
    assert a.input_a is c and b.input_a is c and c.input_a is x2 and c.input_b is x2
    assert grad(b, x2) == 12.0


def test_a_shallow_copy_shares_the_inputs():
    x = Value(2.0, "x")
    y = x * 3
    twin = copy.copy(y)
    assert twin is not y and twin.inputs == y.inputs and twin.op is y.op


def test_copies_keep_constant_and_detached_kinds():
    x = Value(2.0, "x")
    with no_grad():
        d = x * 2
    y = d * 3 + Constant(4.0, "b0")
    twin = pickle.loads(pickle.dumps(y))
    kinds = sorted(type(n).__name__ for n in order(twin))
    assert kinds == sorted(type(n).__name__ for n in order(y))
    assert "b0" in {n.label for n in order(twin)}
    assert sorted(n.data for n in order(twin) if n.is_constant) == [3.0, 4.0]
    assert all(n.grad is None for n in order(twin) if n.is_constant)


def test_an_op_row_not_in_the_table_refuses_to_pickle():
    from engine import Op, apply
    odd = Op("mul", "×", "a * b", "b", "a")                 # named like a row, but not one
    with pytest.raises(TypeError, match="not a row of the op table"):
        pickle.dumps(apply(odd, Value(1.0), Value(2.0)))


# ---- the methods are the code that runs --------------------------------------------------
def test_each_op_method_shows_the_code_that_runs():
    source = inspect.getsource(Value.__mul__)
    assert "def __mul__(self, other):" in source and "out = x * y" in source
    assert "local_a = y" in source and "local_b = x" in source
    log_source = inspect.getsource(Value.log)
    assert "out = math.log(x)" in log_source and "if not (x > 0.0):" in log_source
    assert Value.log.__doc__ == OPS["log"].doc


def test_every_named_row_is_a_method_and_a_function():
    import engine
    for op in OPS.values():
        if op.function is None:
            continue
        assert callable(getattr(Value, op.function)) and engine.FUNCTIONS[op.function]
        x = Value(0.7)
        via_method = getattr(x, op.function)(*([Value(1.3)] if op.arity == 2 else []))
        via_function = getattr(engine, op.function)(0.7, *([1.3] if op.arity == 2 else []))
        assert via_method.data == via_function.data and via_method.op is op is via_function.op


def test_a_no_grad_result_as_an_exponent_is_a_number():
    x = Value(-2.0, "x")
    with no_grad():
        two = Value(1.0) * 2                      # Detached: a constant in a graph
    y = x ** two
    assert y.op is OPS["pow"] and y.data == 4.0   # not powv, which needs a base > 0
    y.backward()
    assert x.grad == -4.0


# ---- constants: what tells one, and what a gradient set to None means -----------------
def test_a_gradient_set_to_none_is_filled_again_as_in_pytorch():
    # PyTorch's zero_grad(set_to_none=True) habit: None reads as "no gradient yet"
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    y = w * x + 1                                     # ∂y/∂w = x = 2, ∂y/∂x = w = −3
    w.grad = x.grad = None
    y.backward()
    assert (w.grad, x.grad) == (2.0, -3.0)
    assert not w.is_constant and not x.is_constant
    w.grad = None
    z = Value(3.0) ** w                               # still a Value exponent: powv
    assert z.op.name == "powv"
    z.backward()                                      # ∂(3^w)/∂w = 3^w · ln 3
    assert w.grad == pytest.approx(3.0 ** -3.0 * math.log(3.0))


def test_a_constant_stays_one_and_is_not_differentiated_from():
    c = Constant(2.0)
    y = c * Value(1.5, "x")
    assert grad(y, c) == 1.5 and c.grad is None and c.is_constant
    with pytest.raises(ValueError, match="is a constant"):
        c.backward()
    assert c.grad is None and c.is_constant
    y.zero_grad()
    assert c.grad is None and c.is_constant


def test_a_value_subclass_cannot_define_init_but_can_add_methods():
    with pytest.raises(TypeError, match="cannot define __init__"):
        class Initialised(Value):
            def __init__(self, data: float) -> None:
                pass

    class Doubling(Value):
        def doubled(self) -> Value:
            return self * 2

    d = Doubling(1.5, "d")
    assert type(d) is Doubling and d.label == "d" and d.doubled().data == 3.0


def test_a_graph_pickled_when_constant_was_a_class_loads_as_constants():
    from engine.autograd import _rebuild
    # what such a pickle calls: the name Constant (now a function) and the old slots
    old = _rebuild(Constant, 2.0, 0.0, None, "", None, None, 0.0, 0.0, None)
    assert type(old) is Value and old.is_constant and old.grad is None and old.data == 2.0


def test_grad_answers_for_a_constant_to_any_order():
    # y = x·c and y = c·c: ∂y/∂c = x = 3 and 2c = 4; ∂²(c·c)/∂c² = 2
    x, c = Value(3.0, "x"), Constant(2.0, "c")
    assert grad(x * c, c) == 3.0
    assert grad(x * c, c, create_graph=True).data == 3.0
    first = grad(c * c, c, create_graph=True)
    assert first.data == 4.0 and grad(first, c) == 2.0
    assert c.grad is None and c.is_constant
