"""order, backward, zero_grad and grad on the graph shapes that break naive engines.

Every expectation is derived by hand in the test (the chain rule written out) or
counted; none is a number copied from a run.
"""

from __future__ import annotations

import math

import pytest

import engine
from engine import Value, grad, order


def assert_topological(nodes, root):
    """Each node once, every input before the node it feeds, the root last."""
    assert nodes[-1] is root
    assert len(nodes) == len({id(n) for n in nodes})
    position = {id(n): k for k, n in enumerate(nodes)}
    for node in nodes:
        for child in node.inputs:
            assert position[id(child)] < position[id(node)]


# ---- shapes ------------------------------------------------------------------------
def test_a_times_a_keeps_both_operands():
    a = Value(3.0, "a")
    y = a * a
    assert y.inputs == (a, a)
    assert order(y) == [a, y]
    y.backward()
    assert a.grad == 2 * 3.0                          # d(a²)/da = 2a, both paths counted
    assert grad(a * a, a) == 6.0


def test_doubling_twice():
    a = Value(1.5, "a")
    b = a + a
    c = b + b
    assert order(c) == [a, b, c]
    c.backward()
    assert b.grad == 2.0                               # ∂c/∂b: b is used twice
    assert a.grad == 4.0                               # ∂c/∂a = ∂c/∂b · ∂b/∂a = 2 · 2


def test_diamond():
    # x feeds p = eˣ and q = 3x, which meet in r = p·q = 3x eˣ:  dr/dx = 3eˣ(1 + x)
    x = Value(0.4, "x")
    p = x.exp()
    q = x * 3
    r = p * q
    nodes = order(r)
    assert_topological(nodes, r)
    assert sum(n is x for n in nodes) == 1
    r.backward()
    assert p.grad == q.data and q.grad == p.data
    assert x.grad == pytest.approx(3 * math.exp(0.4) * (1 + 0.4), rel=1e-15)


def test_operand_order_matters_for_sub_div_and_pow():
    a, b = Value(5.0), Value(2.0)
    assert (a - b).data == 3.0 and (b - a).data == -3.0
    assert grad(a - b, [a, b]) == [1.0, -1.0]
    assert grad(a / b, [a, b]) == [1 / 2.0, -5.0 / 2.0 ** 2]
    assert grad(a ** b, [a, b]) == pytest.approx([2.0 * 5.0, 25.0 * math.log(5.0)], rel=1e-15)


def test_one_node_feeding_a_hundred_thousand():
    n = 100_000
    a = Value(2.0, "a")
    outputs = [a * k for k in range(n)]
    total = outputs[0]
    for out in outputs[1:]:
        total = total + out
    nodes = order(total)
    assert sum(node is a for node in nodes) == 1
    assert len(nodes) == 1 + n + n + (n - 1)          # a, n constants, n products, n−1 sums
    total.backward()
    assert a.grad == n * (n - 1) / 2                   # Σ k, exact: integers below 2⁵³
    assert total.data == 2.0 * n * (n - 1) / 2


def test_a_reused_constant_and_repeated_plain_numbers():
    # y = c·x + c·x² + c  ⇒  ∂y/∂c = x + x² + 1, ∂y/∂x = c + 2cx
    c, x = Value(3.0, "c"), Value(-1.5, "x")
    y = c * x + c * x * x + c
    y.backward()
    assert c.grad == -1.5 + 2.25 + 1
    assert x.grad == 3.0 + 2 * 3.0 * -1.5
    z = x * 2 + x * 2                                  # each 2 is its own Constant leaf
    twos = [n for n in order(z) if n.is_constant]
    assert len(twos) == 2 and all(t.data == 2.0 and t.label == "" for t in twos)
    assert grad(z, x) == 4.0


def test_a_million_node_chain():
    x = Value(0.5, "x")
    y = x
    for _ in range(1_000_000):
        y = -y                                          # (−1)^10⁶ = 1: y = x, dy/dx = 1
    assert y.data == 0.5
    nodes = order(y)                                    # no RecursionError
    assert len(nodes) == 1_000_001 and nodes[0] is x and nodes[-1] is y
    y.backward()
    assert x.grad == 1.0
    assert grad(y, x) == 1.0
    del nodes, y                                        # freeing it recurses in C: fine too


# ---- order ---------------------------------------------------------------------------
def test_order_of_a_leaf_is_the_leaf():
    x = Value(1.0)
    assert order(x) == [x]


def test_order_lists_only_what_the_root_depends_on():
    x, unrelated = Value(1.0), Value(2.0)
    _ = unrelated * x                                   # x also feeds another graph
    y = x.tanh() + x
    nodes = order(y)
    assert_topological(nodes, y)
    assert all(n is not unrelated for n in nodes)
    assert len(nodes) == 3


def test_order_of_a_wide_and_deep_mesh():
    # layer k+1 node j = layer k node j · layer k node (j+1) mod w: many shared paths
    width, depth = 8, 40
    layer = [Value(1.0 + 0.001 * j) for j in range(width)]
    leaves = list(layer)
    for _ in range(depth):
        layer = [(layer[j] * layer[(j + 1) % width]).tanh() for j in range(width)]
    root = layer[0]
    for v in layer[1:]:
        root = root + v
    nodes = order(root)
    assert_topological(nodes, root)
    assert len(nodes) == width + depth * width * 2 + (width - 1)
    assert all(any(n is leaf for n in nodes) for leaf in leaves)


# ---- backward semantics -----------------------------------------------------------------
def reused_graph():
    """f = (a·b + a)² · b with a = 2, b = 3 (integers: every gradient exact).
    u = ab + a = 8, f = u² b = 192;  ∂f/∂a = 2u b (b + 1) = 192,  ∂f/∂b = 2u b · a + u² = 160."""
    a, b = Value(2.0, "a"), Value(3.0, "b")
    u = a * b + a
    f = u * u * b
    return a, b, u, f


def test_backward_by_hand_on_a_graph_that_reuses_nodes():
    a, b, u, f = reused_graph()
    assert f.data == 192.0
    f.backward()
    assert (a.grad, b.grad, u.grad, f.grad) == (192.0, 160.0, 2 * 8.0 * 3.0, 1.0)


def test_backward_twice_doubles_leaves_exactly_and_recomputes_the_interior():
    a, b, u, f = reused_graph()
    f.backward()
    interior = [(n, n.grad) for n in order(f) if not n.is_leaf]
    f.backward()
    assert (a.grad, b.grad) == (2 * 192.0, 2 * 160.0)
    assert all(n.grad == g for n, g in interior)       # set afresh, not accumulated


def test_backward_from_another_root_resets_shared_interior_nodes():
    a, b, u, f = reused_graph()
    f.backward()
    g = u * 10                                         # shares u with f
    g.backward()
    assert u.grad == 10.0                              # ∂g/∂u, not ∂f/∂u + ∂g/∂u
    assert a.grad == 192.0 + 10.0 * (3.0 + 1)          # leaves keep accumulating


def test_zero_grad_clears_the_whole_graph():
    a, b, u, f = reused_graph()
    f.backward()
    f.zero_grad()
    assert all(n.grad == 0.0 for n in order(f))
    f.backward()
    assert (a.grad, b.grad) == (192.0, 160.0)
    engine.zero_grad(f)
    assert all(n.grad == 0.0 for n in order(f))


@pytest.mark.parametrize("seed", [2.5, -1, 0, Value(0.5)])
def test_backward_with_a_gradient_scales_every_gradient(seed):
    s = float(seed)
    a, b, u, f = reused_graph()
    f.backward(gradient=seed)
    assert (a.grad, b.grad, u.grad, f.grad) == (192.0 * s, 160.0 * s, 48.0 * s, s)


def test_backward_of_a_leaf_and_the_module_function():
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0
    y = x * x
    engine.backward(y, 0.5)
    assert x.grad == 1.0 + 0.5 * 2 * 4.0


def test_relu_at_zero_passes_no_gradient_inside_a_graph():
    x = Value(0.0)
    y = (x * 3).relu() + x                            # ReLU′(0) = 0: only the skip path
    y.backward()
    assert x.grad == 1.0


def test_user_can_set_grad_by_hand_as_micrograd_users_do():
    a, b, u, f = reused_graph()
    f.backward()
    for p in (a, b):
        p.grad = 0
    f.backward()
    assert (a.grad, b.grad) == (192.0, 160.0)


# ---- grad (functional) ------------------------------------------------------------------
def test_grad_touches_no_grad_attribute():
    a, b, u, f = reused_graph()
    assert grad(f, [a, b]) == [192.0, 160.0]
    assert all(n.grad == 0.0 for n in order(f))


def test_grad_of_one_value_and_of_a_list():
    a, b, u, f = reused_graph()
    assert grad(f, a) == 192.0
    assert grad(f, (b, a, b)) == [160.0, 192.0, 160.0]
    assert grad(f, []) == []
    assert grad(f, u) == 48.0                          # an interior node: ∂f/∂u = 2ub
    assert grad(f, f) == 1.0
    assert isinstance(grad(f, a), float)


def test_grad_of_a_node_the_output_does_not_depend_on_is_zero():
    a, b, u, f = reused_graph()
    stranger = Value(7.0)
    assert grad(f, stranger) == 0.0
    second = grad(f, stranger, create_graph=True)
    assert isinstance(second, Value) and second.data == 0.0


def test_grad_create_graph_gives_differentiable_values():
    # f = x³ y:  ∂f/∂x = 3x² y, ∂²f/∂x² = 6xy, ∂²f/∂x∂y = 3x²
    x, y = Value(1.5), Value(-2.0)
    f = x ** 3 * y
    dx, dy = grad(f, [x, y], create_graph=True)
    assert isinstance(dx, Value) and isinstance(dy, Value)
    assert dx.data == 3 * 1.5 ** 2 * -2.0 and dy.data == 1.5 ** 3
    assert grad(dx, [x, y]) == [6 * 1.5 * -2.0, 3 * 1.5 ** 2]
    dx.backward()                                      # a gradient graph has a backward too
    assert x.grad == 6 * 1.5 * -2.0 and y.grad == 3 * 1.5 ** 2


def test_grad_create_graph_of_a_reused_graph_matches_the_float_path():
    a, b, u, f = reused_graph()
    as_values = grad(f, [a, b], create_graph=True)
    assert [g.data for g in as_values] == grad(f, [a, b])


def test_newton_steps_with_second_derivatives():
    # minimise φ(x) = x⁴ − 3x: φ′ = 4x³ − 3, φ″ = 12x²; the minimum is at (3/4)^(1/3)
    x0 = 1.0
    for _ in range(20):
        x = Value(x0)
        phi = x ** 4 - 3 * x
        d1 = grad(phi, x, create_graph=True)
        d2 = grad(d1, x)
        x0 -= d1.data / d2
    assert x0 == pytest.approx(0.75 ** (1 / 3), rel=1e-14)


# ---- backward and grad: one sweep, so they refuse the same things ----------------------
def run_backward(y, x):
    y.backward()
    return x.grad


def run_grad(y, x):
    return grad(y, x)


def run_grad_create_graph(y, x):
    return grad(y, x, create_graph=True)


SWEEPS = [run_backward, run_grad, run_grad_create_graph]


@pytest.mark.parametrize("run", SWEEPS)
def test_an_infinite_local_gradient_is_refused_when_it_is_propagated(run):
    # d ln x/dx = 1/x = 1e310 at x = 1e-310: more than a float holds
    x = Value(1e-310, "x")
    y = x.log()
    assert math.isfinite(y.data)
    with pytest.raises(OverflowError) as info:
        run(y, x)
    message = str(info.value)
    assert message.startswith("log:") and "a = 1e-310 ('x')" in message
    assert "detect_anomaly()" in message
    assert x.grad == 0.0                                   # a refused sweep writes nothing


@pytest.mark.parametrize("run", SWEEPS)
def test_a_sum_of_finite_steps_that_overflows_is_refused(run):
    # two paths, each bringing 1/x = 1e308 into x: 2e308 is more than a float holds
    x = Value(1e-308, "x")
    y = x.log() + x.log()
    with pytest.raises(OverflowError) as info:
        run(y, x)
    assert str(info.value).startswith("log:") and "('x')" in str(info.value)


@pytest.mark.parametrize("run", SWEEPS)
def test_detect_anomaly_checks_grad_as_it_checks_backward(run):
    x = Value(1e-300, "x")
    y = x.log() * 1e10                                     # 1/x · 1e10 = 1e310 in backward
    with engine.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        run(y, x)
    assert str(info.value).startswith("log:") and "made outside detect_anomaly()" in str(info.value)


@pytest.mark.parametrize("run", SWEEPS)
def test_an_inf_the_user_put_in_flows_back_silently_as_it_flows_forward(run):
    # y = x·w with x = inf: ∂y/∂w = x = inf is the user's choice, as y = inf is
    x, w = Value(math.inf), Value(2.0)
    g = run(x * w, w)
    assert (g.data if isinstance(g, Value) else g) == math.inf


def test_create_graph_under_no_grad_still_builds_a_differentiable_gradient():
    # y = x³: y′ = 3x², y″ = 6x, asked for inside no_grad (PyTorch's rule too)
    x = Value(1.5)
    y = x ** 3
    with engine.no_grad():
        d1 = grad(y, x, create_graph=True)
        assert not engine.is_grad_enabled()
    assert d1.data == 3 * 1.5 ** 2 and not d1.is_leaf
    assert grad(d1, x) == 6 * 1.5
