"""A dropped graph is freed by reference counting alone: with the garbage collector
off, no Value of it survives ``del`` — after backward, grad(create_graph=True),
no_grad, detect_anomaly, or an op that raised — nor after a compiled program
of it is dropped."""

from __future__ import annotations

import gc
import math

import pytest

from engine import Value, compile, detect_anomaly, grad, no_grad


def live_values() -> int:
    return sum(issubclass(type(o), Value) for o in gc.get_objects())  # no __class__ lookups


@pytest.fixture
def gc_off():
    """Collector off for the test; ``live_values()`` before it starts."""
    gc.collect()
    gc.disable()
    try:
        yield live_values()
    finally:
        gc.enable()


def network(width=40, depth=6, seed_value=0.1):
    """A dense net of tanh layers (every node feeds many): width² · depth products."""
    xs = [Value(seed_value * (j + 1), f"x{j}") for j in range(width)]
    layer = xs
    for d in range(depth):
        layer = [sum((v * ((j + k + d) % 7 - 3) * 0.05 for k, v in enumerate(layer)),
                     Value(0.0)).tanh() for j in range(width)]
    loss = sum(layer, Value(0.0))
    return xs, loss


def test_a_big_graph_is_freed_after_backward(gc_off):
    xs, loss = network()
    loss.backward()
    assert live_values() - gc_off > 40 * 40 * 6            # the graph is there …
    assert any(x.grad != 0.0 for x in xs)
    del xs, loss
    assert live_values() == gc_off                          # … and then gone


def test_gradient_graphs_are_freed(gc_off):
    x, y = Value(0.3), Value(-1.1)
    f = (x * y).tanh() * x.exp() + y ** 2
    dx, dy = grad(f, [x, y], create_graph=True)
    second = grad(dx, [x, y], create_graph=True)
    assert math.isfinite(second[0].data)
    del x, y, f, dx, dy, second
    assert live_values() == gc_off


def test_graphs_made_in_no_grad_and_in_anomaly_mode_are_freed(gc_off):
    with no_grad():
        _, loss = network(width=10, depth=3)
        assert loss.is_leaf
    del loss, _
    with detect_anomaly():
        xs, loss = network(width=10, depth=3)
        loss.backward()
        assert hasattr(loss, "created_at")
    del xs, loss
    assert live_values() == gc_off


def test_a_failed_op_keeps_nothing_alive(gc_off):
    def fail():
        x = Value(0.0, "x")
        y = x * 3
        try:
            (y - y).log()
        except ValueError as error:
            return str(error)
    assert fail().startswith("log:")
    with detect_anomaly():
        with pytest.raises(FloatingPointError):
            inf = Value(math.inf)
            _ = inf - inf
    del inf
    assert live_values() == gc_off


def test_a_long_chain_is_freed(gc_off):
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0
    del x, y
    assert live_values() == gc_off


def test_a_compiled_program_and_its_graph_are_freed(gc_off):
    # every path of the program: forward, value_and_grad, ints (computed again as
    # floats), and an error explained by replaying the graph
    xs, loss = network(width=10, depth=3)
    program = compile((loss * loss).log(), xs)
    numbers = [x.data for x in xs]
    assert program(numbers) == program.value_and_grad(numbers)[0]
    assert program.value_and_grad([1] * len(xs))[0] == program([1.0] * len(xs))
    try:
        program.value_and_grad([0.0] * len(xs))               # log(0)
    except ValueError as error:
        assert str(error).startswith("log:")
    del xs, loss, program
    assert live_values() == gc_off


def test_training_with_fit_compile_keeps_no_graph_alive(gc_off):
    nn = pytest.importorskip("nn")
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], seed=0)
    history = nn.fit(model, X, y, "mse", nn.SGD(model.parameters(), lr=0.1), epochs=2,
                     progress=False, compile=True)
    assert len(history) == 2
    del model, history
    assert live_values() == gc_off
