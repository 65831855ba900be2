"""no_grad / enable_grad and detect_anomaly: what they record, how they nest, and
that a thread or an asyncio task switching a mode never leaks it into another."""

from __future__ import annotations

import asyncio
import math
import os
import threading

import pytest

from engine import (
    Detached,
    Value,
    detect_anomaly,
    enable_grad,
    exp,
    grad,
    is_grad_enabled,
    no_grad,
    order,
)

HERE = os.path.abspath(__file__)


def recorded(v: Value) -> bool:
    return v.op is not None and len(v.inputs) > 0


# ---- no_grad ------------------------------------------------------------------------
def test_results_under_no_grad_are_leaves_with_the_right_data():
    x = Value(0.5, "x")
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 3 + 1).tanh()
        z = exp(x) ** 2 + x ** Value(2.0) - 1 / x
    assert is_grad_enabled()
    assert y.is_leaf and y.inputs == () and y.local_grads == () and y.op is None
    assert z.is_leaf
    assert y.data == math.tanh(2.5)
    assert z.data == pytest.approx(math.exp(1.0) + 0.25 - 2.0, rel=1e-15)
    assert isinstance(y, Detached) and isinstance(z, Detached)
    with pytest.raises(ValueError, match=r"backward: .* computed under no_grad\(\)"):
        y.backward()                                   # nothing to differentiate: say so
    with pytest.raises(ValueError, match=r"grad: .* computed under no_grad\(\)"):
        grad(y, x)
    assert x.grad == 0.0 and order(y) == [y]          # nothing flowed back to x


def test_a_no_grad_result_is_a_constant_in_a_recorded_graph():
    x = Value(0.5, "x")
    with no_grad():
        c = x * 4.0                                    # c = 2, recorded as a plain leaf
    y = c * x
    y.backward()
    assert y.data == 1.0 and x.grad == c.data == 2.0 and c.grad == 0.5


def test_a_graph_mixing_both_modes_differentiates_the_recorded_part():
    # y = w · c where c = x² was made under no_grad: ∂y/∂w = c, ∂y/∂x = 0
    w, x = Value(3.0), Value(2.0)
    with no_grad():
        c = x * x
    y = w * c
    assert grad(y, [w, x]) == [4.0, 0.0]


def test_nesting_and_enable_grad():
    x = Value(1.0)
    with no_grad():
        with no_grad():
            assert not recorded(x + 1)
        assert not recorded(x + 1)
        with enable_grad():
            assert is_grad_enabled() and recorded(x + 1)
            with no_grad():
                assert not recorded(x + 1)
            assert recorded(x + 1)
        assert not recorded(x + 1)
    assert recorded(x + 1)


def test_the_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with no_grad():
            Value(-1.0).log()
    assert is_grad_enabled() and recorded(Value(1.0) * 2)


def test_a_thread_in_no_grad_does_not_affect_another_thread():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def quiet():
        with no_grad():
            inside.set()
            done.wait(5)
            seen["quiet"] = recorded(Value(1.0) * 2)     # still off here, after the other ran

    def busy():
        inside.wait(5)
        seen["busy"] = recorded(Value(1.0) * 2)          # while the other sits in no_grad
        seen["busy enabled"] = is_grad_enabled()
        done.set()

    threads = [threading.Thread(target=quiet), threading.Thread(target=busy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"quiet": False, "busy": True, "busy enabled": True}
    assert is_grad_enabled()                              # nor the main thread


def test_asyncio_tasks_do_not_leak_modes_into_each_other():
    async def main():
        inside, done = asyncio.Event(), asyncio.Event()

        async def quiet():
            with no_grad():
                inside.set()
                await done.wait()                        # the other task runs meanwhile
                return recorded(Value(1.0) * 2)

        async def busy():
            await inside.wait()
            result = recorded(Value(1.0) * 2), is_grad_enabled()
            done.set()
            return result

        return await asyncio.gather(quiet(), busy())

    assert asyncio.run(main()) == [False, (True, True)]


# ---- detect_anomaly -------------------------------------------------------------------
def make_nan(x):
    return x - x


def make_log(x):
    return x.log() * 1e10


def test_a_nan_in_forward_names_the_op_the_inputs_and_the_users_line():
    x = Value(math.inf, label="x")
    assert math.isnan(make_nan(x).data)                   # outside the mode: the user's choice
    with detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            make_nan(x)
    message = str(info.value)
    line = make_nan.__code__.co_firstlineno + 1
    assert message.startswith("sub:")
    assert "a = inf ('x'), b = inf ('x')" in message
    assert f"{HERE}:{line} in make_nan: return x - x" in message


def test_an_inf_in_backward_names_the_op_the_inputs_and_the_users_line():
    # ln x at 1e-300 has local gradient 1/x = 1e300; times the 1e10 upstream: inf
    with detect_anomaly():
        x = Value(1e-300)
        y = make_log(x)
        assert math.isfinite(y.data)
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    message = str(info.value)
    line = make_log.__code__.co_firstlineno + 1
    assert message.startswith("log: backward produced inf") and "op inputs: a = 1e-300" in message
    assert f"{HERE}:{line} in make_log" in message


def test_an_overflowing_sum_of_finite_steps_is_caught_in_backward():
    x = Value(1.0)
    with detect_anomaly():
        y = x * 1e300 + x * 1e300                          # each path brings 1e308 with 1e8
        with pytest.raises(FloatingPointError) as info:
            y.backward(1e8)
    assert str(info.value).startswith("mul:") and HERE in str(info.value)


def overflow(x):
    return x * 1e300


def test_an_overflow_in_forward_names_the_users_line_under_anomaly_mode():
    x = Value(1e10, "x")
    with pytest.raises(OverflowError) as plain:
        overflow(x)
    assert "created at" not in str(plain.value)           # no stack walk outside the mode
    with detect_anomaly(), pytest.raises(OverflowError) as info:
        overflow(x)
    line = overflow.__code__.co_firstlineno + 1
    assert str(info.value).startswith("mul:") and "a = 10000000000.0 ('x')" in str(info.value)
    assert f"{HERE}:{line} in overflow" in str(info.value)


def test_nodes_made_outside_the_mode_are_reported_as_such():
    x = Value(1e-300)
    y = make_log(x)
    with detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    assert "made outside detect_anomaly()" in str(info.value)


def test_anomaly_mode_changes_no_value_and_no_gradient():
    def f(a, b):
        return (a * b + a.exp()).tanh() / (b ** 2 + 1) + a.relu() - (-b).sigmoid()

    a, b = Value(0.3), Value(-1.2)
    plain = f(a, b)
    want = grad(plain, [a, b])
    with detect_anomaly():
        traced = f(a, b)
        assert hasattr(traced, "created_at") and HERE in traced.created_at
        assert traced.data == plain.data
        assert grad(traced, [a, b]) == want
        traced.backward()
    assert [a.grad, b.grad] == want


def test_anomaly_and_no_grad_combine():
    x = Value(2.0)
    with detect_anomaly(), no_grad():
        y = x * 3
        assert y.is_leaf and y.data == 6.0
        with pytest.raises(FloatingPointError):
            Value(math.inf) * 0
    assert recorded(x * 3)


@pytest.mark.parametrize("modes", [(detect_anomaly, no_grad), (no_grad, detect_anomaly)])
def test_a_no_grad_result_under_anomaly_mode_is_detached_and_refuses_backward(modes):
    x = Value(2.0, "x")
    outer, inner = modes
    with outer(), inner():
        y = x * 3
    assert type(y) is Detached
    with pytest.raises(ValueError, match="computed under no_grad"):
        y.backward()
    with pytest.raises(ValueError, match="computed under no_grad"):
        grad(y, x)
    assert x.grad == 0.0


def test_anomaly_mode_is_per_thread():
    seen = {}

    def other():
        seen["nan"] = math.isnan((Value(math.inf) - Value(math.inf)).data)

    with detect_anomaly():
        t = threading.Thread(target=other)
        t.start()
        t.join(10)
    assert seen == {"nan": True}


# ---- generators: a mode entered inside one ------------------------------------------
def quiet_batches():
    with no_grad():
        yield 1
        yield 2


def test_a_generator_suspended_in_no_grad_is_undone_when_it_finishes():
    # Python runs a generator in its caller's context, so while it sits suspended
    # inside `with no_grad():` the caller is in no_grad too; finishing it restores.
    batches = quiet_batches()
    next(batches)
    assert not is_grad_enabled()
    assert list(batches) == [2]
    assert is_grad_enabled() and recorded(Value(1.0) * 2)


def test_closing_a_suspended_generator_elsewhere_neither_raises_nor_changes_that_mode():
    batches = quiet_batches()
    seen = {}

    def close_it():
        with no_grad():                                   # this thread's own mode
            batches.close()                               # the generator leaves no_grad here
            seen["inside"] = is_grad_enabled()
        seen["after"] = is_grad_enabled()

    def suspend_then_close_elsewhere():
        next(batches)
        t = threading.Thread(target=close_it)
        t.start()
        t.join(10)

    import contextvars
    contextvars.copy_context().run(suspend_then_close_elsewhere)
    assert seen == {"inside": False, "after": True}
    assert is_grad_enabled()


def test_a_generator_left_suspended_does_not_trap_the_caller_in_its_mode():
    # the caller enters and leaves its own block while the generator is suspended
    # inside `enable_grad()`; closing it afterwards must not bring back no_grad.
    def loud():
        with enable_grad():
            yield

    with no_grad():
        gen = loud()
        next(gen)
    assert is_grad_enabled()
    gen.close()
    assert is_grad_enabled()
