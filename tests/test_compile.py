"""engine.compile: a built graph as straight-line Python, checked against eager mode.

Every expectation comes from eager mode itself (the same graph rebuilt at the new
numbers and sent through ``backward``) or from a hand-derived formula: the
program must agree with the engine it was compiled from to 1e-12.
"""

from __future__ import annotations

import gc
import inspect
import math
import random
import re
import sys

import pytest
from conftest import SOAK, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine import (
    Constant,
    DivisionByZeroError,
    DomainError,
    NumberOverflowError,
    Value,
    compile,
    no_grad,
)

TOL = 1e-12


def close(x: float, y: float) -> bool:
    return abs(x - y) <= TOL * max(1.0, abs(x), abs(y))


def eager(build, numbers):
    """Output and gradients of ``build`` at ``numbers``, the eager way."""
    leaves = [Value(x) for x in numbers]
    out = build(*leaves)
    out.backward()
    return out.data, [v.grad for v in leaves]


def compiled_at(build, at, numbers):
    """Build the graph at ``at``, compile it, run the program at ``numbers``."""
    leaves = [Value(x) for x in at]
    program = compile(build(*leaves), leaves)
    return program.value_and_grad(numbers), program(numbers)


def assert_same(build, at, numbers):
    (out, grads), forward_only = compiled_at(build, at, numbers)
    want_out, want_grads = eager(build, numbers)
    assert close(out, want_out), (out, want_out)
    assert close(forward_only, want_out)
    assert len(grads) == len(want_grads)
    for got, want in zip(grads, want_grads):
        assert close(got, want), (grads, want_grads)


# ---- every op of the table, at numbers other than the ones compiled at --------------
OP_CASES = {
    "add": (lambda a, b: a + b, [0.3, -1.2], [2.0, 0.7]),
    "sub": (lambda a, b: a - b, [0.3, -1.2], [2.0, 0.7]),
    "mul": (lambda a, b: a * b, [0.3, -1.2], [2.0, 0.7]),
    "div": (lambda a, b: a / b, [0.3, -1.2], [2.0, 0.7]),
    "pow": (lambda a: a ** 3, [0.3], [-1.7]),
    "pow fractional": (lambda a: a ** 0.5, [0.3], [2.5]),
    "pow negative": (lambda a: a ** -2, [0.3], [-1.5]),
    "powv": (lambda a, b: a ** b, [1.3, 0.4], [2.5, -1.5]),
    "rpow": (lambda a: 2.0 ** a, [0.3], [-1.1]),
    "neg": (lambda a: -a, [0.3], [2.0]),
    "exp": (lambda a: a.exp(), [0.3], [-2.0]),
    "log": (lambda a: a.log(), [0.3], [4.0]),
    "relu": (lambda a: a.relu(), [0.3], [1.9]),
    "sigmoid": (lambda a: a.sigmoid(), [0.3], [-3.0]),
    "tanh": (lambda a: a.tanh(), [0.3], [0.8]),
    "abs": (lambda a: abs(a), [0.3], [-1.9]),          # sign(a) re-decided on new numbers
    "constants": (lambda a: 2 * a + 1 - a / 4, [0.3], [5.0]),
    "reflected": (lambda a: 1 / a - (3 - a), [0.3], [5.0]),
}


@pytest.mark.parametrize("case", sorted(OP_CASES))
def test_each_op_matches_eager_at_new_numbers(case):
    build, at, numbers = OP_CASES[case]
    assert_same(build, at, numbers)


def test_every_op_of_the_table_is_covered():
    """A new row of the op table needs a case here (named after the op)."""
    assert set(engine.OPS) <= {c.split()[0] for c in OP_CASES}


# ---- shared nodes, diamonds, a*a ----------------------------------------------------
def test_a_times_a_counts_both_operands():
    # d(a·a)/da = 2a
    (out, [g]), _ = compiled_at(lambda a: a * a, [3.0], [-1.5])
    assert out == 2.25 and g == -3.0


def test_diamond_b_equals_a_plus_a_then_c_equals_b_plus_b():
    # c = 4a: dc/da = 4 whatever a is
    (out, [g]), _ = compiled_at(lambda a: (a + a) + (a + a), [1.0], [0.25])
    assert out == 1.0 and g == 4.0


def test_shared_subexpression_used_three_ways():
    def build(x, y):
        s = x * y + x.tanh()
        return s * s + s.sigmoid() - s / (y * y + 1)
    assert_same(build, [0.4, -0.9], [-1.3, 0.6])


# ---- random graphs --------------------------------------------------------------------
def random_recipe(rng: random.Random, leaves: int, steps: int) -> list[tuple]:
    """Steps (op, i, j) over earlier nodes; ops that are defined everywhere."""
    recipe = []
    for k in range(steps):
        n = leaves + k
        op = rng.choice(sorted(STEPS))
        recipe.append((op, rng.randrange(n), rng.randrange(n), rng.uniform(-2, 2)))
    return recipe


STEPS = {
    "add": lambda a, b, c: a + b, "sub": lambda a, b, c: a - b, "mul": lambda a, b, c: a * b,
    "tanh": lambda a, b, c: a.tanh(), "sigmoid": lambda a, b, c: a.sigmoid(),
    "relu": lambda a, b, c: a.relu(), "neg": lambda a, b, c: -a,
    "const": lambda a, b, c: a * c + c, "square": lambda a, b, c: a ** 2,
    "softplus": lambda a, b, c: (a.tanh().exp() + 1).log(),
}


def run_recipe(recipe, *leaves):
    nodes = list(leaves)
    for op, i, j, c in recipe:
        nodes.append(STEPS[op](nodes[i], nodes[j], c))
    total = nodes[-1]
    for extra in (*leaves, *nodes[len(leaves):-1:3]):   # every leaf and much of the graph
        total = total + extra.tanh()
    return total


@pytest.mark.parametrize("seed", range(examples(25)))
def test_random_graphs_match_eager(seed):
    rng = random.Random(seed)
    leaves = rng.randint(1, 4)
    recipe = random_recipe(rng, leaves, rng.randint(1, 40))
    at = [rng.uniform(-2, 2) for _ in range(leaves)]
    numbers = [rng.uniform(-2, 2) for _ in range(leaves)]
    assert_same(lambda *v: run_recipe(recipe, *v), at, numbers)


# Labels chosen to trip up a writer of source code: the names the rules use (a, b,
# out), placeholders, keywords, builtins, the generated code's own names, names it
# would give (v1, d_v1, x1), text that is no identifier, and unicode that Python
# reads as another name (ﬁ is fi, ℌ is H after NFKC normalisation).
ADVERSARIAL_LABELS = [
    "", " ", "a", "b", "out", "__a__", "__b__", "__out__", "lambda", "None", "True",
    "__debug__", "len", "print", "numbers", "fail", "checked", "count_error", "finite",
    "grads", "extra", "error", "forward", "value_and_grad", "inf", "nan", "exp", "log",
    "power", "tanh", "sigmoid", "v1", "v2", "v2_2", "x1", "d", "d_2", "d_v1", "d_x1",
    "1x", "a.b", "a_b", "a b", "x²", "ﬁ", "fi", "ℌ", "H", "δ", "ŷ", "w₁", "__builtins__",
    "_", "match", "\x00", "#", '"', "'''", "{a}", "%s", "\\",
]
labels = st.one_of(st.sampled_from(ADVERSARIAL_LABELS), st.text(max_size=6))


@settings(max_examples=examples(150), deadline=None, derandomize=bool(SOAK),
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), data=st.data())
def test_random_graphs_with_any_labels_match_eager(seed, data):
    rng = random.Random(seed)
    count = rng.randint(1, 4)
    recipe = random_recipe(rng, count, rng.randint(1, 25))
    at = [rng.uniform(-2, 2) for _ in range(count)]
    numbers = [rng.uniform(-2, 2) for _ in range(count)]
    leaves = [Value(x) for x in at]
    out = run_recipe(recipe, *leaves)
    for node in engine.order(out):                  # every node, interior ones too
        node.label = data.draw(labels)
    program = compile(out, leaves)
    got, grads = program.value_and_grad(numbers)
    want, want_grads = eager(lambda *v: run_recipe(recipe, *v), numbers)
    assert close(got, want) and close(program(numbers), want)
    assert all(close(g, w) for g, w in zip(grads, want_grads)), (grads, want_grads)
    assert len(set(program.input_names)) == count
    assert all(name.isidentifier() for name in program.input_names)


def test_a_label_that_looks_like_a_placeholder_is_a_name_like_any_other():
    # y = a·b − b/a at a = 0.5, b = 2: −3; ∂y/∂a = b + b/a² = 10, ∂y/∂b = a − 1/a = −1.5
    a, b = Value(0.5, "__b__"), Value(2.0, "q")
    program = compile(a * b - b / a, [a, b])
    assert program([0.5, 2.0]) == -3.0
    assert program.value_and_grad([0.5, 2.0]) == (-3.0, [10.0, -1.5])


def test_labels_python_reads_as_the_same_name_get_two_variables():
    # ﬁ and fi are one identifier to Python (NFKC): two inputs must stay two
    x, y = Value(1.0, "ﬁ"), Value(1.0, "fi")
    program = compile(x * 3 - y, [x, y])
    assert program.value_and_grad([2.0, 5.0]) == (1.0, [3.0, -1.0])
    assert len(set(program.input_names)) == 2


# ---- constants, frozen leaves, inputs as a subset ------------------------------------
def test_leaves_not_given_as_inputs_are_frozen_at_their_data():
    x, w, b = Value(2.0, "x"), Value(-0.5, "w"), Value(0.1, "b")
    y = (w * x + b).tanh()
    program = compile(y, [w, b])
    x.data = 100.0                     # changing x afterwards does not reach the program
    out, (dw, db) = program.value_and_grad([0.3, -0.2])
    t = math.tanh(0.3 * 2.0 - 0.2)
    assert close(out, t)
    assert close(dw, (1 - t * t) * 2.0) and close(db, 1 - t * t)


def test_data_points_frozen_and_parameters_as_inputs():
    # L = Σ (w·xᵢ − yᵢ)²  ⇒  dL/dw = Σ 2 (w·xᵢ − yᵢ) xᵢ
    xs, ys = [1.0, 2.0, -1.5], [0.5, 1.0, 0.0]
    w = Value(0.3, "w")
    loss = sum(((w * Value(x)) - y) ** 2 for x, y in zip(xs, ys))
    program = compile(loss, [w])
    out, [g] = program.value_and_grad([1.7])
    assert close(out, sum((1.7 * x - y) ** 2 for x, y in zip(xs, ys)))
    assert close(g, sum(2 * (1.7 * x - y) * x for x, y in zip(xs, ys)))


def test_a_single_input_may_be_given_without_a_list():
    x = Value(1.0)
    program = compile(x * x * x, x)
    out, [g] = program.value_and_grad([2.0])
    assert out == 8.0 and g == 12.0


def test_the_output_may_be_the_input_itself():
    x = Value(1.0)
    assert compile(x, [x]).value_and_grad([4.5]) == (4.5, [1.0])


def test_an_input_with_no_path_carrying_gradient_gets_zero():
    # z = relu(x)·0 + y: the path through x multiplies by the constant 0
    x, y = Value(1.0), Value(2.0)
    program = compile(x.relu() * 0.0 + y, [x, y])
    assert program.value_and_grad([3.0, 1.0]) == (1.0, [0.0, 1.0])


def test_int_numbers_are_accepted():
    x = Value(1.0)
    program = compile(x * x + 1, [x])
    assert program.value_and_grad([3]) == (10.0, [6.0])
    assert program([3]) == 10.0 and type(program([3])) is float


# ---- branches are decided again on the new numbers -----------------------------------
@pytest.mark.parametrize("at, numbers", [(0.5, -0.7), (-0.5, 0.7), (0.5, 0.0), (-2.0, -3.0)])
def test_relu_branch_is_decided_on_the_new_numbers(at, numbers):
    # y = relu(3x) + x:  dy/dx = 3·[3x > 0] + 1 (ReLU′(0) = 0)
    (out, [g]), _ = compiled_at(lambda x: (3 * x).relu() + x, [at], [numbers])
    assert out == max(0.0, 3 * numbers) + numbers
    assert g == (3.0 if 3 * numbers > 0 else 0.0) + 1.0


def test_python_control_flow_at_build_time_is_frozen_but_relu_is_not():
    # |z| two ways, built at z = 2: by an `if` on .data (frozen: the program is z),
    # and by ReLUs (re-decided: the program is |z| at every call)
    z = Value(2.0, "z")
    by_if = compile(z if z.data > 0 else -z, [z])
    by_relu = compile(z.relu() + (-z).relu(), [z])
    assert by_if.value_and_grad([-3.0]) == (-3.0, [1.0])           # the branch taken at 2
    assert by_relu.value_and_grad([-3.0]) == (3.0, [-1.0])         # d|z|/dz = sign z
    assert "frozen into the program" in " ".join(compile.__doc__.split())


def test_relu_in_a_hidden_layer_flips_with_the_inputs():
    def build(w1, w2, b):
        return (w1 * 1.5 + w2 * -2.0 + b).relu() * (w1 - w2)
    for numbers in ([1.0, 0.1, 0.0], [-1.0, 0.1, 0.0], [0.0, 0.0, 0.0], [0.2, 0.5, 2.0]):
        assert_same(build, [0.4, -0.3, 0.1], numbers)


# ---- the program never makes a Value, never touches a .grad -------------------------
def test_running_a_program_creates_no_value_and_leaves_grads_alone():
    x, w, c = Value(0.5, "x"), Value(2.0, "w"), Value(3.0, "c")
    y = (x * w + c).sigmoid() * c
    y.backward()
    before = {v: v.grad for v in (x, w, c, y)}
    program = compile(y, [x, w])
    gc.collect()
    count = sum(issubclass(type(o), Value) for o in gc.get_objects())  # no __class__ lookups
    for _ in range(3):
        program.value_and_grad([1.0, -1.0])
        program([0.2, 0.3])
    assert sum(issubclass(type(o), Value) for o in gc.get_objects()) == count
    assert {v: v.grad for v in (x, w, c, y)} == before
    assert (x.data, w.data, c.data) == (0.5, 2.0, 3.0)


# ---- an MLP trained for a few steps: eager and compiled agree step for step ----------
def small_mlp(rng: random.Random, sizes=(2, 4, 3, 1)):
    return [[([Value(rng.uniform(-1, 1), f"L{n}.N{j + 1}.w{k + 1}") for k in range(nin)],
              Value(0.0, f"L{n}.N{j + 1}.b")) for j in range(nout)]
            for n, (nin, nout) in enumerate(zip(sizes[:-1], sizes[1:]), start=1)]


def mlp_loss(layers, xs, ys):
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    losses = []
    for row, y in zip(xs, ys):
        x = [Value(v) for v in row]
        for i, layer in enumerate(layers):
            acts = [sum((w * v for w, v in zip(ws, x)), b) for ws, b in layer]
            x = [a.relu() for a in acts] if i < len(layers) - 1 else acts
        losses.append((1 + -y * x[0]).relu())
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params), params


def test_mlp_training_steps_match_eager():
    rng = random.Random(3)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(12)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    layers = small_mlp(rng)
    loss, params = mlp_loss(layers, xs, ys)
    program = compile(loss, params)
    numbers = [p.data for p in params]
    for _ in range(5):
        out, grads = program.value_and_grad(numbers)
        numbers = [x - 0.05 * g for x, g in zip(numbers, grads)]
        # eager: the graph built afresh at the current parameters
        eager_loss, eager_params = mlp_loss(layers, xs, ys)
        for p in eager_params:
            p.grad = 0.0
        eager_loss.backward()
        assert close(out, eager_loss.data)
        for g, p in zip(grads, eager_params):
            assert close(g, p.grad)
        for p in eager_params:
            p.data -= 0.05 * p.grad
    assert all(close(x, p.data) for x, p in zip(numbers, params))


def test_extra_nodes_are_returned_at_the_new_numbers():
    # loss = Σ (w·xᵢ − yᵢ)² with the predictions w·xᵢ asked for as extras
    xs, ys = [1.0, -2.0], [0.5, 1.0]
    w, c = Value(0.3, "w"), Value(7.0, "c")
    predictions = [w * x for x in xs]
    frozen = c * 2                                          # does not depend on w
    loss = sum((p - y) ** 2 for p, y in zip(predictions, ys)) + frozen
    program = compile(loss, [w], extra=[*predictions, frozen])
    out, [g], extra = program.value_and_grad([1.5])
    assert extra == [1.5 * 1.0, 1.5 * -2.0, 14.0]
    assert close(out, sum((1.5 * x - y) ** 2 for x, y in zip(xs, ys)) + 14.0)
    assert close(g, sum(2 * (1.5 * x - y) * x for x, y in zip(xs, ys)))
    assert program([1.5]) == out
    assert program.value_and_grad([3])[2][:2] == [3.0, -6.0]      # ints: computed as floats


def test_extra_must_be_a_node_of_the_graph():
    w, other = Value(0.3), Value(1.0)
    with pytest.raises(ValueError, match=r"extra\[0\].*not a node of the graph"):
        compile(w * 2, [w], extra=[other])
    with pytest.raises(TypeError, match=r"extra\[0\] must be a Value"):
        compile(w * 2, [w], extra=[1.0])


# ---- the source is readable ---------------------------------------------------------
def test_source_names_variables_after_labels():
    w, b = Value(0.5, "L1.N1.w1"), Value(0.0, "bias")
    x = Value(2.0, "x")
    y = (w * x + b).tanh()
    program = compile(y, [w, b])
    assert "L1_N1_w1, bias = numbers" in program.source
    assert "d_L1_N1_w1" in program.source and "d_bias" in program.source
    assert "tanh(" in program.source
    assert program.input_names == ("L1_N1_w1", "bias")
    assert "x" not in program.input_names          # a frozen leaf is a number
    assert "2.0" in program.source


def test_labels_that_are_keywords_or_builtins_are_not_used_as_names():
    a, b = Value(1.0, "lambda"), Value(2.0, "len")
    program = compile(a * b, [a, b])
    assert program.value_and_grad([3.0, 4.0]) == (12.0, [4.0, 3.0])
    assert "lambda =" not in program.source and "len, " not in program.source


def test_powers_read_as_a_teacher_writes_them():
    # d(x²)/dx = 2x, d(x¹)/dx = 1, d(x³)/dx = 3x²: no "x ** 1.0", no "1.0 *"
    x = Value(1.5, "x")
    backward = {e: compile(x ** e, [x]).source.split("# backward")[1].split("except")[0]
                for e in (1, 2, 3)}
    assert "d_x = 2.0 * x * d_v1" in backward[2]
    assert "d_x = d_v1" in backward[1]
    assert "d_x = 3.0 * x ** 2.0 * d_v1" in backward[3]
    assert all("** 1.0" not in text and "1.0 *" not in text for text in backward.values())


@pytest.mark.parametrize("exponent", [0, 1, 2, -1, 0.5])
@pytest.mark.parametrize("x", [1.5, -2.0, 0.0, -0.0, math.inf, -math.inf, math.nan])
def test_simplified_powers_give_eager_mode_exactly(exponent, x):
    # exactly: x ** 1.0 is x and x ** 0.0 is 1.0 for every float, NaN and inf too
    # (a zero's sign aside: eager's .grad starts at +0.0 and adds)
    leaf = Value(1.0)
    program = compile(leaf ** exponent * 3.0, [leaf])
    try:
        fresh = Value(x)
        y = fresh ** exponent * 3.0
        y.backward()
        want = [y.data, fresh.grad]
    except (ArithmeticError, ValueError) as error:
        with pytest.raises(type(error)):
            program.value_and_grad([x])
        return
    out, [g] = program.value_and_grad([x])
    for got, expected in zip([out, g], want):
        assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_relu_backward_is_written_as_a_branch():
    x = Value(1.0, "x")
    program = compile((x * 2).relu(), [x])
    assert "if" in program.source.split("# backward")[1]


# ---- errors -------------------------------------------------------------------------------
def test_an_input_that_is_not_a_leaf_is_rejected():
    x = Value(1.0, "x")
    h = x * 2
    with pytest.raises(ValueError, match=r"inputs\[0\].*not a leaf.*mul"):
        compile(h + 1, [h])


def test_an_input_outside_the_graph_is_rejected():
    x, other = Value(1.0, "x"), Value(2.0, "other")
    with pytest.raises(ValueError, match=r"inputs\[1\].*'other'.*does not depend"):
        compile(x * 3, [x, other])


def test_the_same_input_twice_is_rejected():
    x = Value(1.0, "x")
    with pytest.raises(ValueError, match="twice"):
        compile(x * 3, [x, x])


def test_non_values_are_type_errors():
    x = Value(1.0)
    with pytest.raises(TypeError, match="output must be a Value"):
        compile(3.0, [x])
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Value"):
        compile(x * 2, [1.0])


@pytest.mark.parametrize("numbers", [[1.0], [1.0, 2.0, 3.0], []])
def test_the_wrong_count_of_numbers_is_a_value_error(numbers):
    x, y = Value(1.0, "x"), Value(2.0, "y")
    program = compile(x * y, [x, y])
    with pytest.raises(ValueError, match=rf"expected 2 numbers \(one per input: x, y\), "
                                         rf"got {len(numbers)}"):
        program.value_and_grad(numbers)
    with pytest.raises(ValueError, match="expected 2 numbers"):
        program(numbers)


def test_numbers_that_are_not_real_are_a_type_error():
    x = Value(1.0, "x")
    program = compile(x * 2, [x])
    with pytest.raises(TypeError, match=r"numbers\[0\]: expected a real number"):
        program.value_and_grad(["1.0"])
    with pytest.raises(TypeError, match=r"numbers\[0\]: expected a real number"):
        program([Value(1.0)])


def eager_error(build, numbers):
    with pytest.raises(Exception) as info:
        build(*[Value(x, f"x{i}") for i, x in enumerate(numbers)]).backward()
    return info.value


@pytest.mark.parametrize("build, at, bad, kind, words", [
    (lambda x: (x - 1).log(), [3.0], [1.0], DomainError, "log: cannot compute log(0.0)"),
    (lambda x: 1 / (x - 1), [3.0], [1.0], DivisionByZeroError, "div: cannot compute"),
    (lambda x: (x * 2).exp(), [1.0], [400.0], NumberOverflowError, "exp"),
    (lambda x: x * x * x, [1.0], [1e200], NumberOverflowError, "mul"),
])
def test_domain_errors_name_the_op_as_eager_mode_does(build, at, bad, kind, words):
    leaves = [Value(x, f"x{i}") for i, x in enumerate(at)]
    program = compile(build(*leaves), leaves)
    with pytest.raises(kind, match=None) as info:
        program.value_and_grad(bad)
    assert words in str(info.value)
    assert type(eager_error(build, bad)) is kind


@pytest.mark.parametrize("build, at, bad", [
    (lambda x: (x - 1).log(), [3.0], [1.0]),
    (lambda x, y: x / (y - x), [3.0, 1.0], [2.0, 2.0]),
    (lambda x: x * x * x, [1.0], [1e200]),
    (lambda x: (x - 1) ** 0.5, [3.0], [1.0]),
    # forward finite, the gradient not: 1e200 · ½ x^−½ at the smallest float
    (lambda x: x ** 0.5 * 1e200, [1.0], [5e-324]),
])
def test_a_program_raises_the_error_eager_mode_raises_word_for_word(build, at, bad):
    leaves = [Value(x, f"x{i}") for i, x in enumerate(at)]
    program = compile(build(*leaves), leaves)
    with pytest.raises(Exception) as info:
        program.value_and_grad(bad)
    with pytest.raises(Exception) as eager_info:
        fresh = [Value(x, f"x{i}") for i, x in enumerate(bad)]
        engine.grad(build(*fresh), fresh)
    assert type(info.value) is type(eager_info.value)
    assert str(info.value) == str(eager_info.value)


# x·x overflows at 1e200, but the op after it squashes the inf to a finite number:
# eager mode stops at the overflow, and so must the program (value and forward).
@pytest.mark.parametrize("build", [
    lambda x: (x * x).tanh(),
    lambda x: (x * x).sigmoid(),
    lambda x: (-(x * x)).exp(),
    lambda x: (-(x * x)).relu(),
    lambda x: 1.0 / (x * x),
    lambda x: (x * x) ** -1,
])
def test_an_overflow_squashed_by_a_later_op_is_eager_modes_error(build):
    x = Value(1.0, "x0")
    program = compile(build(x), [x])
    with pytest.raises(Exception) as eager_info:
        build(Value(1e200, "x0"))
    assert type(eager_info.value) is NumberOverflowError
    for run in (program.value_and_grad, program):
        with pytest.raises(OverflowError) as info:
            run([1e200])
        assert str(info.value) == str(eager_info.value)


# The gradient overflows on its way back (1e200 · 1e200), then an edge drops it before
# it reaches an input: ReLU′ = 0 at x < 0, or the local derivative 0.0 of x·0.0. Eager
# mode refuses the overflow; the program, whose returned gradients are finite, must too.
@pytest.mark.parametrize("build, at, bad", [
    (lambda x: x.relu() * 1e200 * 1e200, [1e-200], [-1.0]),
    (lambda x: x * 0.0 * 1e200 * 1e200 + x, [1.0], [1.0]),
    (lambda x, y: (x * y).relu() * 1e200 * 1e200 + y, [1e-200, 1.0], [-1.0, 1.0]),
])
def test_a_gradient_overflow_dropped_on_the_way_back_is_eager_modes_error(build, at, bad):
    leaves = [Value(x, f"x{i}") for i, x in enumerate(at)]
    program = compile(build(*leaves), leaves)
    with pytest.raises(OverflowError) as eager_info:
        fresh = [Value(x, f"x{i}") for i, x in enumerate(bad)]
        engine.grad(build(*fresh), fresh)
    assert "grad produced inf" in str(eager_info.value)
    with pytest.raises(OverflowError) as info:
        program.value_and_grad(bad)
    assert str(info.value) == str(eager_info.value)
    # the value alone is fine, in eager mode and in the program
    assert program(bad) == build(*[Value(x) for x in bad]).data


def test_infinity_given_to_a_squashing_op_gives_eager_modes_numbers():
    x = Value(1.0, "x")
    program = compile((x * 2.0).tanh(), [x])
    eager_x = Value(math.inf, "x")
    eager_out = (eager_x * 2.0).tanh()
    assert program.value_and_grad([math.inf]) == (eager_out.data, engine.grad(eager_out, [eager_x]))


def test_an_error_is_explained_at_the_numbers_the_program_froze():
    # x is frozen at 2.0; changing it afterwards changes neither the program nor
    # the op its error names
    w, x = Value(3.0, "w"), Value(2.0, "x")
    program = compile((w - x).log(), [w])
    x.data = 100.0
    with pytest.raises(ValueError, match=r"log: cannot compute log\(0\.0\)"):
        program.value_and_grad([2.0])


def test_forward_only_raises_for_forward_errors_but_not_derivative_ones():
    x = Value(3.0, "x")
    program = compile((x - 1) ** 0.5, [x])
    assert program([1.0]) == 0.0                   # the value is fine; its slope is not
    with pytest.raises(ValueError, match="log"):
        compile((x - 1).log(), [x])([1.0])


def test_infinity_given_as_a_number_flows_through_as_in_eager_mode():
    x = Value(1.0)
    program = compile(x * 2 + 1, [x])
    out, [g] = program.value_and_grad([math.inf])
    assert out == math.inf and g == 2.0


def eager_value_and_grad(build, numbers):
    """Output and gradients by ``engine.grad`` (eager mode's numbers, never the program's)."""
    leaves = [Value(x, f"x{i}") for i, x in enumerate(numbers)]
    out = build(*leaves)
    return out.data, engine.grad(out, leaves)


# Where no gradient reaches a node, eager mode skips its local derivative; the
# program evaluates it, and at these numbers that rule raises (½·0^−½, (−1e−200)^−2).
@pytest.mark.parametrize("build, at, bad", [
    (lambda x: (x ** 0.5 - 5.0).relu(), [1.0], [0.0]),
    (lambda x: (x ** -1).relu(), [-1.0], [-1e-200]),
    (lambda x, y: (x ** 0.5 - 5.0).relu() + x * y, [1.0, 2.0], [0.0, 3.0]),
])
def test_a_rule_that_raises_where_no_gradient_flows_gives_eager_modes_result(build, at, bad):
    leaves = [Value(x, f"x{i}") for i, x in enumerate(at)]
    program = compile(build(*leaves), leaves)
    want = eager_value_and_grad(build, bad)
    assert program.value_and_grad(bad) == want
    assert program(bad) == want[0]


# An infinite local derivative (−a/b² at b = 1e−200 overflows) times the zero
# gradient ReLU passes back is NaN in the program; eager mode passes nothing on.
@pytest.mark.parametrize("build, at, bad", [
    (lambda a, b: (-(a / b)).relu(), [1.0, 1.0], [1.0, 1e-200]),
    (lambda a, b: (-(a / b)).relu() + a * b, [1.0, 1.0], [1.0, 1e-200]),
])
def test_an_infinite_local_derivative_times_a_zero_gradient_is_eager_modes_zero(build, at, bad):
    leaves = [Value(x, f"x{i}") for i, x in enumerate(at)]
    program = compile(build(*leaves), leaves)
    out, grads = program.value_and_grad(bad)
    want_out, want_grads = eager_value_and_grad(build, bad)
    assert out == want_out
    assert all(math.isfinite(g) for g in want_grads)
    assert grads == want_grads
    # the sign of each zero too: the slow path's numbers are eager mode's own
    assert [math.copysign(1.0, g) for g in grads] == [math.copysign(1.0, g) for g in want_grads]


def test_extra_values_come_back_when_eager_mode_answers_for_the_program():
    x = Value(1.0, "x")
    root = x ** 0.5
    program = compile((root - 5.0).relu(), [x], extra=[root])
    out, grads, extra = program.value_and_grad([0.0])
    assert (out, grads, extra) == (0.0, [0.0], [0.0])          # √0 = 0, ReLU(−5) = 0


def test_compiling_again_and_again_leaves_the_module_caches_as_they_were():
    # each compile freezes new data points into its program; what it caches about
    # them must go with it, not pile up in the module across compiles
    module = sys.modules["engine.compile"]
    rng = random.Random(7)

    def compile_a_loss() -> None:
        w = Value(0.5, "w")
        loss = sum(((w * x) / (1.0 + x) - t) ** 2
                   for x, t in ((rng.random(), rng.random()) for _ in range(50)))
        compile(loss, [w]).value_and_grad([0.1])

    def sizes() -> dict[str, int]:
        return {name: len(value) for name, value in vars(module).items()
                if isinstance(value, (dict, set, list)) and not name.startswith("__")}

    compile_a_loss()                                    # the op table's rules, once
    before = sizes()
    for _ in range(4):
        compile_a_loss()
    assert sizes() == before


def test_repr_names_the_inputs():
    w = Value(1.0, "w")
    assert "inputs (w)" in repr(compile(w * Constant(2.0), [w]))


# ---- nn.fit(..., compile=True): the same training, through one program -------------
def _trained(compiled: bool, loss: str, X, y, nouts, epochs=8, optimizer="sgd"):
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, nouts, seed=5)
    params = model.parameters()
    opt = (nn.SGD(params, lr=0.1, momentum=0.9) if optimizer == "sgd"
           else nn.Adam(params, lr=0.01))
    history = nn.fit(model, X, y, loss, opt, epochs=epochs, progress=False, compile=compiled)
    return history, [p.data for p in params]


@pytest.mark.parametrize("loss, nouts, optimizer", [
    ("hinge", [8, 1], "sgd"), ("mse", [6, 6, 1], "adam"),
    ("softmax_cross_entropy", [8, 3], "sgd")])
def test_fit_compiled_trains_exactly_as_eager(loss, nouts, optimizer):
    nn = pytest.importorskip("nn")
    X, y = nn.datasets.moons(40, seed=1)
    if loss == "hinge":
        y = [1.0 if t == 1 else -1.0 for t in y]
    elif loss == "mse":
        y = [float(t) for t in y]
    eager_history, eager_params = _trained(False, loss, X, y, nouts, optimizer=optimizer)
    compiled_history, compiled_params = _trained(True, loss, X, y, nouts, optimizer=optimizer)
    assert len(compiled_history) == len(eager_history) == 8
    for got, want in zip(compiled_history.loss, eager_history.loss):
        assert close(got, want)
    assert compiled_history.accuracy == eager_history.accuracy
    for got, want in zip(compiled_params, eager_params):
        assert close(got, want)


def test_fit_compiled_needs_the_full_batch():
    nn = pytest.importorskip("nn")
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="compile=True.*drop batch_size"):
        nn.fit(model, X, y, "mse", nn.SGD(model.parameters(), lr=0.1), epochs=1,
               batch_size=2, progress=False, compile=True)


@pytest.mark.parametrize("bad", [True, False, "1.0", None, 1j])
def test_a_program_refuses_what_eager_mode_refuses(bad):
    x = Value(2.0, "x")
    program = compile(x * x + 1, [x])
    with pytest.raises(TypeError, match=r"numbers\[0\]: expected a real number"):
        program.value_and_grad([bad])
    with pytest.raises(TypeError, match=r"numbers\[0\]: expected a real number"):
        program([bad])
    with pytest.raises(TypeError):                     # eager mode: the same refusal
        Value(bad)
    assert program.value_and_grad([3]) == (10.0, [6.0])   # an int is a number


# ---- a program refuses what eager mode refuses, and takes what it takes --------------
@pytest.mark.parametrize("build, numbers", [
    (lambda a, b: a ** b, [0.0, 1.5]),                 # powv needs a > 0
    (lambda a, b: a ** b, [-2.0, 2.0]),
    (lambda a, b: abs(a ** 0.5) + b, [-4.0, 1.0]),     # √ of a negative: no complex detour
    (lambda a, b: (a - b).log(), [1.0, 2.0]),
])
def test_an_op_outside_its_domain_is_eager_modes_error_in_both_calls(build, numbers):
    leaves = [Value(1.5, "a"), Value(0.5, "b")]
    program = compile(build(*leaves), leaves)
    want = eager_error(build, numbers)
    assert type(want) is DomainError
    for call in (program, program.value_and_grad):
        with pytest.raises(DomainError) as info:
            call(numbers)
        assert str(info.value) == str(want).replace("('x0')", "('a')").replace("('x1')", "('b')")


def test_a_folded_domain_writes_no_check():
    x = Value(2.0, "x")
    program = compile(x ** 2 + (x ** 0.5), [x])
    assert program.source.count("raise DomainError") == 2      # x ** 0.5 only (two functions)


@pytest.mark.parametrize("numbers, kind, words", [
    (3.0, TypeError, "numbers must be a sequence"),
    ({0: 1.0}, TypeError, "got dict"),
    ("1", TypeError, "got str"),
    ([10 ** 400], NumberOverflowError, "10^400"),
    ([Value(1.0)], TypeError, "give its .data"),
])
def test_numbers_are_checked_as_eager_mode_checks_data(numbers, kind, words):
    x = Value(1.0, "x")
    program = compile(x * 2, [x])
    for call in (program, program.value_and_grad):
        with pytest.raises(kind, match=re.escape(words)):
            call(numbers)


def test_numbers_eager_mode_takes_a_program_takes():
    from fractions import Fraction
    x = Value(1.0, "x")
    program = compile(x * 2, [x])
    assert program.value_and_grad((Fraction(1, 4),)) == (0.5, [2.0])
    assert program.value_and_grad([3]) == (6.0, [2.0])


def test_compile_refuses_a_graph_of_nothing():
    x = Value(1.0, "x")
    with pytest.raises(ValueError, match="no inputs"):
        compile(x * 2, [])
    with no_grad():
        detached = x * 2
    with pytest.raises(ValueError, match="computed under no_grad"):
        compile(detached, [x])


def test_a_programs_source_is_shown_where_it_runs():
    x = Value(1.0, "x")
    program = compile((x * 3).tanh(), [x])
    source = inspect.getsource(program.value_and_grad)
    assert "def value_and_grad(numbers):" in source and "math.tanh" not in source
    assert "tanh(" in source and "d_x" in source
